// Names of close reasons and decode error kinds, as metrics and logs spell them; the decode
// error counts' slots.
#include "coronet/connection_observer.hpp"

#include "coronet/error.hpp"

namespace coronet {
namespace {

std::string_view coronet_error_name(errc value) noexcept {
  switch (value) {
    case errc::frame_too_long:
      return "frame_too_long";
    case errc::invalid_utf8:
      return "invalid_utf8";
    case errc::bad_length:
      return "bad_length";
    case errc::delimiter_in_message:
      return "delimiter_in_message";
    case errc::truncated_frame:
      return "truncated_frame";
    case errc::timed_out:
      return "timed_out";
    case errc::send_queue_full:
      return "send_queue_full";
    case errc::slow_consumer:
      return "slow_consumer";
    case errc::connection_closed:
      return "connection_closed";
    case errc::answered_without_session:
      return "answered_without_session";
  }
  return {};
}

}  // namespace

void decode_error_counts::add(std::error_code error) noexcept {
  for (slot& entry : slots_) {
    const std::error_category* category = entry.category.load(std::memory_order_relaxed);
    if (category == nullptr) {
      // A free slot: this is a new kind. The single writer claims it; readers see the category
      // (release) only once the value and the first count are in place.
      entry.value.store(error.value(), std::memory_order_relaxed);
      entry.count.add(1);
      entry.category.store(&error.category(), std::memory_order_release);
      return;
    }
    if (*category == error.category() &&
        entry.value.load(std::memory_order_relaxed) == error.value()) {
      entry.count.add(1);
      return;
    }
  }
  overflow_.add(1);
}

std::string decode_error_kind(std::error_code error) {
  if (error.category() == error_category()) {
    const std::string_view name = coronet_error_name(static_cast<errc>(error.value()));
    if (!name.empty()) return std::string{name};
  }
  std::string kind = std::string{error.category().name()} + "_" + std::to_string(error.value());
  for (char& c : kind) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      c = '_';
    }
  }
  return kind;
}

std::string_view to_string(close_reason reason) noexcept {
  switch (reason) {
    case close_reason::none:
      return "none";
    case close_reason::handler_done:
      return "handler_done";
    case close_reason::peer_closed:
      return "peer_closed";
    case close_reason::truncated:
      return "truncated";
    case close_reason::reset:
      return "reset";
    case close_reason::idle_timeout:
      return "idle_timeout";
    case close_reason::read_timeout:
      return "read_timeout";
    case close_reason::write_timeout:
      return "write_timeout";
    case close_reason::slow_consumer:
      return "slow_consumer";
    case close_reason::protocol_error:
      return "protocol_error";
    case close_reason::handler_error:
      return "handler_error";
    case close_reason::server_stop:
      return "server_stop";
  }
  return "unknown";
}

}  // namespace coronet
