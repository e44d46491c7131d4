// Opening a Redis connection: connect over TCP or a Unix socket, then AUTH; plus the address,
// the password file and the "redis" error category.
#include "coronet/redis/detail/redis_link.hpp"

#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include "coronet/error.hpp"
#include "coronet/redis/redis_error.hpp"

namespace coronet::redis {
namespace {

class redis_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "redis"; }

  std::string message(int value) const override {
    switch (static_cast<redis_errc>(value)) {
      case redis_errc::authentication_failed:
        return "Redis authentication failed";
      case redis_errc::error_reply:
        return "Redis answered with an error";
      case redis_errc::unexpected_reply:
        return "unexpected reply from Redis";
      case redis_errc::too_many_pending:
        return "too many Redis commands in flight";
      case redis_errc::bad_address:
        return "bad Redis address (expected HOST:PORT or unix:PATH)";
      case redis_errc::password_file:
        return "cannot read the Redis password file";
    }
    return "unknown redis error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& redis_category() noexcept {
  static const redis_error_category category;
  return category;
}

std::error_code make_error_code(redis_errc e) noexcept {
  return {static_cast<int>(e), redis_category()};
}

std::string redis_address::to_string() const {
  if (is_unix()) return "unix:" + unix_path;
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<redis_address> redis_address::parse(std::string_view text) {
  redis_address address;
  if (text.starts_with("unix:")) {
    if (text.size() == 5) return std::nullopt;
    address.unix_path = std::string{text.substr(5)};
    return address;
  }
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // An IPv6 address needs brackets.
  }
  const std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (error != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
    return std::nullopt;
  address.host = std::string{host};
  address.port = static_cast<std::uint16_t>(value);
  return address;
}

std::error_code read_password_file(const std::string& path, std::string& password) {
  std::ifstream file{path, std::ios::binary};
  if (!file) return redis_errc::password_file;
  std::string content{std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{}};
  if (file.bad()) return redis_errc::password_file;
  if (!content.empty() && content.back() == '\n') content.pop_back();
  if (!content.empty() && content.back() == '\r') content.pop_back();
  password = std::move(content);
  return {};
}

}  // namespace coronet::redis

namespace coronet::redis::detail {

asio::awaitable<read_result<resp_value>> read_reply(std::shared_ptr<redis_link> link,
                                                    std::chrono::milliseconds timeout) {
  if (timeout.count() == 0) co_return co_await link->read();
  // The deadline closes the link, which ends the read. `watch` keeps a deadline that fired just
  // as the reply arrived from closing a link that answered in time, and says whether it fired.
  struct watch_state {
    bool waiting = true;
    bool fired = false;
  };
  auto watch = std::make_shared<watch_state>();
  asio::steady_timer deadline{co_await asio::this_coro::executor, timeout};
  deadline.async_wait([weak = std::weak_ptr<redis_link>{link}, watch](std::error_code error) {
    if (error || !watch->waiting) return;
    watch->fired = true;
    if (auto alive = weak.lock()) alive->close();
  });
  auto reply = co_await link->read();
  watch->waiting = false;
  deadline.cancel();
  if (!reply && watch->fired) co_return read_result<resp_value>::failure(errc::timed_out);
  co_return reply;
}

namespace {

connect_options link_connect_options(const redis_options& options) {
  connect_options connect;
  connect.timeout = options.connect_timeout;
  // A client may stay quiet for as long as it likes; command_timeout bounds every reply.
  connect.connection.idle_timeout = std::chrono::milliseconds{0};
  connect.connection.send_queue_limit = options.send_queue_limit;
  connect.connection.queue_policy = send_queue_policy::drop;
  connect.connection.decode_errors = decode_error_policy::report;
  return connect;
}

asio::awaitable<std::pair<std::error_code, std::shared_ptr<redis_link>>> connect_link(
    const redis_options& options) {
  const connect_options connect = link_connect_options(options);
  const resp_codec codec{options.codec};
  if (options.address.is_unix()) {
    auto result = co_await connect_unix_ex<resp_codec>(options.address.unix_path, connect, codec);
    if (!result) co_return std::pair{result.error, std::shared_ptr<redis_link>{}};
    co_return std::pair{std::error_code{},
                        std::make_shared<redis_link>(std::move(*result.connection))};
  }
  auto result =
      co_await connect_ex<resp_codec>(options.address.host, options.address.port, connect, codec);
  if (!result) co_return std::pair{result.error, std::shared_ptr<redis_link>{}};
  co_return std::pair{std::error_code{},
                      std::make_shared<redis_link>(std::move(*result.connection))};
}

}  // namespace

asio::awaitable<link_result> open_link(redis_options options) {
  auto [error, link] = co_await connect_link(options);
  if (error) co_return link_result{error, error.message(), nullptr};
  if (!options.password) co_return link_result{{}, {}, std::move(link)};

  std::vector<std::string> auth_arguments{"AUTH"};
  if (!options.user.empty()) auth_arguments.push_back(options.user);
  auth_arguments.push_back(*options.password);
  const resp_value auth = resp_value::command(auth_arguments);
  if (const std::error_code write_error = link->try_write(auth))
    co_return link_result{write_error, write_error.message(), nullptr};
  auto reply = co_await read_reply(link, options.command_timeout);
  if (!reply) co_return link_result{reply.error(), reply.error().message(), nullptr};
  if (reply->is_error()) {
    link->close();
    co_return link_result{make_error_code(redis_errc::authentication_failed), reply->text, nullptr};
  }
  co_return link_result{{}, {}, std::move(link)};
}

}  // namespace coronet::redis::detail
