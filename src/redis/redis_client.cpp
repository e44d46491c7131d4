// redis_client: one reader coroutine per connection matches replies to the queue of commands in
// flight; each command waits on its own timer, which is also its command timeout.
#include "coronet/redis/redis_client.hpp"

#include <functional>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include "coronet/detail/tuple_awaitable.hpp"
#include "coronet/error.hpp"

namespace coronet::redis {
namespace detail {

// One command in flight: its reply (or error) and the timer its issuer waits on. The reader
// cancels the timer when the reply arrives; the timer expiring is the command timeout.
struct pending_command {
  pending_command(const asio::any_io_executor& executor, std::chrono::milliseconds timeout)
      : timer{executor, timeout.count() == 0 ? asio::steady_timer::time_point::max()
                                             : asio::steady_timer::clock_type::now() + timeout} {}

  asio::steady_timer timer;
  redis_reply reply;
  bool done = false;
};

struct client_state {
  client_state(std::shared_ptr<redis_link> connection, redis_options client_options)
      : link{std::move(connection)}, options{std::move(client_options)} {}

  // Ends the connection: every command in flight gets `error`.
  // After close() nothing is recorded: error() stays empty, as for a connection closed by its
  // owner.
  void fail(std::error_code error) {
    const std::error_code reason = failure ? failure : error;
    if (!failure && !closed) failure = error;
    link->close();
    while (!pending.empty()) {
      const std::shared_ptr<pending_command> command = std::move(pending.front());
      pending.pop_front();
      command->reply.error = reason;
      command->done = true;
      command->timer.cancel();
    }
    if (auto hook = std::exchange(closed_hook, nullptr)) hook(reason);
  }

  std::shared_ptr<redis_link> link;
  std::function<void(std::error_code)> closed_hook;
  redis_options options;
  std::deque<std::shared_ptr<pending_command>> pending;
  std::error_code failure;
  bool closed = false;
};

namespace {

asio::awaitable<void> read_replies(std::shared_ptr<client_state> state) {
  while (true) {
    auto reply = co_await state->link->read();
    if (!reply) {
      const std::error_code error =
          state->closed ? make_error_code(errc::connection_closed) : reply.error();
      state->fail(error);
      co_return;
    }
    if (state->pending.empty()) {
      state->fail(redis_errc::unexpected_reply);
      co_return;
    }
    const std::shared_ptr<pending_command> command = std::move(state->pending.front());
    state->pending.pop_front();
    command->reply.value = std::move(*reply);
    command->done = true;
    command->timer.cancel();
  }
}

// Queues `command` for sending and registers it as in flight; returns the error if it cannot.
std::error_code send(client_state& state, const resp_value& command,
                     std::shared_ptr<pending_command>& registered,
                     const asio::any_io_executor& executor) {
  if (state.failure || state.closed) {
    return state.failure ? state.failure : make_error_code(errc::connection_closed);
  }
  if (state.pending.size() >= state.options.max_pending) return redis_errc::too_many_pending;
  if (const std::error_code error = state.link->try_write(command)) return error;
  registered = std::make_shared<pending_command>(executor, state.options.command_timeout);
  state.pending.push_back(registered);
  return {};
}

// Waits for a registered command's reply; a timeout ends the whole connection.
asio::awaitable<redis_reply> wait_for(std::shared_ptr<client_state> state,
                                      std::shared_ptr<pending_command> command) {
  if (!command->done) co_await command->timer.async_wait(coronet::detail::tuple_awaitable);
  if (!command->done) state->fail(errc::timed_out);
  co_return std::move(command->reply);
}

}  // namespace
}  // namespace detail

asio::awaitable<redis_connect_result<redis_client>> redis_client::connect(redis_options options) {
  auto opened = co_await detail::open_link(options);
  redis_connect_result<redis_client> result;
  if (opened.error) {
    result.error = opened.error;
    result.reason = std::move(opened.reason);
    co_return result;
  }
  auto state = std::make_shared<detail::client_state>(std::move(opened.link), std::move(options));
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  asio::co_spawn(executor, detail::read_replies(state), asio::detached);
  redis_client client{std::move(state)};
  result.client.emplace(std::move(client));
  co_return result;
}

redis_client& redis_client::operator=(redis_client&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

redis_client::~redis_client() {
  close();
}

asio::awaitable<redis_reply> redis_client::command(redis_command command) {
  const std::shared_ptr<detail::client_state> state = state_;
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  std::shared_ptr<detail::pending_command> registered;
  if (const std::error_code error = detail::send(*state, command.value(), registered, executor))
    co_return redis_reply{error, {}};
  co_return co_await detail::wait_for(state, std::move(registered));
}

asio::awaitable<std::vector<redis_reply>> redis_client::pipeline(
    std::vector<redis_command> commands) {
  const std::shared_ptr<detail::client_state> state = state_;
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  std::vector<std::shared_ptr<detail::pending_command>> registered(commands.size());
  std::vector<redis_reply> replies(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    replies[i].error = detail::send(*state, commands[i].value(), registered[i], executor);
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (registered[i]) replies[i] = co_await detail::wait_for(state, std::move(registered[i]));
  }
  co_return replies;
}

std::size_t redis_client::pending() const noexcept {
  return state_ ? state_->pending.size() : 0;
}

bool redis_client::is_open() const noexcept {
  return state_ && !state_->failure && !state_->closed && state_->link->is_open();
}

std::error_code redis_client::error() const noexcept {
  return state_ ? state_->failure : std::error_code{};
}

void redis_client::on_close(std::function<void(std::error_code)> hook) {
  if (state_) state_->closed_hook = std::move(hook);
}

void redis_client::close() {
  if (!state_ || state_->closed) return;
  state_->closed = true;
  state_->fail(errc::connection_closed);
}

}  // namespace coronet::redis
