"""The per-mode locality table the suite prints and writes."""

from __future__ import annotations

import math
from collections import Counter

rows: list[dict] = []


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def record(mode: str, case: str, counts: Counter, note: str = "",
           latencies: list[float] | None = None, rollout_s: float | None = None) -> None:
    """One row. `counts` are Kiada page outcomes (test_locality.classify); `latencies` the page
    times (seconds) to summarise; `rollout_s` how long the rollout took."""
    lat = ("", "", "")
    if latencies:
        lat = tuple(f"{percentile(latencies, p) * 1000:.0f}" for p in (50, 99, 100))
    rows.append({"mode": mode, "case": case, "requests": sum(counts.values()),
                 "local": counts["local"], "foreign": counts["foreign"],
                 "refused": counts["refused"], "errors": counts["error"] + counts["kiada-failed"],
                 "p50": lat[0], "p99": lat[1], "max": lat[2],
                 "rollout": "" if rollout_s is None else f"{rollout_s:.1f}", "note": note})


def table() -> str:
    head = ("| mode | case | requests | local | foreign | refused (wrong node) | errors "
            "| p50 ms | p99 ms | max ms | rollout s | note |\n"
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
    return head + "".join(
        f"| {r['mode']} | {r['case']} | {r['requests']} | {r['local']} | {r['foreign']} | "
        f"{r['refused']} | {r['errors']} | {r['p50']} | {r['p99']} | {r['max']} | "
        f"{r['rollout']} | {r['note']} |\n" for r in rows)
