// metrics_registry: where a process's metrics live — the user's counters, gauges and histograms
// (with their labels) and collectors read at scrape time (a server's built-in metrics). Writes
// them all as one Prometheus text exposition.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "coronet/metrics/counter.hpp"
#include "coronet/metrics/gauge.hpp"
#include "coronet/metrics/histogram.hpp"
#include "coronet/metrics/metric_family.hpp"

namespace coronet::metrics {

/// Appends the samples of `metric` (with `label_values`) to `family`.
void append_sample(const counter& metric, std::vector<std::string> label_values,
                   metric_family& family);
void append_sample(const gauge& metric, std::vector<std::string> label_values,
                   metric_family& family);
void append_sample(const histogram& metric, std::vector<std::string> label_values,
                   metric_family& family);

namespace detail {

// What the registry keeps of each family of its own, whatever the metric type.
class family_base {
 public:
  explicit family_base(metric_family shape) : shape_{std::move(shape)} {}
  family_base(const family_base&) = delete;
  family_base& operator=(const family_base&) = delete;
  virtual ~family_base() = default;
  /// The family's name, help, type, label names and bounds (no samples).
  const metric_family& shape() const noexcept { return shape_; }
  /// The family with a sample per child.
  virtual metric_family collect() const = 0;

 protected:
  metric_family shape_;
};

}  // namespace detail

/// The metrics of one name with labels: one child metric per set of label values, created on
/// first use and kept (with a stable address) as long as the registry.
template <typename Metric>
class family final : public detail::family_base {
 public:
  /// Used by metrics_registry.
  explicit family(metric_family shape) : detail::family_base{std::move(shape)} {}

  /// The child for these label values (one per label name, in order), created if new. Throws
  /// std::invalid_argument if the number of values is wrong. Takes a lock: look children up
  /// once and keep the reference, not on every message.
  Metric& with(std::vector<std::string> label_values) {
    if (label_values.size() != shape_.label_names.size()) throw_wrong_label_count();
    const std::lock_guard lock{mutex_};
    auto found = children_.find(label_values);
    if (found == children_.end()) {
      found = children_.emplace(std::move(label_values), make_child()).first;
    }
    return *found->second;
  }
  /// with() from string literals or views.
  Metric& with(std::initializer_list<std::string_view> label_values) {
    return with(std::vector<std::string>(label_values.begin(), label_values.end()));
  }

  metric_family collect() const override {
    metric_family out = shape_;
    const std::lock_guard lock{mutex_};
    out.samples.reserve(children_.size());
    for (const auto& [values, child] : children_)
      append_sample(*child, values, out);
    return out;
  }

 private:
  [[noreturn]] void throw_wrong_label_count() const;
  std::unique_ptr<Metric> make_child() const {
    if constexpr (std::is_same_v<Metric, histogram>) {
      return std::make_unique<Metric>(shape_.bucket_bounds);
    } else {
      return std::make_unique<Metric>();
    }
  }

  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

/// Appends families to a scrape: what a collector is.
using collector = std::function<void(std::vector<metric_family>& out)>;
/// Names a registered collector (for remove_collector).
using collector_id = std::uint64_t;

/// The registry: metrics registered by name, collectors, and the text exposition of both.
///
/// Registering the same name again with the same type, help and labels returns the existing
/// family (so every handler may register what it uses); with anything different it throws
/// std::invalid_argument, as do invalid names. Thread-safe: registration, lookups and
/// write_text() take a lock; the metrics themselves are lock-free.
///
/// At scrape time, families of the same name from collectors and registrations are merged
/// (samples with the same label values are summed: several servers with one name add up);
/// a family whose type or label names differ from the first of its name is left out.
class metrics_registry {
 public:
  metrics_registry() = default;
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  /// A counter without labels. `name` must end in "_total".
  counter& add_counter(std::string name, std::string help);
  /// A family of counters with `label_names`. `name` must end in "_total".
  family<counter>& add_counter_family(std::string name, std::string help,
                                      std::vector<std::string> label_names);
  /// A gauge without labels.
  gauge& add_gauge(std::string name, std::string help);
  /// A family of gauges with `label_names`.
  family<gauge>& add_gauge_family(std::string name, std::string help,
                                  std::vector<std::string> label_names);
  /// A histogram without labels; `bounds` increasing and finite.
  histogram& add_histogram(std::string name, std::string help, std::vector<double> bounds);
  /// A family of histograms with `label_names` (not "le"); `bounds` increasing and finite.
  family<histogram>& add_histogram_family(std::string name, std::string help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> bounds);

  /// Calls `source` at every scrape (from the scraping thread, under the registry's lock: it
  /// must not call the registry) to append families of its own.
  collector_id add_collector(collector source);
  /// Stops calling a collector; when this returns, no scrape is still calling it.
  bool remove_collector(collector_id id);

  /// Every family, merged by name, sorted by name; each family's samples sorted by label values.
  std::vector<metric_family> collect() const;
  /// collect() in the Prometheus text format 0.0.4.
  std::string write_text() const;

 private:
  detail::family_base& register_family(metric_family shape);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<detail::family_base>> families_;
  std::map<collector_id, collector> collectors_;
  collector_id next_collector_ = 1;
};

}  // namespace coronet::metrics
