// The log hook: where coronet reports what it cannot return to a caller (a handler that threw, a
// failed accept). Set it per server; the default prints warnings and errors to stderr.
#pragma once

#include <functional>
#include <string_view>

namespace coronet {

/// Severity of a log record.
enum class log_level { debug, info, warning, error };

/// Receives coronet's log records. Called on the server's executor; must not throw.
using log_hook = std::function<void(log_level, std::string_view message)>;

/// The default hook: warnings and errors to stderr as "coronet: <level>: <message>".
void log_to_stderr(log_level level, std::string_view message);

/// Name of a level ("debug", "info", "warning", "error").
std::string_view to_string(log_level level) noexcept;

}  // namespace coronet
