// redis_subscriber: pub/sub commands out, the server's pub/sub arrays (RESP2) or pushes (RESP3)
// in, turned into pubsub_events.
#include "coronet/redis/redis_subscriber.hpp"

#include <utility>

#include "coronet/error.hpp"

namespace coronet::redis {
namespace {

bool is_text(const resp_value& value) {
  return value.is_string();
}

// ["message", channel, payload], ["pmessage", pattern, channel, payload],
// ["subscribe", channel, count], ["pong", payload], ...: nullopt for anything else.
std::optional<pubsub_event> to_event(resp_value& value) {
  if (value.type != resp_type::array && value.type != resp_type::push) return std::nullopt;
  std::vector<resp_value>& parts = value.elements;
  if (parts.size() < 2 || !is_text(parts[0])) return std::nullopt;
  const std::string& verb = parts[0].text;
  pubsub_event event;
  if ((verb == "message" || verb == "smessage") && parts.size() == 3 && is_text(parts[1]) &&
      is_text(parts[2])) {
    event.kind = verb == "message" ? pubsub_kind::message : pubsub_kind::smessage;
    event.channel = std::move(parts[1].text);
    event.payload = std::move(parts[2].text);
    return event;
  }
  if (verb == "pmessage" && parts.size() == 4 && is_text(parts[1]) && is_text(parts[2]) &&
      is_text(parts[3])) {
    event.kind = pubsub_kind::pmessage;
    event.pattern = std::move(parts[1].text);
    event.channel = std::move(parts[2].text);
    event.payload = std::move(parts[3].text);
    return event;
  }
  if (verb == "pong" && parts.size() == 2 && is_text(parts[1])) {
    event.kind = pubsub_kind::pong;
    event.payload = std::move(parts[1].text);
    return event;
  }
  const bool subscribed = verb == "subscribe" || verb == "psubscribe" || verb == "ssubscribe";
  const bool unsubscribed =
      verb == "unsubscribe" || verb == "punsubscribe" || verb == "sunsubscribe";
  if ((subscribed || unsubscribed) && parts.size() == 3 && parts[2].type == resp_type::integer) {
    event.kind = subscribed ? pubsub_kind::subscribed : pubsub_kind::unsubscribed;
    if (is_text(parts[1])) event.channel = std::move(parts[1].text);
    event.count = parts[2].integer;
    return event;
  }
  return std::nullopt;
}

}  // namespace

asio::awaitable<redis_connect_result<redis_subscriber>> redis_subscriber::connect(
    redis_options options) {
  auto opened = co_await detail::open_link(std::move(options));
  redis_connect_result<redis_subscriber> result;
  if (opened.error) {
    result.error = opened.error;
    result.reason = std::move(opened.reason);
    co_return result;
  }
  redis_subscriber subscriber{std::move(opened.link)};
  result.client.emplace(std::move(subscriber));
  co_return result;
}

redis_subscriber& redis_subscriber::operator=(redis_subscriber&& other) noexcept {
  if (this != &other) {
    close();
    link_ = std::move(other.link_);
    closed_ = other.closed_;
    pings_ = other.pings_;
  }
  return *this;
}

redis_subscriber::~redis_subscriber() {
  close();
}

std::error_code redis_subscriber::send(std::string_view verb,
                                       const std::vector<std::string>& arguments) {
  if (!is_open()) return errc::connection_closed;
  std::vector<std::string> command;
  command.reserve(arguments.size() + 1);
  command.emplace_back(verb);
  command.insert(command.end(), arguments.begin(), arguments.end());
  return link_->try_write(resp_value::command(command));
}

std::error_code redis_subscriber::subscribe(const std::vector<std::string>& channels) {
  return send("SUBSCRIBE", channels);
}

std::error_code redis_subscriber::psubscribe(const std::vector<std::string>& patterns) {
  return send("PSUBSCRIBE", patterns);
}

std::error_code redis_subscriber::ssubscribe(const std::vector<std::string>& channels) {
  return send("SSUBSCRIBE", channels);
}

std::error_code redis_subscriber::unsubscribe(const std::vector<std::string>& channels) {
  return send("UNSUBSCRIBE", channels);
}

std::error_code redis_subscriber::sunsubscribe(const std::vector<std::string>& channels) {
  return send("SUNSUBSCRIBE", channels);
}

std::error_code redis_subscriber::ping(const std::string& payload) {
  const std::error_code error = send("PING", {payload});
  if (!error) ++pings_;
  return error;
}

asio::awaitable<pubsub_result> redis_subscriber::next() {
  const std::shared_ptr<detail::redis_link> link = link_;
  if (!link || closed_) co_return pubsub_result{make_error_code(errc::connection_closed), {}};
  auto reply = co_await link->read();
  if (!reply) {
    const std::error_code error =
        closed_ ? make_error_code(errc::connection_closed) : reply.error();
    co_return pubsub_result{error, {}};
  }
  if (reply->is_error()) {
    link->close();
    pubsub_result result{make_error_code(redis_errc::error_reply), {}};
    result.event.payload = std::move(reply->text);
    co_return result;
  }
  std::optional<pubsub_event> event = to_event(*reply);
  if (!event && pings_ > 0 && reply->is_string()) {
    // Not subscribed to anything, Redis answers PING as to any client: +PONG, or the argument.
    event.emplace();
    event->kind = pubsub_kind::pong;
    event->payload = reply->text == "PONG" && reply->type == resp_type::simple_string
                         ? std::string{}
                         : std::move(reply->text);
  }
  if (event && event->kind == pubsub_kind::pong && pings_ > 0) --pings_;
  if (!event) {
    link->close();
    co_return pubsub_result{make_error_code(redis_errc::unexpected_reply), {}};
  }
  co_return pubsub_result{{}, std::move(*event)};
}

bool redis_subscriber::is_open() const noexcept {
  return link_ && !closed_ && link_->is_open();
}

void redis_subscriber::close() {
  if (!link_ || closed_) return;
  closed_ = true;
  link_->close();
}

}  // namespace coronet::redis
