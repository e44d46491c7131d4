// Chat mode: C clients of chat_server. Each sends lines; the server relays every line to the
// C-1 others as "[IP:PORT] line". Every client checks, for every sender, that the lines arrive
// complete and in the order they were sent, and that a sender's label never changes. A sender
// keeps at most `depth` lines that have not yet reached everyone (a window: the server's queues
// stay short, so we measure relaying, not queueing). Without --rate every sender keeps its window
// full (throughput); with --rate R one pacer has the senders take turns, R lines/s in all, each
// within its window (latency at a fixed, light load).
//
// With several ports (chat_servers sharing one room through Redis), client i is on server
// i % N: a delivery is local (sender and receiver on one server) or remote (relayed through
// Redis), and each kind gets its own latency histogram besides the overall one.
//
// First a sync phase: every client sends "sync.<id>" lines until each client has heard each
// other one, which proves that all of them are in the room before any counted line is sent.
// A sender not yet heard by everyone sends again only once the sync lines stopped arriving
// (for 250 ms): while they still arrive they may be queued, and a slow server's (unbounded)
// queues must not fill with sync lines that would delay the measured ones.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>

#include "common.hpp"
#include "line_buffer.hpp"
#include "messages.hpp"
#include "modes.hpp"
#include "traffic_phases.hpp"

namespace load {

namespace {

enum class phase { sync, warmup, measure, drain, stopped };

class chat_client;

struct chat_run {
  explicit chat_run(const options& run_options) : settings{run_options} {}

  const options& settings;
  phase now_in = phase::sync;
  std::size_t pairs_heard = 0;        // (receiver, sender) pairs that have seen a sync line.
  std::vector<std::size_t> heard_by;  // Per sender: receivers that have seen its sync line.
  measurement measured;
  latency_histogram local_latency;   // Measured deliveries within one server.
  latency_histogram remote_latency;  // Measured deliveries from a client on another server.
  std::uint64_t all_deliveries = 0;
  std::uint64_t sync_lines = 0;  // Sync lines sent (each one more line for the server to relay).
  std::uint64_t held_back = 0;   // --rate: lines due when every sender's window was full.
  std::size_t active = 0;
  error_log errors;
  std::vector<std::unique_ptr<chat_client>> clients;
};

constexpr std::string_view sync_tag = "sync.";

class chat_client {
 public:
  chat_client(load::stream stream, std::uint64_t id, chat_run& run)
      : stream_{std::move(stream)},
        id_{id},
        run_{run},
        input_{64 * 1024, run.settings.message_size + 256},
        sent_at_(run.settings.depth),
        receivers_(run.settings.depth),
        next_from_(run.settings.connections),
        synced_from_(run.settings.connections) {}

  asio::awaitable<void> run() {
    while (stream_.is_open()) {
      const std::span<char> space = input_.prepare();
      auto [error, count] =
          co_await stream_.async_read_some(asio::buffer(space.data(), space.size()), as_tuple);
      if (error) {
        if (run_.now_in != phase::stopped) {
          fail(error == asio::error::eof ? "the server closed the connection"
                                         : "read: " + error.message());
        }
        break;
      }
      input_.commit(count);
      const clock::time_point now = clock::now();
      while (const auto line = input_.next_line()) {
        if (!take_line(*line, now)) break;
      }
      if (input_.overflowed()) fail("no newline in " + excerpt(input_.partial()));
    }
  }

  void send_sync() {
    ++run_.sync_lines;
    pending_ += sync_tag;
    pending_ += std::to_string(id_);
    pending_ += '\n';
    start_write();
  }

  /// Tops this sender's undelivered lines up to the window (not once the measured time is over,
  /// and never with --rate: the pacer sends then).
  void refill(clock::time_point now) {
    if (!may_send() || run_.settings.rate > 0) return;
    while (next_send_ - delivered_ < sent_at_.size())
      append_line(now);
    start_write();
  }

  /// Sends one line if the window has room (for the pacer); returns whether it did.
  bool send_one(clock::time_point now) {
    if (!may_send() || !stream_.is_open() || next_send_ - delivered_ >= sent_at_.size())
      return false;
    append_line(now);
    start_write();
    return true;
  }

  /// Lines this sender sent that have not reached every other client yet.
  std::uint64_t undelivered() const noexcept { return next_send_ - delivered_; }
  load::stream& stream() noexcept { return stream_; }

 private:
  bool may_send() const noexcept {
    return run_.now_in == phase::warmup || run_.now_in == phase::measure;
  }

  void append_line(clock::time_point now) {
    append_message(pending_, id_, next_send_, run_.settings.message_size);
    sent_at_[next_send_ % sent_at_.size()] = now;
    receivers_[next_send_ % sent_at_.size()] = 0;
    ++next_send_;
  }

  // One relayed line: "[LABEL] sync.<id>" or "[LABEL] <message of sender id>".
  bool take_line(std::string_view line, clock::time_point now) {
    const std::size_t end_of_label = line.find("] ");
    if (line.empty() || line.front() != '[' || end_of_label == std::string_view::npos) {
      fail("not a relayed line: " + excerpt(line));
      return false;
    }
    const std::string_view label = line.substr(0, end_of_label + 1);
    const std::string_view payload = line.substr(end_of_label + 2);
    if (payload.starts_with(sync_tag)) {
      const std::size_t sender = std::stoul(std::string{payload.substr(sync_tag.size())});
      if (sender < synced_from_.size() && !synced_from_[sender]) {
        synced_from_[sender] = true;
        ++run_.pairs_heard;
        ++run_.heard_by[sender];
      }
      return true;
    }
    const auto header = parse_header(payload);
    if (!header || header->id >= run_.clients.size() || header->id == id_) {
      fail("line from an unknown sender (or our own): " + excerpt(line));
      return false;
    }
    const std::uint64_t sender = header->id;
    if (header->seq != next_from_[sender] ||
        !is_message(payload, sender, header->seq, run_.settings.message_size)) {
      fail("from client " + std::to_string(sender) + " expected line " +
           std::to_string(next_from_[sender]) + ", got " + excerpt(line));
      return false;
    }
    ++next_from_[sender];
    const std::size_t servers = std::max<std::size_t>(run_.settings.ports.size(), 1);
    const bool local = sender % servers == id_ % servers;
    run_.clients[sender]->delivered(label, header->seq, now, local);
    return true;
  }

  // Line `seq` of this sender reached one more client.
  void delivered(std::string_view label, std::uint64_t seq, clock::time_point now, bool local) {
    if (label_.empty()) label_ = label;
    if (label != label_) {
      fail("the server labels this client's lines both " + label_ + " and " + std::string{label});
      return;
    }
    const std::size_t slot = seq % sent_at_.size();
    ++receivers_[slot];
    if (run_.now_in == phase::measure) {
      ++run_.measured.messages;
      run_.measured.bytes += run_.settings.message_size;
      run_.measured.latency.record(now - sent_at_[slot]);
      (local ? run_.local_latency : run_.remote_latency).record(now - sent_at_[slot]);
    }
    ++run_.all_deliveries;
    const std::size_t everyone = run_.clients.size() - 1;
    bool advanced = false;
    while (delivered_ < next_send_ && receivers_[delivered_ % sent_at_.size()] == everyone) {
      ++delivered_;
      advanced = true;
    }
    if (advanced) refill(now);
  }

  void start_write() {
    if (writing_ || pending_.empty() || !stream_.is_open()) return;
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

  void fail(const std::string& what) {
    if (!stream_.is_open()) return;  // Already failed: one error per client.
    run_.errors.add("client " + std::to_string(id_) + ": " + what);
    std::error_code ignored;
    stream_.close(ignored);
  }

  load::stream stream_;
  std::uint64_t id_;
  chat_run& run_;
  line_buffer input_;
  std::string pending_;
  std::string sending_;
  bool writing_ = false;
  // As a sender.
  std::uint64_t next_send_ = 0;
  std::uint64_t delivered_ = 0;             // Lines that reached every other client.
  std::vector<clock::time_point> sent_at_;  // Of line seq, at seq % depth.
  std::vector<std::size_t> receivers_;      // Clients line seq reached, at seq % depth.
  std::string label_;                       // "[IP:PORT]", as the server labels our lines.
  // As a receiver.
  std::vector<std::uint64_t> next_from_;  // Per sender: the line expected next.
  std::vector<bool> synced_from_;         // Per sender: a sync line arrived.
};

asio::awaitable<void> sync_room(chat_run& run) {
  const std::size_t clients = run.clients.size();
  const std::size_t all_pairs = clients * (clients - 1);
  const auto deadline = clock::now() + run.settings.connect_timeout;
  const auto everyone_heard = [&] { return run.pairs_heard == all_pairs; };
  run.heard_by.assign(clients, 0);
  while (run.pairs_heard < all_pairs && run.errors.count() == 0 && clock::now() < deadline) {
    for (std::size_t id = 0; id < clients; ++id) {
      if (run.heard_by[id] < clients - 1) run.clients[id]->send_sync();
    }
    std::size_t heard_before = 0;
    do {  // Until everyone heard everyone, or nothing arrived for 250 ms.
      heard_before = run.pairs_heard;
      const auto quiet_until = std::min(deadline, clock::now() + std::chrono::milliseconds{250});
      co_await wait_until(everyone_heard, quiet_until);
    } while (run.pairs_heard != heard_before && !everyone_heard() && clock::now() < deadline);
  }
  if (run.pairs_heard < all_pairs) {
    throw connect_error("chat: only " + std::to_string(run.pairs_heard) + " of " +
                        std::to_string(all_pairs) +
                        " client pairs heard each other (is --max-connections high enough?)");
  }
}

// --rate: sends settings.rate lines per second in all during the warm-up and the measured time,
// the senders taking turns (the next one whose window has room). Line k is due at start + k/rate;
// lines that fell due while the pacer slept go out together when it wakes.
asio::awaitable<void> pace(chat_run& run) {
  asio::steady_timer timer{co_await asio::this_coro::executor};
  const double rate = static_cast<double>(run.settings.rate);
  const clock::time_point start = clock::now();
  const std::size_t senders = run.clients.size();
  std::uint64_t due_sent = 0;  // Lines due so far (sent or held back).
  std::size_t next = 0;
  while (run.now_in == phase::warmup || run.now_in == phase::measure) {
    const clock::time_point now = clock::now();
    const auto due = static_cast<std::uint64_t>(seconds_of(now - start) * rate) + 1;
    for (; due_sent < due; ++due_sent) {
      bool sent = false;
      for (std::size_t tried = 0; tried < senders && !sent; ++tried) {
        sent = run.clients[next]->send_one(now);
        next = (next + 1) % senders;
      }
      if (!sent) ++run.held_back;
    }
    const std::chrono::duration<double> next_due{static_cast<double>(due_sent) / rate};
    timer.expires_at(start + std::chrono::duration_cast<clock::duration>(next_due));
    co_await timer.async_wait(as_tuple);
  }
}

asio::awaitable<void> drive(chat_run& run) {
  const options& settings = run.settings;
  {
    std::vector<stream> streams = co_await connect_all(settings);
    for (std::size_t id = 0; id < streams.size(); ++id) {
      run.clients.push_back(std::make_unique<chat_client>(std::move(streams[id]), id, run));
    }
  }
  co_await start_readers(run, run.clients, "a client's reader threw");
  co_await sync_room(run);

  run.now_in = phase::warmup;
  if (settings.rate > 0) {
    const auto executor = co_await asio::this_coro::executor;
    asio::co_spawn(executor, pace(run), [&run](std::exception_ptr error) {
      if (error) run.errors.add("the pacer threw");
    });
  }
  for (auto& client : run.clients)
    client->refill(clock::now());
  co_await measure_then_drain(
      run, run.clients, [](chat_client& client) { return client.undelivered(); },
      "lines had not reached every client");
}

// " local_deliveries=N local_p50_us=X local_p99_us=Y" for the RESULT line.
std::string latency_fields(const char* kind, const latency_histogram& latency) {
  const auto micros = [&latency](double fraction) {
    return std::chrono::duration<double, std::micro>(latency.percentile(fraction)).count();
  };
  char text[160];
  std::snprintf(text, sizeof text, " %s_deliveries=%llu %s_p50_us=%.2f %s_p99_us=%.2f", kind,
                static_cast<unsigned long long>(latency.count()), kind, micros(0.50), kind,
                micros(0.99));
  return text;
}

}  // namespace

int run_chat(const options& settings) {
  if (!settings.quiet) {
    std::printf(
        "load_generator: chat %s, %zu clients, %zu-byte lines, window %zu per sender, %s, "
        "%.1f s warm-up + %.1f s\n",
        target_name(settings).c_str(), settings.connections, settings.message_size, settings.depth,
        settings.rate > 0 ? (std::to_string(settings.rate) + " lines/s in all").c_str()
                          : "windows kept full",
        seconds_of(settings.warmup), seconds_of(settings.duration));
    std::fflush(stdout);
  }
  chat_run run{settings};
  run_to_completion(drive(run));
  std::string extra = " total_deliveries=" + std::to_string(run.all_deliveries) +
                      " rate=" + std::to_string(settings.rate) +
                      " held_back=" + std::to_string(run.held_back) +
                      " sync_lines=" + std::to_string(run.sync_lines);
  if (settings.ports.size() > 1) {
    extra += " servers=" + std::to_string(settings.ports.size()) +
             latency_fields("local", run.local_latency) +
             latency_fields("remote", run.remote_latency);
  }
  print_report(settings, run.measured, run.errors.count(), extra);
  return run.errors.count() == 0 ? 0 : 1;
}

}  // namespace load
