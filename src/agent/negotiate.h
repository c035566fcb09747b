#pragma once
// Content negotiation for `/`: the seed line stays the default (curl sends `Accept: */*`), JSON is
// served only when the Accept header ranks application/json strictly above text/plain.

#include <string_view>

namespace nodeagent::agent {

bool prefers_json(std::string_view accept);

}  // namespace nodeagent::agent
