// The Prometheus text format 0.0.4 writer.
#include "coronet/metrics/text_format.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "coronet/codec/utf8.hpp"

namespace coronet::metrics {
namespace {

// Appends `text`, replacing each byte that starts no valid UTF-8 sequence by U+FFFD, and
// escaping with `escape` (which appends one byte, escaped or not).
template <typename Escape>
void append_utf8(std::string_view text, std::string& out, Escape escape) {
  while (!text.empty()) {
    const utf8_verdict verdict = check_utf8(text);
    const std::string_view good = verdict.valid() ? text : text.substr(0, verdict.offset);
    for (const char c : good)
      escape(c, out);
    if (verdict.valid()) return;
    out += "\xEF\xBF\xBD";  // U+FFFD for the offending byte; go on after it.
    text.remove_prefix(verdict.offset + 1);
  }
}

void escape_label_byte(char c, std::string& out) {
  switch (c) {
    case '\\':
      out += "\\\\";
      break;
    case '"':
      out += "\\\"";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      out += c;
  }
}

void escape_help_byte(char c, std::string& out) {
  switch (c) {
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      out += c;
  }
}

void append_value(double value, std::string& out) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[64];
    // Integral values up to 2^53 as integers ("42", not "4.2e+01"); the rest shortest exact.
    const bool integral = std::trunc(value) == value && std::fabs(value) < 9007199254740992.0;
    const auto written =
        integral ? std::to_chars(buffer, buffer + sizeof buffer, static_cast<std::int64_t>(value))
                 : std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, written.ptr);
  }
}

// {a="x",b="y"} with an optional extra label (le) last; nothing when there are no labels.
void append_labels(const metric_family& family, const metric_sample& sample, std::string& out,
                   std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (family.label_names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < family.label_names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += family.label_names[i];
    out += "=\"";
    if (i < sample.label_values.size()) {
      append_utf8(sample.label_values[i], out, escape_label_byte);
    }
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void append_histogram(const metric_family& family, const metric_sample& sample, std::string& out) {
  // Cumulative buckets; _count is the +Inf bucket, so the two always agree.
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= family.bucket_bounds.size(); ++i) {
    if (i < sample.bucket_counts.size()) cumulative += sample.bucket_counts[i];
    const std::string bound = i < family.bucket_bounds.size()
                                  ? format_value(family.bucket_bounds[i])
                                  : std::string{"+Inf"};
    out += family.name;
    out += "_bucket";
    append_labels(family, sample, out, "le", bound);
    out += ' ';
    append_value(static_cast<double>(cumulative), out);
    out += '\n';
  }
  out += family.name;
  out += "_sum";
  append_labels(family, sample, out);
  out += ' ';
  append_value(sample.sum, out);
  out += '\n';
  out += family.name;
  out += "_count";
  append_labels(family, sample, out);
  out += ' ';
  append_value(static_cast<double>(cumulative), out);
  out += '\n';
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  append_utf8(value, out, escape_label_byte);
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  append_utf8(help, out, escape_help_byte);
  return out;
}

std::string format_value(double value) {
  std::string out;
  append_value(value, out);
  return out;
}

void write_text(std::span<const metric_family> families, std::string& out) {
  for (const metric_family& family : families) {
    if (family.samples.empty()) continue;
    out += "# HELP ";
    out += family.name;
    out += ' ';
    append_utf8(family.help, out, escape_help_byte);
    out += "\n# TYPE ";
    out += family.name;
    out += ' ';
    out += to_string(family.type);
    out += '\n';
    for (const metric_sample& sample : family.samples) {
      if (family.type == metric_type::histogram) {
        append_histogram(family, sample, out);
        continue;
      }
      out += family.name;
      append_labels(family, sample, out);
      out += ' ';
      append_value(sample.value, out);
      out += '\n';
    }
  }
}

}  // namespace coronet::metrics
