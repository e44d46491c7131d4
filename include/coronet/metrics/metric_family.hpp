// What a metrics registry collects at scrape time: families of samples (a name, a help text, a
// type, label names, and one sample per set of label values). The exposition writer turns them
// into text; collectors (a server's metrics, a user's callback) append them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coronet::metrics {

/// The Prometheus metric types coronet writes.
enum class metric_type {
  counter,    ///< Only goes up (reset when the process restarts). Its name ends in "_total".
  gauge,      ///< Goes up and down.
  histogram,  ///< Observations counted in buckets, with their sum and count.
};

/// "counter", "gauge", "histogram" (as the text format's # TYPE line spells them).
const char* to_string(metric_type type) noexcept;

/// One sample of a family: its label values (in the order of the family's label names) and its
/// value (counters, gauges) or buckets and sum (histograms).
struct metric_sample {
  std::vector<std::string> label_values;
  /// Counter or gauge value.
  double value = 0;
  /// Histogram: observations per bucket, not cumulative, one per bound plus the +Inf bucket.
  std::vector<std::uint64_t> bucket_counts;
  /// Histogram: the sum of the observations.
  double sum = 0;
};

/// A family: every sample of one metric name.
struct metric_family {
  std::string name;
  std::string help;
  metric_type type = metric_type::counter;
  std::vector<std::string> label_names;
  /// Histogram: the buckets' upper bounds, increasing (the +Inf bucket is implied).
  std::vector<double> bucket_bounds;
  std::vector<metric_sample> samples;

  /// A family with no samples yet.
  static metric_family of(std::string name, std::string help, metric_type type,
                          std::vector<std::string> label_names);
  /// Appends a sample with these label values (one per label name) and this value.
  void add_sample(std::vector<std::string> label_values, double value);
};

/// Whether `name` is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
bool is_valid_metric_name(std::string_view name) noexcept;
/// Whether `name` is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__").
bool is_valid_label_name(std::string_view name) noexcept;

}  // namespace coronet::metrics
