// Boost.JSON's implementation, compiled once for the client library (header-only mode).
#include <boost/json/src.hpp>
