// Echo mode: each connection keeps `depth` messages in flight. A reply frees a slot, which is
// refilled at once; everything refilled while a write is in progress goes out in the next write.
// Every reply must be the next message the connection sent, byte for byte. The messages are
// lines, or with --websocket text messages in WebSocket frames (after each connection's opening
// handshake): the two framings below give the connection the same shape.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <asio/write.hpp>

#include "common.hpp"
#include "line_buffer.hpp"
#include "messages.hpp"
#include "modes.hpp"
#include "traffic_phases.hpp"
#include "websocket_framing.hpp"

namespace load {

namespace {

enum class phase { warmup, measure, drain, stopped };

// The state every connection of a run shares (one thread: no locks).
struct echo_run {
  explicit echo_run(const options& run_options) : settings{run_options} {}

  const options& settings;
  phase now_in = phase::warmup;
  measurement measured;
  std::uint64_t all_messages = 0;  // Every verified echo, warm-up and drain included.
  std::size_t active = 0;          // Connections whose reader is still running.
  std::size_t opened = 0;          // Connections whose framing is open (WebSocket: handshaken).
  std::size_t not_opened = 0;      // Connections whose handshake failed.
  error_log errors;
};

// Messages as lines: message `seq` of `size` bytes is one line, '\n' included.
struct line_framing {
  class reader {
   public:
    explicit reader(std::size_t size) : lines_{std::max<std::size_t>(64 * 1024, size), size} {}
    std::span<char> prepare() { return lines_.prepare(); }
    void commit(std::size_t count) noexcept { lines_.commit(count); }
    std::optional<std::string_view> next() noexcept { return lines_.next_line(); }
    std::string problem() const {
      if (!lines_.overflowed()) return {};
      return "no newline in " + std::to_string(lines_.partial().size()) +
             " bytes: " + excerpt(lines_.partial());
    }

   private:
    line_buffer lines_;
  };
  static asio::awaitable<std::string> open(load::stream&, reader&, const options&) {
    co_return std::string{};
  }
  static void append(std::string& out, std::uint64_t id, std::uint64_t seq, std::size_t size) {
    append_message(out, id, seq, size);
  }
  static bool matches(std::string_view line, std::uint64_t id, std::uint64_t seq,
                      std::size_t size) {
    return is_message(line, id, seq, size);
  }
};

// Messages as WebSocket text messages: message `seq` of `size` bytes is the line of size + 1
// bytes without its '\n', in one frame (masked towards the server).
struct websocket_framing {
  class reader : public websocket_reader {
   public:
    explicit reader(std::size_t size)
        : websocket_reader{std::max<std::size_t>(64 * 1024, size), size} {}
  };
  static asio::awaitable<std::string> open(load::stream& stream, reader& input,
                                           const options& settings) {
    return websocket_handshake(stream, input, settings);
  }
  static void append(std::string& out, std::uint64_t id, std::uint64_t seq, std::size_t size) {
    std::string& line = scratch();
    line.clear();
    append_message(line, id, seq, size + 1);
    line.pop_back();
    append_masked_text(out, line);
  }
  static bool matches(std::string_view payload, std::uint64_t id, std::uint64_t seq,
                      std::size_t size) {
    return is_message(payload, id, seq, size + 1);
  }

 private:
  static std::string& scratch() {
    static std::string line;  // One thread: reused for every message.
    return line;
  }
};

template <typename Framing>
class echo_connection {
 public:
  echo_connection(load::stream stream, std::uint64_t id, echo_run& run)
      : stream_{std::move(stream)},
        id_{id},
        run_{run},
        input_{run.settings.message_size},
        sent_at_(run.settings.depth) {}

  /// Opens the framing (the WebSocket handshake), sends the first `depth` messages, then reads
  /// and verifies until the run is drained.
  asio::awaitable<void> run() {
    const std::string refused = co_await Framing::open(stream_, input_, run_.settings);
    if (!refused.empty()) {
      // Counted whatever the phase: a connection that never opened must fail the run.
      run_.errors.add("connection " + std::to_string(id_) + ": handshake: " + refused);
      ++run_.not_opened;
      std::error_code ignored;
      stream_.close(ignored);
      co_return;
    }
    ++run_.opened;
    refill(clock::now());
    while (!(run_.now_in >= phase::drain && expected_ == next_send_)) {
      const std::span<char> space = input_.prepare();
      auto [error, count] =
          co_await stream_.async_read_some(asio::buffer(space.data(), space.size()), as_tuple);
      if (error) {
        if (run_.now_in != phase::stopped) fail(describe_read_error(error));
        break;
      }
      input_.commit(count);
      if (!take_replies(clock::now())) break;
    }
  }

  /// Messages sent and not yet echoed.
  std::uint64_t outstanding() const noexcept { return next_send_ - expected_; }
  load::stream& stream() noexcept { return stream_; }

 private:
  // Verifies every complete reply; returns false if the connection must stop.
  bool take_replies(clock::time_point now) {
    const std::size_t size = run_.settings.message_size;
    while (const auto line = input_.next()) {
      if (expected_ == next_send_) {
        fail("unexpected line (nothing in flight): " + excerpt(*line));
        return false;
      }
      if (!Framing::matches(*line, id_, expected_, size)) {
        fail("expected message " + std::to_string(expected_) + ", got " + excerpt(*line));
        return false;
      }
      if (run_.now_in == phase::measure) {
        ++run_.measured.messages;
        run_.measured.bytes += size;
        run_.measured.latency.record(now - sent_at_[expected_ % sent_at_.size()]);
      }
      ++run_.all_messages;
      ++expected_;
    }
    if (const std::string problem = input_.problem(); !problem.empty()) {
      fail(problem);
      return false;
    }
    refill(now);
    return true;
  }

  // Tops the in-flight messages up to depth (not once the measured time is over).
  void refill(clock::time_point now) {
    if (run_.now_in >= phase::drain) return;
    while (next_send_ - expected_ < sent_at_.size()) {
      Framing::append(pending_, id_, next_send_, run_.settings.message_size);
      sent_at_[next_send_ % sent_at_.size()] = now;
      ++next_send_;
    }
    if (!writing_) start_write();
  }

  void start_write() {
    if (pending_.empty()) return;
    writing_ = true;
    sending_.swap(pending_);
    asio::async_write(stream_, asio::buffer(sending_), [this](std::error_code error, std::size_t) {
      writing_ = false;
      sending_.clear();
      if (error) {
        if (run_.now_in != phase::stopped) fail("write: " + error.message());
        return;
      }
      start_write();
    });
  }

  std::string describe_read_error(std::error_code error) const {
    const std::string what =
        error == asio::error::eof ? "the server closed the connection" : "read: " + error.message();
    return what + " with " + std::to_string(outstanding()) + " echoes outstanding";
  }

  void fail(const std::string& what) {
    if (!stream_.is_open()) return;  // Already failed: one error per connection.
    run_.errors.add("connection " + std::to_string(id_) + ": " + what);
    std::error_code ignored;
    stream_.close(ignored);
  }

  load::stream stream_;
  std::uint64_t id_;
  echo_run& run_;
  typename Framing::reader input_;
  std::vector<clock::time_point> sent_at_;  // Send time of message seq at seq % depth.
  std::uint64_t next_send_ = 0;
  std::uint64_t expected_ = 0;
  std::string pending_;  // Messages queued while a write is in progress.
  std::string sending_;  // The buffer of the write in progress.
  bool writing_ = false;
};

template <typename Framing>
asio::awaitable<void> drive(echo_run& run,
                            std::vector<std::unique_ptr<echo_connection<Framing>>>& all) {
  const options& settings = run.settings;
  {
    std::vector<stream> streams = co_await connect_all(settings);
    for (std::size_t id = 0; id < streams.size(); ++id) {
      all.push_back(std::make_unique<echo_connection<Framing>>(std::move(streams[id]), id, run));
    }
  }
  co_await start_readers(run, all, "a connection's reader threw");
  // Every connection opens its framing (the WebSocket handshake) before the warm-up starts.
  // Each handshake is bounded by --connect-timeout; the second more lets them report first.
  const auto all_settled = [&run, &all] { return run.opened + run.not_opened == all.size(); };
  const clock::time_point deadline =
      clock::now() + settings.connect_timeout + std::chrono::seconds{1};
  const bool settled = co_await wait_until(all_settled, deadline);
  if (!settled) {
    run.errors.add(std::to_string(all.size() - run.opened - run.not_opened) +
                   " connections did not finish their handshake within --connect-timeout");
  }
  // The replies still in flight at the end must arrive too (they are verified, not measured).
  co_await measure_then_drain(
      run, all, [](echo_connection<Framing>& connection) { return connection.outstanding(); },
      "echoes still missing");
}

template <typename Framing>
void run_with(echo_run& run) {
  std::vector<std::unique_ptr<echo_connection<Framing>>> connections;
  run_to_completion(drive(run, connections));
}

}  // namespace

int run_echo(const options& settings) {
  if (!settings.quiet) {
    std::printf(
        "load_generator: echo %s, %zu connections x %zu in flight x %zu-byte %s, "
        "%.1f s warm-up + %.1f s\n",
        target_name(settings).c_str(), settings.connections, settings.depth, settings.message_size,
        settings.websocket ? "WebSocket text messages" : "lines", seconds_of(settings.warmup),
        seconds_of(settings.duration));
    std::fflush(stdout);
  }
  echo_run run{settings};
  if (settings.websocket) {
    run_with<websocket_framing>(run);
  } else {
    run_with<line_framing>(run);
  }
  print_report(settings, run.measured, run.errors.count(),
               " total_messages=" + std::to_string(run.all_messages) +
                   " websocket=" + (settings.websocket ? "1" : "0"));
  return run.errors.count() == 0 ? 0 : 1;
}

}  // namespace load
