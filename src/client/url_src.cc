// Boost.URL's implementation, compiled once for the client library (header-only mode).
#include <boost/url/src.hpp>
