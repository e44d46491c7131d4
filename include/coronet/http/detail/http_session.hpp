// One HTTP connection's life inside basic_http_server: read a request, route it, write the
// response; keep-alive until the client, the request bound or an error ends it; an Upgrade
// route takes the connection over. Machinery of http_server.hpp.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <asio/awaitable.hpp>

#include "coronet/codec/http_error.hpp"
#include "coronet/codec/http_message.hpp"
#include "coronet/detail/describe_exception.hpp"
#include "coronet/http/http_router.hpp"
#include "coronet/http/http_server_options.hpp"
#include "coronet/log.hpp"

namespace coronet::detail {

/// The answer to a request the codec rejected (400, 413, 414, 431, 501, 505), which closes.
http_response http_error_response(int status, std::error_code error, std::string_view reason);

/// The answer for a status without a handler (404, 405 with `allow`, 500).
http_response http_status_response(int status, std::string allow = {});

/// Adds what every response gets: Date, and the keep-alive decision (`close`, or an HTTP/1.0
/// client's "Connection: keep-alive").
void finish_http_response(http_response& response, const http_request& request, bool last);

/// What the sessions of one server share: routes, upgrade routes, limits, the log.
template <typename Connection>
struct http_server_state {
  using upgrade_handler = std::function<asio::awaitable<void>(http_request, Connection&)>;

  explicit http_server_state(http_server_options server_options)
      : options{std::move(server_options)} {}

  const upgrade_handler* find_upgrade(const http_request& request) const {
    if (request.method != "GET") return nullptr;
    for (const auto& [path, handler] : upgrades) {
      if (path == request.path()) return &handler;
    }
    return nullptr;
  }

  http_server_options options;
  http_router router;
  std::vector<std::pair<std::string, upgrade_handler>> upgrades;
};

// Runs the route's handler; a handler that throws is a 500 that closes (and is logged).
template <typename Connection>
asio::awaitable<http_response> answer(const http_server_state<Connection>& state,
                                      const http_request& request) {
  const http_router::match found = state.router.find(request.method, request.path());
  if (found.handler == nullptr) co_return http_status_response(found.status, found.allow);
  std::exception_ptr failure;
  try {
    http_response response;
    if (const auto* plain =
            std::get_if<std::function<http_response(const http_request&)>>(found.handler)) {
      response = (*plain)(request);
    } else {
      const auto& coroutine =
          std::get<std::function<asio::awaitable<http_response>(const http_request&)>>(
              *found.handler);
      response = co_await coroutine(request);
    }
    if (found.head_from_get) response.omit_body = true;
    co_return response;
  } catch (...) {
    failure = std::current_exception();
  }
  if (state.options.server.log) {
    state.options.server.log(
        log_level::error,
        request.method + " " + request.target + ": handler failed: " + describe_exception(failure));
  }
  http_response error = http_status_response(500);
  error.close = true;
  co_return error;
}

/// Serves one connection until it ends; the server then closes it gracefully.
template <typename Connection>
asio::awaitable<void> serve_http(std::shared_ptr<const http_server_state<Connection>> state,
                                 Connection& connection) {
  const std::size_t max_requests = state->options.max_requests_per_connection;
  for (std::size_t served = 1;; ++served) {
    auto request = co_await connection.read();
    if (!request) {
      // A request the codec rejected gets its status; a timeout or the end gets nothing.
      if (const int status = http_status_of(request.error())) {
        http_response rejected = http_error_response(status, request.error(), request.reason());
        co_await connection.write(rejected);
      }
      co_return;
    }
    if (const auto* upgrade = state->find_upgrade(*request)) {
      // The route owns the connection from here; the session ends when it returns.
      co_await (*upgrade)(std::move(*request), connection);
      co_return;
    }
    http_response response = co_await answer(*state, *request);
    if (request->method == "HEAD") response.omit_body = true;
    const bool last = served >= max_requests || !request->keep_alive() || response.close;
    finish_http_response(response, *request, last);
    const std::error_code error = co_await connection.write(response);
    if (error || last) co_return;
  }
}

}  // namespace coronet::detail
