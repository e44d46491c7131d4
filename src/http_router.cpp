// http_router: exact-path routing with 404/405 and HEAD answered by GET.
#include "coronet/http/http_router.hpp"

namespace coronet {

void http_router::add_handler(std::string method, std::string path, http_handler handler) {
  for (route& existing : routes_) {
    if (existing.method == method && existing.path == path) {
      existing.handler = std::move(handler);
      return;
    }
  }
  routes_.push_back({std::move(method), std::move(path), std::move(handler)});
}

http_router::match http_router::find(std::string_view method, std::string_view path) const {
  match found;
  const route* get = nullptr;
  bool has_head = false;
  for (const route& candidate : routes_) {
    if (candidate.path != path) continue;
    if (candidate.method == method) {
      found.handler = &candidate.handler;
      return found;
    }
    if (candidate.method == "GET") get = &candidate;
    if (candidate.method == "HEAD") has_head = true;
    if (!found.allow.empty()) found.allow += ", ";
    found.allow += candidate.method;
  }
  if (method == "HEAD" && get != nullptr) {
    found.handler = &get->handler;
    found.head_from_get = true;
    found.allow.clear();
    return found;
  }
  if (get != nullptr && !has_head) found.allow += ", HEAD";
  found.status = found.allow.empty() ? 404 : 405;
  return found;
}

}  // namespace coronet
