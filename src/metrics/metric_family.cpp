// Metric types' names, the rules for metric and label names, and adding a sample to a family.
#include "coronet/metrics/metric_family.hpp"

#include <utility>

namespace coronet::metrics {
namespace {

bool is_letter_or_underscore(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

}  // namespace

const char* to_string(metric_type type) noexcept {
  switch (type) {
    case metric_type::counter:
      return "counter";
    case metric_type::gauge:
      return "gauge";
    case metric_type::histogram:
      return "histogram";
  }
  return "untyped";
}

bool is_valid_metric_name(std::string_view name) noexcept {
  if (name.empty() || !(is_letter_or_underscore(name[0]) || name[0] == ':')) return false;
  for (const char c : name) {
    if (!(is_letter_or_underscore(c) || is_digit(c) || c == ':')) return false;
  }
  return true;
}

bool is_valid_label_name(std::string_view name) noexcept {
  if (name.empty() || !is_letter_or_underscore(name[0]) || name.starts_with("__")) return false;
  for (const char c : name) {
    if (!(is_letter_or_underscore(c) || is_digit(c))) return false;
  }
  return true;
}

metric_family metric_family::of(std::string name, std::string help, metric_type type,
                                std::vector<std::string> label_names) {
  metric_family family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  family.label_names = std::move(label_names);
  return family;
}

void metric_family::add_sample(std::vector<std::string> label_values, double value) {
  metric_sample sample;
  sample.label_values = std::move(label_values);
  sample.value = value;
  samples.push_back(std::move(sample));
}

}  // namespace coronet::metrics
