// The library's metrics of stream and datagram servers as metric families: the names, labels
// and help texts of the metrics contract (docs/metrics.md).
#include "coronet/metrics/server_collector.hpp"

#include <array>
#include <string>
#include <string_view>
#include <utility>

namespace coronet::metrics {
namespace {

// A family labelled by server unless told otherwise.
metric_family make_family(std::string name, std::string help, metric_type type,
                          std::vector<std::string> label_names = {"server"}) {
  return metric_family::of(std::move(name), std::move(help), type, std::move(label_names));
}

double as_value(std::uint64_t count) {
  return static_cast<double>(count);
}

// One family with the single label server="NAME" and one sample.
void single(std::vector<metric_family>& out, const std::string& server, std::string name,
            std::string help, metric_type type, std::uint64_t value) {
  metric_family family = make_family(std::move(name), std::move(help), type);
  family.add_sample({server}, as_value(value));
  out.push_back(std::move(family));
}

// The close reasons of the contract, in the order of close_reason (none and truncated are
// counted as handler_done and peer_closed).
constexpr std::array<close_reason, 10> reported_close_reasons{
    close_reason::handler_done,  close_reason::peer_closed,    close_reason::reset,
    close_reason::idle_timeout,  close_reason::read_timeout,   close_reason::write_timeout,
    close_reason::slow_consumer, close_reason::protocol_error, close_reason::handler_error,
    close_reason::server_stop};

void append_connection_families(const server_metrics& m, std::vector<metric_family>& out) {
  const std::string& server = m.server;
  single(out, server, "coronet_connections_accepted_total",
         "Connections that got a session (a handler).", metric_type::counter, m.accepted);

  metric_family refused =
      make_family("coronet_connections_refused_total",
                  "Connections closed without a session: max_connections reached (full), or a "
                  "failed or timed-out handshake (handshake).",
                  metric_type::counter, {"server", "reason"});
  refused.add_sample({server, "full"}, as_value(m.refused_full));
  if (m.has_handshake) refused.add_sample({server, "handshake"}, as_value(m.refused_handshake));
  out.push_back(std::move(refused));

  single(out, server, "coronet_connections_active", "Sessions running now.", metric_type::gauge,
         m.active());

  metric_family closed =
      make_family("coronet_connections_closed_total", "Sessions that ended, by reason.",
                  metric_type::counter, {"server", "reason"});
  for (const close_reason reason : reported_close_reasons) {
    closed.add_sample({server, std::string{to_string(reason)}}, as_value(m.closed_for(reason)));
  }
  out.push_back(std::move(closed));

  metric_family duration = make_family(
      "coronet_connection_duration_seconds",
      "How long sessions lasted, from the handler's start to its end.", metric_type::histogram);
  duration.bucket_bounds.assign(connection_duration_bounds.begin(),
                                connection_duration_bounds.end());
  metric_sample lifetimes;
  lifetimes.label_values = {server};
  lifetimes.bucket_counts.assign(m.connection_duration.buckets.begin(),
                                 m.connection_duration.buckets.end());
  lifetimes.sum = m.connection_duration.sum_seconds;
  duration.samples.push_back(std::move(lifetimes));
  out.push_back(std::move(duration));

  if (m.has_handshake) {
    metric_family handshakes =
        make_family("coronet_tls_handshakes_total", "Handshakes of the transport (TLS), by result.",
                    metric_type::counter, {"server", "result"});
    handshakes.add_sample({server, "ok"}, as_value(m.handshakes_ok));
    handshakes.add_sample({server, "failed"}, as_value(m.handshakes_failed));
    handshakes.add_sample({server, "timed_out"}, as_value(m.handshakes_timed_out));
    handshakes.add_sample({server, "answered"}, as_value(m.handshakes_answered));
    out.push_back(std::move(handshakes));
  }
}

void append_traffic_families(const server_metrics& m, std::vector<metric_family>& out) {
  const std::string& server = m.server;
  single(out, server, "coronet_bytes_received_total",
         "Bytes received: from the sockets (for TLS: the plaintext after decryption).",
         metric_type::counter, m.bytes_received);
  single(out, server, "coronet_bytes_sent_total",
         "Bytes sent: accepted by the sockets (for TLS: the plaintext before encryption).",
         metric_type::counter, m.bytes_sent);
  single(out, server, "coronet_messages_received_total", "Messages decoded and handed to handlers.",
         metric_type::counter, m.messages_received);
  single(out, server, "coronet_messages_sent_total",
         "Messages queued for sending, error replies and refusals included.", metric_type::counter,
         m.messages_sent);

  metric_family decode =
      make_family("coronet_decode_errors_total", "Messages that failed to decode, by kind.",
                  metric_type::counter, {"server", "kind"});
  // The two kinds every text codec can report are always there, so that dashboards find them.
  for (const std::string_view kind : {"invalid_utf8", "frame_too_long"}) {
    decode.add_sample({server, std::string{kind}}, as_value(m.decode_errors_of(kind)));
  }
  for (const decode_error_total& entry : m.decode_errors) {
    if (entry.kind != "invalid_utf8" && entry.kind != "frame_too_long") {
      decode.add_sample({server, entry.kind}, as_value(entry.count));
    }
  }
  out.push_back(std::move(decode));

  single(out, server, "coronet_send_queue_dropped_total",
         "Messages dropped because a connection's send queue was full.", metric_type::counter,
         m.send_queue_dropped);
}

}  // namespace

void append_families(const server_metrics& snapshot, std::vector<metric_family>& out) {
  append_connection_families(snapshot, out);
  append_traffic_families(snapshot, out);
}

void append_families(const datagram_server_metrics& snapshot, std::vector<metric_family>& out) {
  const std::string& server = snapshot.server;
  const datagram_stats& endpoint = snapshot.stats.endpoint;
  single(out, server, "coronet_datagrams_received_total",
         "Datagrams taken from the socket, rejected ones included.", metric_type::counter,
         endpoint.received);
  single(out, server, "coronet_datagrams_sent_total", "Datagrams handed to the operating system.",
         metric_type::counter, endpoint.sent);

  metric_family rejected = make_family("coronet_datagrams_rejected_total",
                                       "Datagrams received but not delivered, by kind.",
                                       metric_type::counter, {"server", "kind"});
  rejected.add_sample({server, "frame_too_long"}, as_value(endpoint.rejected_oversize));
  rejected.add_sample({server, "invalid_utf8"}, as_value(endpoint.rejected_invalid_utf8));
  rejected.add_sample({server, "other"}, as_value(endpoint.rejected_other));
  out.push_back(std::move(rejected));

  single(
      out, server, "coronet_datagrams_dropped_total",
      "Valid datagrams dropped because max_concurrent_handlers were running (busy_policy::drop).",
      metric_type::counter, snapshot.stats.dropped_busy);

  metric_family errors = make_family("coronet_datagram_socket_errors_total",
                                     "Receives and sends that failed with a socket error.",
                                     metric_type::counter, {"server", "operation"});
  errors.add_sample({server, "receive"}, as_value(endpoint.receive_errors));
  errors.add_sample({server, "send"}, as_value(endpoint.send_errors));
  out.push_back(std::move(errors));

  single(out, server, "coronet_bytes_received_total",
         "Bytes received: from the sockets (for TLS: the plaintext after decryption).",
         metric_type::counter, endpoint.bytes_received);
  single(out, server, "coronet_bytes_sent_total",
         "Bytes sent: accepted by the sockets (for TLS: the plaintext before encryption).",
         metric_type::counter, endpoint.bytes_sent);
}

}  // namespace coronet::metrics
