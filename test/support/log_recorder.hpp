// A coronet::log_hook that keeps every record, so a test can assert on what a server logged.
#pragma once

#include <coronet/log.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace coronet_test {

struct log_recorder {
  std::shared_ptr<std::vector<std::string>> lines = std::make_shared<std::vector<std::string>>();

  /// The hook to put in a server's options; copies share this recorder's lines.
  coronet::log_hook hook() const {
    return [lines = lines](coronet::log_level, std::string_view message) {
      lines->emplace_back(message);
    };
  }

  /// Whether any record contains `text`.
  bool contains(std::string_view text) const {
    for (const std::string& line : *lines) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

}  // namespace coronet_test
