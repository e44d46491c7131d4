// A broadcast hub's counters as metric families: the names, labels and help texts of the hub's
// metrics (docs/metrics.md, docs/redis.md).
#include "coronet/metrics/hub_collector.hpp"

#include <cstdint>
#include <memory>
#include <utility>

namespace coronet::metrics {
namespace {

using broadcast::hub_stats;
using broadcast::room_stats;

// A counter family with the labels hub and room: one sample per room.
void per_room(const hub_metrics& m, std::vector<metric_family>& out, std::string name,
              std::string help, std::uint64_t room_stats::*field) {
  metric_family family =
      metric_family::of(std::move(name), std::move(help), metric_type::counter, {"hub", "room"});
  for (const room_stats& room : m.rooms)
    family.add_sample({m.hub, room.room}, static_cast<double>(room.*field));
  out.push_back(std::move(family));
}

// A family with the single label hub and one sample.
void hub_wide(const hub_metrics& m, std::vector<metric_family>& out, std::string name,
              std::string help, metric_type type, double value) {
  metric_family family = metric_family::of(std::move(name), std::move(help), type, {"hub"});
  family.add_sample({m.hub}, value);
  out.push_back(std::move(family));
}

void append_backplane_families(const hub_metrics& m, std::vector<metric_family>& out) {
  const hub_stats& t = m.totals;
  per_room(m, out, "coronet_hub_messages_received_total",
           "Messages of other instances received from the backplane for the room (duplicates "
           "not included).",
           &room_stats::received);
  per_room(m, out, "coronet_hub_messages_dropped_total",
           "Publications of this instance never sent to the backplane: the publish queue "
           "overflowed while Redis was away (oldest first), or Redis refused them.",
           &room_stats::dropped);
  per_room(m, out, "coronet_hub_messages_missed_total",
           "Messages of other instances known lost (gaps in their sequence numbers), counted "
           "when a later message of the same instance in the room arrives.",
           &room_stats::gaps);
  per_room(m, out, "coronet_hub_messages_duplicate_total",
           "Messages of other instances received a second time and skipped.",
           &room_stats::duplicates);
  hub_wide(m, out, "coronet_hub_messages_malformed_total",
           "Backplane messages without a valid envelope (skipped).", metric_type::counter,
           static_cast<double>(t.malformed));
  hub_wide(m, out, "coronet_hub_backplane_connected",
           "1 while the backplane is connected (publisher and subscriber, every room "
           "subscribed), else 0.",
           metric_type::gauge, t.connected ? 1 : 0);
  hub_wide(m, out, "coronet_hub_backplane_reconnects_total",
           "Times the backplane was connected again after being lost.", metric_type::counter,
           static_cast<double>(t.reconnects));
  hub_wide(m, out, "coronet_hub_backplane_outage_seconds_total",
           "Time without a connected backplane since the hub started, the ongoing outage "
           "included.",
           metric_type::counter, static_cast<double>(t.outage_ms) / 1000.0);
  hub_wide(m, out, "coronet_hub_publish_queue_messages",
           "Publications waiting to be sent to the backplane or confirmed by it now.",
           metric_type::gauge, static_cast<double>(t.queue_depth));
  hub_wide(m, out, "coronet_hub_publish_queue_bytes",
           "Size of the publications waiting, envelopes included, in bytes.", metric_type::gauge,
           static_cast<double>(t.queue_bytes));
}

}  // namespace

void append_families(const hub_metrics& m, std::vector<metric_family>& out) {
  per_room(m, out, "coronet_hub_messages_published_total",
           "Messages published to the room by this instance's members (once per message).",
           &room_stats::published);
  per_room(m, out, "coronet_hub_messages_delivered_total",
           "Messages handed to this instance's members of the room (once per member), from this "
           "instance and from others.",
           &room_stats::delivered);
  if (m.has_backplane) append_backplane_families(m, out);
}

collector_id register_hub(metrics_registry& registry, const broadcast::broadcast_hub& hub,
                          std::string name) {
  return registry.add_collector([counters = hub.shared_counters(), name = std::move(name),
                                 backplane = hub.has_backplane()](std::vector<metric_family>& out) {
    hub_metrics snapshot;
    snapshot.hub = name;
    snapshot.has_backplane = backplane;
    snapshot.totals = counters->snapshot();
    snapshot.rooms = counters->room_snapshot();
    append_families(snapshot, out);
  });
}

}  // namespace coronet::metrics
