// Boost.JSON is used header-only: this is the one translation unit of the agent library that
// compiles its sources (used by the /v1/agent self-report).
#include <boost/json/src.hpp>
