// The load generator's WebSocket client side: SHA-1 and Base64 for the handshake's check, the
// frame reader and writer, and the opening handshake.
#include "websocket_framing.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstring>
#include <random>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "common.hpp"
#include "messages.hpp"

namespace load {

namespace {

using namespace asio::experimental::awaitable_operators;

// SHA-1 (FIPS 180-4): only for checking the handshake's Accept, so plain and short.
std::array<std::uint8_t, 20> sha1(std::string_view text) {
  std::uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string message{text};
  message.push_back(static_cast<char>(0x80));
  while (message.size() % 64 != 56)
    message.push_back('\0');
  const std::uint64_t bits = static_cast<std::uint64_t>(text.size()) * 8;
  for (int i = 7; i >= 0; --i)
    message.push_back(static_cast<char>((bits >> (i * 8)) & 0xff));
  for (std::size_t chunk = 0; chunk < message.size(); chunk += 64) {
    std::uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(message.data() + chunk + i * 4);
      w[i] = std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 |
             std::uint32_t{p[3]};
    }
    for (int i = 16; i < 80; ++i)
      w[i] = std::rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      std::uint32_t f = 0, k = 0;
      if (i < 20) {
        f = (b & c) | (~b & d), k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d, k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d, k = 0xCA62C1D6;
      }
      const std::uint32_t next = std::rotl(a, 5) + f + e + k + w[i];
      e = d, d = c, c = std::rotl(b, 30), b = a, a = next;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  std::array<std::uint8_t, 20> digest{};
  for (int i = 0; i < 20; ++i)
    digest[i] = static_cast<std::uint8_t>(h[i / 4] >> (24 - 8 * (i % 4)));
  return digest;
}

std::string base64(std::span<const std::uint8_t> bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t left = bytes.size() - i;
    const std::uint32_t group = std::uint32_t{bytes[i]} << 16 |
                                (left > 1 ? std::uint32_t{bytes[i + 1]} << 8 : 0) |
                                (left > 2 ? std::uint32_t{bytes[i + 2]} : 0);
    out.push_back(alphabet[group >> 18 & 63]);
    out.push_back(alphabet[group >> 12 & 63]);
    out.push_back(left > 1 ? alphabet[group >> 6 & 63] : '=');
    out.push_back(left > 2 ? alphabet[group & 63] : '=');
  }
  return out;
}

// The masks' generator (xorshift64*), one per process: the load generator is single-threaded.
std::uint64_t next_random() {
  static std::uint64_t state = [] {
    std::random_device device;
    return (std::uint64_t{device()} << 32 | device()) | 1;
  }();
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1DULL;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// Whether a comma-separated header value holds `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
  while (true) {
    const std::size_t comma = value.find(',');
    if (equal_ignoring_case(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) return false;
    value.remove_prefix(comma + 1);
  }
}

// Checks the response head (status line and headers, without the blank line).
std::string check_response(std::string_view head, std::string_view key) {
  const std::size_t first_end = head.find("\r\n");
  const std::string_view status = head.substr(0, first_end);
  if (!status.starts_with("HTTP/1.1 101")) return "not a 101 response: " + excerpt(status);
  bool upgrade = false, connection = false;
  std::string accept;
  std::string_view rest = first_end == std::string_view::npos ? "" : head.substr(first_end + 2);
  while (!rest.empty()) {
    const std::size_t end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? "" : rest.substr(end + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return "malformed header " + excerpt(line);
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (equal_ignoring_case(name, "upgrade")) upgrade = equal_ignoring_case(value, "websocket");
    if (equal_ignoring_case(name, "connection")) connection = has_token(value, "upgrade");
    if (equal_ignoring_case(name, "sec-websocket-accept")) accept = value;
  }
  if (!upgrade) return "the 101 response has no 'Upgrade: websocket'";
  if (!connection) return "the 101 response has no 'Connection: Upgrade'";
  const std::string expected = websocket_accept_for(key);
  if (accept != expected) return "Sec-WebSocket-Accept '" + accept + "', expected " + expected;
  return {};
}

// Reads the response head into `head` (up to the blank line, at most 8 KiB); what follows it
// goes to `reader`. Returns an empty string or what went wrong.
asio::awaitable<std::string> read_response(stream& stream, websocket_reader& reader,
                                           std::string& head) {
  constexpr std::size_t max_head = 8 * 1024;
  std::string received;
  char chunk[2048];
  while (true) {
    const std::size_t blank = received.find("\r\n\r\n");
    if (blank != std::string::npos) {
      head = received.substr(0, blank);
      reader.preload(std::string_view{received}.substr(blank + 4));
      co_return std::string{};
    }
    if (received.size() > max_head) co_return std::string{"response head over 8 KiB"};
    auto [error, count] = co_await stream.async_read_some(asio::buffer(chunk), as_tuple);
    if (error) co_return "reading the handshake response: " + error.message();
    received.append(chunk, count);
  }
}

}  // namespace

std::string websocket_accept_for(std::string_view key) {
  std::string text{key};
  text += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  const auto digest = sha1(text);
  return base64(digest);
}

websocket_reader::websocket_reader(std::size_t read_size, std::size_t max_payload)
    : data_(read_size + max_payload + 14), read_size_{read_size}, max_payload_{max_payload} {}

void websocket_reader::preload(std::string_view bytes) {
  if (bytes.size() > data_.size() - end_) {
    problem_ = "the server sent " + std::to_string(bytes.size()) + " bytes after its response";
    return;
  }
  std::memcpy(data_.data() + end_, bytes.data(), bytes.size());
  end_ += bytes.size();
}

std::span<char> websocket_reader::prepare() {
  if (data_.size() - end_ < read_size_) {
    std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  return {data_.data() + end_, data_.size() - end_};
}

std::optional<std::string_view> websocket_reader::next() {
  if (!problem_.empty() || end_ - begin_ < 2) return std::nullopt;
  const auto* frame = reinterpret_cast<const unsigned char*>(data_.data() + begin_);
  const std::size_t available = end_ - begin_;
  if (frame[0] != 0x81) {  // FIN, no RSV bits, opcode 1 (text).
    const unsigned opcode = frame[0] & 0x0f;
    problem_ = opcode == 8
                   ? "the server sent a close frame"
                   : "expected a final text frame, got first byte " + std::to_string(frame[0]);
    return std::nullopt;
  }
  if ((frame[1] & 0x80) != 0) {
    problem_ = "the server masked a frame";
    return std::nullopt;
  }
  std::size_t header = 2;
  std::uint64_t length = frame[1] & 0x7f;
  if (length >= 126) {
    const std::size_t bytes = length == 126 ? 2 : 8;
    if (available < 2 + bytes) return std::nullopt;
    length = 0;
    for (std::size_t i = 0; i < bytes; ++i)
      length = length << 8 | frame[2 + i];
    header += bytes;
  }
  if (length > max_payload_) {
    problem_ = "a frame of " + std::to_string(length) + " bytes (expected at most " +
               std::to_string(max_payload_) + ")";
    return std::nullopt;
  }
  if (available < header + length) return std::nullopt;
  const std::string_view payload{data_.data() + begin_ + header, static_cast<std::size_t>(length)};
  begin_ += header + static_cast<std::size_t>(length);
  if (begin_ == end_) begin_ = end_ = 0;
  return payload;
}

void append_masked_text(std::string& out, std::string_view payload) {
  out.push_back(static_cast<char>(0x81));
  const std::size_t length = payload.size();
  if (length < 126) {
    out.push_back(static_cast<char>(0x80 | length));
  } else if (length < 65536) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(length >> 8));
    out.push_back(static_cast<char>(length & 0xff));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i)
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(length) >> (i * 8)) & 0xff));
  }
  const auto mask_word = static_cast<std::uint32_t>(next_random() >> 32);
  char mask[4];
  std::memcpy(mask, &mask_word, 4);
  out.append(mask, 4);
  const std::size_t at = out.size();
  out.resize(at + length);
  char* dest = out.data() + at;
  for (std::size_t i = 0; i < length; ++i)
    dest[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
}

asio::awaitable<std::string> websocket_handshake(stream& stream, websocket_reader& reader,
                                                 const options& options) {
  std::array<std::uint8_t, 16> nonce{};
  for (std::size_t i = 0; i < nonce.size(); i += 8) {
    const std::uint64_t bits = next_random();
    std::memcpy(nonce.data() + i, &bits, 8);
  }
  const std::string key = base64(nonce);
  const std::string request = "GET " + options.websocket_path +
                              " HTTP/1.1\r\nHost: " + options.host + ":" +
                              std::to_string(options.port) +
                              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: " +
                              key + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  asio::steady_timer timer{stream.get_executor(), options.connect_timeout};
  auto written = co_await (asio::async_write(stream, asio::buffer(request), as_tuple) ||
                           timer.async_wait(as_tuple));
  if (written.index() == 1) co_return std::string{"handshake request: timed out"};
  const std::error_code write_error = std::get<0>(std::get<0>(written));
  if (write_error) co_return "handshake request: " + write_error.message();
  std::string head;
  auto read = co_await (read_response(stream, reader, head) || timer.async_wait(as_tuple));
  if (read.index() == 1) co_return std::string{"handshake response: timed out"};
  const std::string failure = std::get<0>(std::move(read));
  if (!failure.empty()) co_return failure;
  if (!reader.problem().empty()) co_return reader.problem();
  co_return check_response(head, key);
}

}  // namespace load
