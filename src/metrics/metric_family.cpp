// Metric types' names and the rules for metric and label names.
#include "coronet/metrics/metric_family.hpp"

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

}  // namespace coronet::metrics
