// resp_codec: the Redis serialization protocol (RESP2 and the RESP3 types) on the codec layer.
// It decodes replies and push messages into resp_value and encodes any resp_value (a command is
// an array of bulk strings: resp_value::command). Bounded by default on every axis a hostile or
// broken server could stretch: bulk length, nesting depth, element count, message size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "coronet/codec/decode_result.hpp"
#include "coronet/codec/resp_error.hpp"
#include "coronet/codec/resp_value.hpp"

namespace coronet {

/// Limits of a resp_codec. Every limit is on by default.
struct resp_codec_options {
  /// Longest bulk string, bulk error, verbatim string or line (simple string, error, double,
  /// big number) in bytes. Default 16 MiB (Redis itself accepts up to 512 MiB: raise it for
  /// values that large).
  std::size_t max_bulk_length = 16 * 1024 * 1024;
  /// Deepest nesting of aggregates (an array in an array is depth 2). Default 16; Redis's own
  /// replies nest at most 3 or 4 deep.
  std::size_t max_depth = 16;
  /// Most values one message may hold, nested ones included, counted from the declared
  /// aggregate lengths (so "*99999999" is refused at once). A decoded value costs about 80
  /// bytes of memory. Default 1,048,576.
  std::size_t max_elements = 1024 * 1024;
  /// Longest message on the wire in bytes, framing included. Default 64 MiB.
  std::size_t max_message_size = 64 * 1024 * 1024;
};

/// RESP2/RESP3 values over a byte stream.
///
/// Decoding yields owned resp_values. Attributes ('|') are read and dropped (the value they
/// annotate is yielded). Every error is unrecoverable (the framing is lost) and names its
/// resp_errc; every later decode repeats it until reset(). A value is parsed as its bytes
/// arrive: the codec keeps the partly built value, so a message split across any number of
/// reads costs O(n) in total.
/// Encoding writes the value's wire form; it refuses (resp_errc::unencodable, or the limit
/// error) what decode would not give back unchanged: CR or LF in a line type, a map with an odd
/// number of elements, a boolean other than 0/1, a verbatim string without its "fmt:" prefix,
/// a value beyond the limits.
class resp_codec {
 public:
  using message_type = resp_value;

  resp_codec() = default;
  explicit resp_codec(resp_codec_options options) : options_{options} {}

  /// Decodes the next complete value (see stream_codec for the buffer contract).
  decode_result<resp_value> decode(std::string_view buffered);

  /// Like decode(), but leftover bytes at end of stream are resp_errc::truncated.
  decode_result<resp_value> decode_eof(std::string_view buffered);

  /// Appends the wire form of `value` to `out`, or returns why it cannot (out unchanged).
  std::error_code encode(const resp_value& value, std::string& out) const;

  const resp_codec_options& options() const noexcept { return options_; }

  /// Forgets any partly decoded value and a lost framing: as freshly constructed.
  void reset() noexcept;

 private:
  // One aggregate being filled: its value and how many elements it still expects.
  struct open_aggregate {
    resp_value value;
    std::size_t missing = 0;
    bool attribute = false;  // '|': dropped once complete.
  };
  enum class step { value_done, aggregate_opened, need_more, failed };

  step parse_one(std::string_view buffered, resp_value& done);
  step fail(resp_errc error, std::string_view reason);
  // Appends `value` to the innermost open aggregate (closing those it completes); true when it
  // completed the top-level value, which is then in `value`.
  bool attach(resp_value& value);
  std::error_code encode_value(const resp_value& value, std::size_t depth, std::size_t& count,
                               std::string& out) const;

  resp_codec_options options_;
  std::size_t parsed_ = 0;        // Bytes of the current message already parsed.
  std::size_t line_scanned_ = 0;  // Bytes after parsed_ known to hold no line end.
  std::size_t values_ = 0;        // Values declared so far in the current message.
  std::vector<open_aggregate> open_;
  std::error_code failure_;
  std::string_view failure_reason_;
};

}  // namespace coronet
