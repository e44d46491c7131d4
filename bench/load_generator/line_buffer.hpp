// line_buffer: what the load generator reads lands here and is split into lines with memchr.
// Deliberately plain (no codec, no UTF-8 check), so the client spends little per message and
// the benchmark measures the server.
#pragma once

#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace load {

class line_buffer {
 public:
  /// `read_size`: free space offered to each read; `max_line`: a longer partial line is an
  /// error (see overflowed()), which bounds the buffer.
  line_buffer(std::size_t read_size, std::size_t max_line)
      : data_(read_size + max_line + 1), read_size_{read_size}, max_line_{max_line} {}

  /// Free space for the next read (compacts first when the tail is short).
  std::span<char> prepare() {
    if (data_.size() - end_ < read_size_) {
      std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      scanned_ -= begin_;
      begin_ = 0;
    }
    return {data_.data() + end_, data_.size() - end_};
  }

  void commit(std::size_t count) noexcept { end_ += count; }

  /// The next complete line without its '\n'; valid until the next prepare().
  std::optional<std::string_view> next_line() noexcept {
    const void* found = std::memchr(data_.data() + scanned_, '\n', end_ - scanned_);
    if (found == nullptr) {
      scanned_ = end_;
      return std::nullopt;
    }
    const char* newline = static_cast<const char*>(found);
    const std::string_view line{data_.data() + begin_,
                                static_cast<std::size_t>(newline - (data_.data() + begin_))};
    begin_ = scanned_ = static_cast<std::size_t>(newline - data_.data()) + 1;
    if (begin_ == end_) begin_ = scanned_ = end_ = 0;
    return line;
  }

  /// Whether an incomplete line has grown past max_line (the peer is not sending our lines).
  bool overflowed() const noexcept { return end_ - begin_ > max_line_; }

  /// The incomplete line buffered now, for error messages.
  std::string_view partial() const noexcept { return {data_.data() + begin_, end_ - begin_}; }

 private:
  std::vector<char> data_;
  std::size_t read_size_;
  std::size_t max_line_;
  std::size_t begin_ = 0;    // First unconsumed byte.
  std::size_t scanned_ = 0;  // Bytes before this hold no '\n' (from begin_).
  std::size_t end_ = 0;      // End of the bytes read.
};

}  // namespace load
