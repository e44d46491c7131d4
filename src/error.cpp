// The "coronet" error category.
#include "coronet/error.hpp"

namespace coronet {
namespace {

class coronet_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "coronet"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::frame_too_long:
        return "frame too long";
      case errc::invalid_utf8:
        return "invalid UTF-8";
      case errc::bad_length:
        return "bad length header";
      case errc::delimiter_in_message:
        return "message contains the codec's delimiter";
      case errc::truncated_frame:
        return "stream ended inside a frame";
      case errc::timed_out:
        return "timed out";
      case errc::send_queue_full:
        return "send queue full";
      case errc::slow_consumer:
        return "peer reads too slowly: send queue limit reached";
      case errc::connection_closed:
        return "connection closed";
      case errc::answered_without_session:
        return "answered by the transport without a session";
    }
    return "unknown coronet error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const coronet_category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace coronet
