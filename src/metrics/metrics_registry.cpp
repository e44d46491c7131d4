// The metrics registry: registration rules, collection (merge, sort) and the text exposition.
#include "coronet/metrics/metrics_registry.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "coronet/metrics/text_format.hpp"

namespace coronet::metrics {
namespace {

[[noreturn]] void reject(const std::string& name, const std::string& why) {
  throw std::invalid_argument{"metric " + name + ": " + why};
}

void check_shape(const metric_family& shape) {
  if (!is_valid_metric_name(shape.name)) reject(shape.name, "invalid metric name");
  if (shape.type == metric_type::counter && !shape.name.ends_with("_total")) {
    reject(shape.name, "a counter's name must end in _total");
  }
  for (std::size_t i = 0; i < shape.label_names.size(); ++i) {
    const std::string& label = shape.label_names[i];
    if (!is_valid_label_name(label)) reject(shape.name, "invalid label name '" + label + "'");
    if (shape.type == metric_type::histogram && label == "le") {
      reject(shape.name, "a histogram cannot have a label named le");
    }
    if (std::find(shape.label_names.begin(), shape.label_names.begin() + static_cast<long>(i),
                  label) != shape.label_names.begin() + static_cast<long>(i)) {
      reject(shape.name, "label '" + label + "' given twice");
    }
  }
  if (shape.type == metric_type::histogram) {
    for (std::size_t i = 0; i < shape.bucket_bounds.size(); ++i) {
      if (!std::isfinite(shape.bucket_bounds[i]))
        reject(shape.name, "bucket bounds must be finite");
      if (i > 0 && !(shape.bucket_bounds[i - 1] < shape.bucket_bounds[i])) {
        reject(shape.name, "bucket bounds must increase");
      }
    }
  }
}

bool same_shape(const metric_family& a, const metric_family& b) {
  return a.type == b.type && a.label_names == b.label_names && a.bucket_bounds == b.bucket_bounds;
}

// Sorts a family's samples by label values and sums those with equal values.
void sort_and_merge(metric_family& family) {
  std::stable_sort(family.samples.begin(), family.samples.end(),
                   [](const metric_sample& a, const metric_sample& b) {
                     return a.label_values < b.label_values;
                   });
  std::vector<metric_sample> merged;
  merged.reserve(family.samples.size());
  for (metric_sample& sample : family.samples) {
    if (merged.empty() || merged.back().label_values != sample.label_values) {
      merged.push_back(std::move(sample));
      continue;
    }
    metric_sample& total = merged.back();
    total.value += sample.value;
    total.sum += sample.sum;
    if (total.bucket_counts.size() < sample.bucket_counts.size()) {
      total.bucket_counts.resize(sample.bucket_counts.size());
    }
    for (std::size_t i = 0; i < sample.bucket_counts.size(); ++i) {
      total.bucket_counts[i] += sample.bucket_counts[i];
    }
  }
  family.samples = std::move(merged);
}

template <typename Metric>
family<Metric>& as_family(detail::family_base& base, const metric_family& asked) {
  auto* typed = dynamic_cast<family<Metric>*>(&base);
  if (typed == nullptr || !same_shape(base.shape(), asked) || base.shape().help != asked.help) {
    reject(asked.name, "already registered with another type, help, labels or buckets");
  }
  return *typed;
}

metric_family shape_of(std::string name, std::string help, metric_type type,
                       std::vector<std::string> label_names, std::vector<double> bounds = {}) {
  metric_family shape;
  shape.name = std::move(name);
  shape.help = std::move(help);
  shape.type = type;
  shape.label_names = std::move(label_names);
  shape.bucket_bounds = std::move(bounds);
  return shape;
}

}  // namespace

void append_sample(const counter& metric, std::vector<std::string> label_values,
                   metric_family& family) {
  metric_sample sample;
  sample.label_values = std::move(label_values);
  sample.value = static_cast<double>(metric.value());
  family.samples.push_back(std::move(sample));
}

void append_sample(const gauge& metric, std::vector<std::string> label_values,
                   metric_family& family) {
  metric_sample sample;
  sample.label_values = std::move(label_values);
  sample.value = metric.value();
  family.samples.push_back(std::move(sample));
}

void append_sample(const histogram& metric, std::vector<std::string> label_values,
                   metric_family& family) {
  metric_sample sample;
  sample.label_values = std::move(label_values);
  sample.bucket_counts.resize(metric.bounds().size() + 1);
  for (std::size_t i = 0; i < sample.bucket_counts.size(); ++i) {
    sample.bucket_counts[i] = metric.bucket_count(i);
  }
  sample.sum = metric.sum();
  family.samples.push_back(std::move(sample));
}

template <typename Metric>
void family<Metric>::throw_wrong_label_count() const {
  reject(shape_.name, "expects " + std::to_string(shape_.label_names.size()) + " label values");
}
template class family<counter>;
template class family<gauge>;
template class family<histogram>;

detail::family_base& metrics_registry::register_family(metric_family shape) {
  check_shape(shape);
  const std::lock_guard lock{mutex_};
  for (const auto& existing : families_) {
    if (existing->shape().name == shape.name) return *existing;
  }
  std::unique_ptr<detail::family_base> created;
  switch (shape.type) {
    case metric_type::counter:
      created = std::make_unique<family<counter>>(std::move(shape));
      break;
    case metric_type::gauge:
      created = std::make_unique<family<gauge>>(std::move(shape));
      break;
    case metric_type::histogram:
      created = std::make_unique<family<histogram>>(std::move(shape));
      break;
  }
  families_.push_back(std::move(created));
  return *families_.back();
}

family<counter>& metrics_registry::add_counter_family(std::string name, std::string help,
                                                      std::vector<std::string> label_names) {
  const metric_family shape =
      shape_of(std::move(name), std::move(help), metric_type::counter, std::move(label_names));
  return as_family<counter>(register_family(shape), shape);
}

counter& metrics_registry::add_counter(std::string name, std::string help) {
  return add_counter_family(std::move(name), std::move(help), {}).with({});
}

family<gauge>& metrics_registry::add_gauge_family(std::string name, std::string help,
                                                  std::vector<std::string> label_names) {
  const metric_family shape =
      shape_of(std::move(name), std::move(help), metric_type::gauge, std::move(label_names));
  return as_family<gauge>(register_family(shape), shape);
}

gauge& metrics_registry::add_gauge(std::string name, std::string help) {
  return add_gauge_family(std::move(name), std::move(help), {}).with({});
}

family<histogram>& metrics_registry::add_histogram_family(std::string name, std::string help,
                                                          std::vector<std::string> label_names,
                                                          std::vector<double> bounds) {
  const metric_family shape = shape_of(std::move(name), std::move(help), metric_type::histogram,
                                       std::move(label_names), std::move(bounds));
  return as_family<histogram>(register_family(shape), shape);
}

histogram& metrics_registry::add_histogram(std::string name, std::string help,
                                           std::vector<double> bounds) {
  return add_histogram_family(std::move(name), std::move(help), {}, std::move(bounds)).with({});
}

collector_id metrics_registry::add_collector(collector source) {
  const std::lock_guard lock{mutex_};
  const collector_id id = next_collector_++;
  collectors_.emplace(id, std::move(source));
  return id;
}

bool metrics_registry::remove_collector(collector_id id) {
  const std::lock_guard lock{mutex_};
  return collectors_.erase(id) != 0;
}

std::vector<metric_family> metrics_registry::collect() const {
  std::vector<metric_family> gathered;
  {
    // Collectors run under the lock, so remove_collector() waits for a scrape in progress.
    const std::lock_guard lock{mutex_};
    for (const auto& registered : families_)
      gathered.push_back(registered->collect());
    for (const auto& [id, source] : collectors_)
      source(gathered);
  }
  // Merge by name: the first family of a name gives its shape; later ones with the same shape
  // add their samples, others are left out.
  std::map<std::string, metric_family> by_name;
  for (metric_family& family : gathered) {
    auto [found, inserted] = by_name.try_emplace(family.name);
    if (inserted) {
      found->second = std::move(family);
    } else if (same_shape(found->second, family)) {
      auto& samples = found->second.samples;
      samples.insert(samples.end(), std::make_move_iterator(family.samples.begin()),
                     std::make_move_iterator(family.samples.end()));
    }
  }
  std::vector<metric_family> out;
  out.reserve(by_name.size());
  for (auto& [name, family] : by_name) {
    sort_and_merge(family);
    out.push_back(std::move(family));
  }
  return out;
}

std::string metrics_registry::write_text() const {
  const std::vector<metric_family> families = collect();
  std::string out;
  metrics::write_text(std::span<const metric_family>{families}, out);
  return out;
}

}  // namespace coronet::metrics
