// consumer URL: prints the agent's one-line summary (exit 0) or the library's typed error (exit 1).
// Built by tests/integration/test_install.py against an installed prefix, through CMake and
// through pkg-config, to prove the installed headers and library are complete on their own.
#include <iostream>

#include "nodeagent/client.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer URL\n";
    return 2;
  }
  auto discovery = nodeagent::client::discover(argv[1]);
  if (!discovery) {
    std::cerr << "consumer: " << discovery.error().message() << '\n';
    return 1;
  }
  nodeagent::client::Client client(discovery->endpoint);
  auto line = client.text();
  if (!line) {
    std::cerr << "consumer: " << line.error().message() << '\n';
    return 1;
  }
  std::cout << *line << '\n';
  return 0;
}
