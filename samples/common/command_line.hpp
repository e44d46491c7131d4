// A small command-line parser shared by the samples: "--name value" options, "--flag" switches,
// --help, and clear errors ("--port: expected a number from 0 to 65535, got 'x'").
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace samples {

/// Thrown for a command line that cannot be used; main() prints it with the usage.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class command_line {
 public:
  command_line(std::string program, std::string summary)
      : program_{std::move(program)}, summary_{std::move(summary)} {}

  /// Declares "--name VALUE" with a default ("" = no default, optional).
  command_line& option(std::string name, std::string value_name, std::string default_value,
                       std::string help) {
    if (!default_value.empty()) values_[name] = default_value;
    specs_.push_back(
        {std::move(name), std::move(value_name), std::move(help), std::move(default_value), false});
    return *this;
  }

  /// Declares a "--name" switch.
  command_line& flag(std::string name, std::string help) {
    specs_.push_back({std::move(name), "", std::move(help), "", true});
    return *this;
  }

  /// Parses argv. Prints the usage and exits 0 for --help; throws usage_error otherwise.
  void parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        std::fputs(usage().c_str(), stdout);
        std::exit(0);
      }
      const spec* found = find(arg);
      if (found == nullptr) throw usage_error("unknown option '" + std::string{arg} + "'");
      if (found->is_flag) {
        values_[found->name] = "1";
        continue;
      }
      if (i + 1 >= argc)
        throw usage_error(found->name + " needs a value (" + found->value_name + ")");
      values_[found->name] = argv[++i];
    }
  }

  bool has(const std::string& name) const { return values_.contains(name); }

  std::string text(const std::string& name) const {
    const auto it = values_.find(name);
    return it == values_.end() ? std::string{} : it->second;
  }

  /// The option as an integer in [min, max]; throws usage_error otherwise.
  long long number(const std::string& name, long long min, long long max) const {
    const std::string value = text(name);
    std::size_t used = 0;
    long long parsed = 0;
    try {
      parsed = std::stoll(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (value.empty() || used != value.size() || parsed < min || parsed > max) {
      throw usage_error(name + ": expected a number from " + std::to_string(min) + " to " +
                        std::to_string(max) + ", got '" + value + "'");
    }
    return parsed;
  }

  std::string usage() const {
    std::string out = "usage: " + program_ + " [options]\n" + summary_ + "\n\noptions:\n";
    auto line = [&out](std::string left, const std::string& help) {
      left.resize(std::max<std::size_t>(left.size(), 28), ' ');
      out += left + " " + help + "\n";
    };
    for (const spec& s : specs_) {
      const std::string shown_default =
          s.default_value.empty() ? "" : " (default " + s.default_value + ")";
      line("  " + s.name + (s.is_flag ? "" : " " + s.value_name), s.help + shown_default);
    }
    line("  --help", "show this help");
    return out;
  }

 private:
  struct spec {
    std::string name;
    std::string value_name;
    std::string help;
    std::string default_value;
    bool is_flag;
  };

  const spec* find(std::string_view name) const {
    for (const spec& s : specs_) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }

  std::string program_;
  std::string summary_;
  std::vector<spec> specs_;
  std::map<std::string, std::string> values_;
};

/// Runs a sample's main body: a usage error is printed with the usage (exit code 2), any other
/// failure with its message (exit code 1).
template <typename Body>
int run_main(const command_line& cli, std::string_view program, Body body) {
  try {
    return body();
  } catch (const usage_error& error) {
    std::fprintf(stderr, "%.*s: %s\n\n%s", static_cast<int>(program.size()), program.data(),
                 error.what(), cli.usage().c_str());
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(),
                 error.what());
    return 1;
  }
}

}  // namespace samples
