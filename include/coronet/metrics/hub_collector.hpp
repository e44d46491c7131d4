// A broadcast hub's counters as metric families, and the one call that puts a hub into a
// metrics_registry: every metric carries the label hub="NAME", the message counters also
// room="ROOM". See docs/metrics.md and docs/redis.md.
#pragma once

#include <string>
#include <vector>

#include "coronet/broadcast/broadcast_hub.hpp"
#include "coronet/broadcast/hub_counters.hpp"
#include "coronet/metrics/metric_family.hpp"
#include "coronet/metrics/metrics_registry.hpp"

namespace coronet::metrics {

/// What one scrape reads of a hub.
struct hub_metrics {
  std::string hub;             ///< The value of the label hub.
  bool has_backplane = false;  ///< Whether the backplane families are written.
  broadcast::hub_stats totals;
  std::vector<broadcast::room_stats> rooms;
};

/// Appends a hub's families: coronet_hub_messages_published_total and
/// coronet_hub_messages_delivered_total per room, and with a backplane the other message
/// counters per room (received, dropped, missed, duplicate), coronet_hub_messages_malformed_total,
/// coronet_hub_backplane_* and coronet_hub_publish_queue_*.
void append_families(const hub_metrics& snapshot, std::vector<metric_family>& out);

/// Registers a hub in `registry` under the label hub=`name`: its counters are read at every
/// scrape, from the scraping thread, without touching the hub's executor. The registration may
/// outlive the hub (it keeps the counters, which then stop moving).
collector_id register_hub(metrics_registry& registry, const broadcast::broadcast_hub& hub,
                          std::string name = "hub");

}  // namespace coronet::metrics
