#!/bin/sh
# ctest helper: `render_fixture <host> prometheus | promtool check metrics` must find no format
# error and no lint problem except one: node_exporter's own meminfo names (node_memory_MemTotal_bytes
# ...) are camelCase, which promtool's lint flags; the agent keeps them so existing dashboards
# work. Any other complaint, or a camelCase one for another name, fails.
# usage: promtool_check.sh <render_fixture> <host-dir> <promtool>
set -eu
render=$1 host=$2 promtool=$3
out=$(mktemp)
lint=$(mktemp)
trap 'rm -f "$out" "$lint"' EXIT
"$render" "$host" prometheus >"$out"
test -s "$out"
rc=0
"$promtool" check metrics <"$out" >"$lint" 2>&1 || rc=$?
# rc 0: clean; 3: lint problems only; anything else: the text does not parse.
if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then cat "$lint"; exit 1; fi
others=$(grep -Ev "^node_memory_[A-Za-z0-9_]+ metric names should be written in 'snake_case' not 'camelCase'$" "$lint" || true)
if [ -n "$others" ]; then printf 'promtool complaints other than node_exporter camelCase:\n%s\n' "$others"; exit 1; fi
echo "promtool: ok ($(grep -c '^# TYPE' "$out") families, $(grep -vc '^#' "$out") samples, $(grep -c . "$lint" || true) camelCase names of node_exporter's meminfo)"
