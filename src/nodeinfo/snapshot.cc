#include "nodeinfo/snapshot.h"

namespace nodeagent::nodeinfo {

std::optional<std::uint64_t> Memory::used() const {
  if (!total || !available || *available > *total) return std::nullopt;
  return *total - *available;
}

std::optional<std::uint64_t> Memory::swap_used() const {
  if (!swap_total || !swap_free || *swap_free > *swap_total) return std::nullopt;
  return *swap_total - *swap_free;
}

}  // namespace nodeagent::nodeinfo
