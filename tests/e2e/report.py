"""The per-mode locality table the suite prints and writes."""

from __future__ import annotations

rows: list[dict] = []


def record(mode: str, case: str, requests: int, local: int, foreign: int, errors: int,
           note: str = "") -> None:
    rows.append({"mode": mode, "case": case, "requests": requests, "local": local,
                 "foreign": foreign, "errors": errors, "note": note})


def table() -> str:
    head = ("| mode | case | requests | local hits | foreign hits | errors | note |\n"
            "|---|---|---:|---:|---:|---:|---|\n")
    return head + "".join(
        f"| {r['mode']} | {r['case']} | {r['requests']} | {r['local']} | {r['foreign']} | "
        f"{r['errors']} | {r['note']} |\n" for r in rows)
