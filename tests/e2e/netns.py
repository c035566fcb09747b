"""Small helpers around network namespaces: run commands in them and open sockets inside them.

The harness itself stays in the host's namespace; a socket is created inside a namespace by a
short-lived thread that joins the namespace with setns(2) (which only affects the calling thread),
so thousands of requests cost no fork/exec each.
"""

from __future__ import annotations

import ctypes
import http.client
import os
import socket
import subprocess
import threading
import time
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def sh(*args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    """Runs a command, returns its result; on failure the error names the command and stderr."""
    proc = subprocess.run(list(args), input=input, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} -> exit {proc.returncode}: {proc.stderr.strip()}")
    return proc


def ns_sh(ns: str, *args: str, check: bool = True, input: str | None = None):
    return sh("ip", "netns", "exec", ns, *args, check=check, input=input)


def list_netns() -> list[str]:
    out = sh("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def in_netns(ns: str, fn, *args, **kwargs):
    """Calls fn(*args, **kwargs) on a thread that has joined network namespace `ns`."""
    result: dict = {}

    def body():
        try:
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns({ns}): {os.strerror(err)}")
            finally:
                os.close(fd)
            result["value"] = fn(*args, **kwargs)
        except BaseException as e:  # handed to the caller's thread
            result["error"] = e

    t = threading.Thread(target=body, name=f"netns-{ns}")
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


@dataclass
class Reply:
    status: int | None  # None when no HTTP answer came (refused, timeout, reset, unreachable)
    body: str
    error: str = ""
    seconds: float = 0.0  # time from sending the request to the end of the reply
    started: float = 0.0  # time.monotonic() when the request was sent


def _get(host: str, port: int, path: str, timeout: float, count: int, headers: dict,
         stop: threading.Event | None = None, max_seconds: float | None = None) -> list[Reply]:
    replies: list[Reply] = []
    conn: http.client.HTTPConnection | None = None
    deadline = time.monotonic() + max_seconds if max_seconds else None
    for _ in range(count):
        if stop is not None and stop.is_set():
            break
        if deadline is not None and time.monotonic() > deadline:
            break
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=timeout)
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read().decode("utf-8", "replace")
            replies.append(Reply(resp.status, body, seconds=time.monotonic() - t0, started=t0))
            if resp.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            replies.append(Reply(None, "", f"{type(e).__name__}: {e}", time.monotonic() - t0,
                                 t0))
            if conn is not None:
                conn.close()
            conn = None
    if conn is not None:
        conn.close()
    return replies


def http_get(ns: str, host: str, port: int, path: str = "/", timeout: float = 3.0,
             count: int = 1, headers: dict | None = None) -> list[Reply]:
    """`count` sequential GETs (one keep-alive connection, reopened when it breaks) from `ns`."""
    return in_netns(ns, _get, host, port, path, timeout, count, headers or {})


def http_loop(ns: str, host: str, port: int, path: str, stop: threading.Event, max_count: int,
              max_seconds: float, out: list[Reply], timeout: float = 5.0) -> None:
    """GETs in a loop until `stop` is set, `max_count` requests or `max_seconds` have passed;
    replies are appended to `out` as they come (for load during a rollout)."""

    # In chunks, so the caller sees progress while the loop runs (one connection per chunk).
    deadline = time.monotonic() + max_seconds
    while not stop.is_set() and len(out) < max_count and time.monotonic() < deadline:
        chunk = min(20, max_count - len(out))
        out.extend(in_netns(ns, _get, host, port, path, timeout, chunk, {}, stop,
                            deadline - time.monotonic()))


def tcp_connect(ns: str, host: str, port: int, timeout: float = 2.0) -> str:
    """Tries a TCP connect from `ns`; returns "connected" or the error's name."""

    def attempt():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return "connected"
        except OSError as e:
            name = type(e).__name__
            return f"{name}({os.strerror(e.errno)})" if e.errno else name

    return in_netns(ns, attempt)
