#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each, JOBS at a time, starting from its committed seed
# corpus (tests/fuzz/corpus/<name>/ for target fuzz_<name>), with <name>.dict and the flags in
# <name>.options when they exist. New corpus entries go to a scratch
# directory, so the committed corpus only changes when someone copies interesting inputs back.
# Fails if any target reports a crash, sanitizer error, leak, timeout or invariant violation;
# the offending input is kept in tests/output/fuzz/.
#   tests/fuzz/run.sh build/fuzz/bin [SECONDS] [JOBS]
set -euo pipefail
bin=$(cd "$1" && pwd)
seconds=${2:-60}
jobs=${3:-2}
here=$(cd "$(dirname "$0")" && pwd)
artifacts=$here/../output/fuzz
mkdir -p "$artifacts"
work=$(mktemp -d /tmp/nodeagent-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

targets=()
for corpus in "$here"/corpus/*/; do
  name=$(basename "$corpus")
  [[ -x $bin/fuzz_$name ]] || { echo "fuzz: $bin/fuzz_$name is missing (cmake --preset fuzz)" >&2; exit 1; }
  targets+=("$name")
done

run_one() {
  local name=$1
  mkdir -p "$work/$name/corpus"
  local rc=0 extra=()
  [[ -f $here/$name.dict ]] && extra+=(-dict="$here/$name.dict")
  # Optional per-target libFuzzer flags, one per line (e.g. -max_len=2048).
  [[ -f $here/$name.options ]] && mapfile -t -O ${#extra[@]} extra < <(grep -v '^#' "$here/$name.options")
  "$bin/fuzz_$name" "${extra[@]}" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
    "$work/$name/corpus" "$here/corpus/$name" >"$work/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$name.rc"
}
export -f run_one
export bin seconds here artifacts work

echo "fuzz: ${#targets[@]} targets x ${seconds}s, $jobs at a time"
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'

failed=0
for name in "${targets[@]}"; do
  rc=$(cat "$work/$name.rc")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$work/$name.log" | tail -1 || true)
  corpus=$(find "$work/$name/corpus" -type f | wc -l)
  if [[ $rc == 0 ]]; then
    printf 'fuzz: %-14s ok   %10s execs  %s  %s new corpus entries\n' "$name" "${execs:-?}" "$cov" "$corpus"
  else
    printf 'fuzz: %-14s FAIL (exit %s); log tail:\n' "$name" "$rc"
    tail -40 "$work/$name.log" | sed 's/^/    /'
    failed=1
  fi
done
exit $failed
