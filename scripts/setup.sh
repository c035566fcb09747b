#!/usr/bin/env bash
# Installs the Debian packages a make target needs. Idempotent: packages already present are
# skipped, and `apt-get update` runs at most once, only when something is missing.
#   scripts/setup.sh build   compilers and libraries (make build, make run)
#   scripts/setup.sh test    build + every peer the test suites start (make test)
#   scripts/setup.sh bench   build + the benchmark's peers (make bench)
set -euo pipefail

build=(build-essential cmake make ccache g++ clang clang-format libclang-rt-14-dev pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libcli11-dev libfmt-dev
  libcap-ng-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev)
test=(python3 python3-pytest python3-jsonschema python3-yaml curl prometheus chromium nftables
  iproute2 procps util-linux nodejs npm podman)
bench=(wrk nginx-light prometheus-node-exporter gnuplot-nox procps python3)

want=("${build[@]}")
case "${1:-build}" in
  build) ;;
  test) want+=("${test[@]}") ;;
  bench) want+=("${bench[@]}") ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

# Debian's node_exporter for the side-by-side test (tests/integration/test_node_exporter.py):
# unpacked into build/peers, not installed, because its package would start a service on :9100.
peer_dir="$(cd "$(dirname "$0")/.." && pwd)/build/peers/node_exporter"
fetch_node_exporter() {
  [[ -x $peer_dir/usr/bin/prometheus-node-exporter ]] && return 0
  command -v prometheus-node-exporter >/dev/null && return 0
  local tmp
  tmp=$(mktemp -d)
  echo "setup: fetching prometheus-node-exporter into $peer_dir"
  if ! (cd "$tmp" && apt-get download -q prometheus-node-exporter); then
    apt-get update -q
    (cd "$tmp" && apt-get download -q prometheus-node-exporter)
  fi
  mkdir -p "$peer_dir"
  dpkg-deb -x "$tmp"/prometheus-node-exporter_*.deb "$peer_dir"
  rm -rf "$tmp"
}

missing=()
for pkg in "${want[@]}"; do
  # nodejs may come from another repository that also provides npm; accept any installed npm.
  if [[ $pkg == npm ]] && command -v npm >/dev/null; then continue; fi
  if [[ $pkg == nodejs ]] && command -v node >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  [[ ${1:-build} == test ]] && fetch_node_exporter
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing packages: ${missing[*]}; run as root or install them" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
[[ ${1:-build} == test ]] && fetch_node_exporter
exit 0
