#pragma once
// Kiada's page, script and style sheet, compiled into the binary from src/kiada/assets/
// (embed_assets.cmake generates the definition). Static storage: safe to share between threads
// and to hand to http::Response::static_text without copying.

#include <span>
#include <string_view>

namespace nodeagent::kiada {

struct Asset {
  std::string_view name;          // file name below assets/, e.g. "kiada.js"
  std::string_view content_type;  // from the extension
  std::string_view body;
};

std::span<const Asset> assets();

// nullptr when there is no such asset.
inline const Asset* find_asset(std::string_view name) {
  for (const Asset& a : assets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

}  // namespace nodeagent::kiada
