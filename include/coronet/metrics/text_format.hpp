// The Prometheus text exposition format, version 0.0.4: what GET /metrics returns. # HELP and
// # TYPE lines, then one line per sample; histograms as _bucket{le=...} (cumulative, +Inf
// included), _sum and _count. Label values and help texts are escaped and made valid UTF-8.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "coronet/metrics/metric_family.hpp"

namespace coronet::metrics {

/// The Content-Type of the text format, for an HTTP reply.
inline constexpr std::string_view text_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// Appends `families` to `out` in the text format, in the order given. Families without
/// samples are left out.
void write_text(std::span<const metric_family> families, std::string& out);

/// A label value as the text format quotes it (without the quotes): backslash, double quote
/// and newline escaped; bytes that are not UTF-8 replaced by U+FFFD.
std::string escape_label_value(std::string_view value);
/// A help text as the text format writes it: backslash and newline escaped; bytes that are not
/// UTF-8 replaced by U+FFFD.
std::string escape_help(std::string_view help);
/// A sample value: integers as integers, others in the shortest form that reads back exactly,
/// "+Inf", "-Inf", "NaN".
std::string format_value(double value);

}  // namespace coronet::metrics
