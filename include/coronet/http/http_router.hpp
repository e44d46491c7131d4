// http_router: which handler answers a request, by method and exact path. Unknown paths are
// 404, known paths asked with another method 405 (with the Allow field RFC 9110 asks for); a
// HEAD request is answered by the GET handler without the body when no HEAD route is given.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <asio/awaitable.hpp>

#include "coronet/codec/http_message.hpp"

namespace coronet {

/// A route's handler: plain (returns the response) or a coroutine (co_returns it).
using http_handler =
    std::variant<std::function<http_response(const http_request&)>,
                 std::function<asio::awaitable<http_response>(const http_request&)>>;

/// Routes by method and exact path (the target without its query).
class http_router {
 public:
  /// Answers `method` requests for `path` with `handler`: a callable taking const
  /// http_request& and returning http_response or asio::awaitable<http_response>.
  template <typename Handler>
  void add(std::string method, std::string path, Handler handler) {
    using result = std::invoke_result_t<Handler&, const http_request&>;
    static_assert(std::is_same_v<result, http_response> ||
                      std::is_same_v<result, asio::awaitable<http_response>>,
                  "an HTTP handler returns http_response or asio::awaitable<http_response>");
    if constexpr (std::is_same_v<result, http_response>) {
      add_handler(std::move(method), std::move(path),
                  std::function<http_response(const http_request&)>{std::move(handler)});
    } else {
      add_handler(
          std::move(method), std::move(path),
          std::function<asio::awaitable<http_response>(const http_request&)>{std::move(handler)});
    }
  }

  /// What answers a request: a handler, or the status (404, 405) and Allow value without one.
  struct match {
    const http_handler* handler = nullptr;
    bool head_from_get = false;  ///< A HEAD answered by the GET handler (send no body).
    int status = 0;              ///< 404 or 405 when handler is null.
    std::string allow;           ///< For 405: the methods the path has ("GET, HEAD").
  };

  /// Finds the handler for `method` on `path`.
  match find(std::string_view method, std::string_view path) const;

 private:
  struct route {
    std::string method;
    std::string path;
    http_handler handler;
  };

  void add_handler(std::string method, std::string path, http_handler handler);

  std::vector<route> routes_;
};

}  // namespace coronet
