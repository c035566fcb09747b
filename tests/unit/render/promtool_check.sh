#!/bin/sh
# ctest helper: `render_fixture <host> prometheus | promtool check metrics` must exit 0: no
# format errors (rc 1) and no lint problems (rc 3).
# usage: promtool_check.sh <render_fixture> <host-dir> <promtool>
set -eu
render=$1 host=$2 promtool=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$render" "$host" prometheus >"$out"
test -s "$out"
"$promtool" check metrics <"$out"
echo "promtool: ok ($(grep -c '^# TYPE' "$out") families, $(grep -vc '^#' "$out") samples)"
