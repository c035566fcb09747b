"""Hostile HTTP clients against the real node-agent (issue 13): request smuggling through an
unknown Transfer-Encoding, a refused client that pipelines, SSE watchers that never read.

Every load loop is bounded in count and time; every process is stopped by PID at teardown.
"""
import pathlib
import re
import socket
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "integration"))
from conftest import SLOW, binary, get, start  # noqa: E402,F401  (start is a fixture)

NODE = "hostile-node"


def start_agent(start, *args):
    agent = start([binary("node-agent"), "--listen-address", "127.0.0.1:0", "--interval", "200ms",
                   *args], env={"NODE_NAME": NODE})
    addr = agent.listening()
    agent.wait_for_line(r"first sample ready")
    return agent, addr


def exchange(addr, data, timeout=5):
    """Sends `data`, returns everything the agent answers until it closes the connection."""
    with socket.create_connection(addr, timeout=timeout * SLOW) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize("coding", [
    b"Transfer-Encoding: gzip",
    b"Transfer-Encoding: xchunked",
    b"Transfer-Encoding: chunked, identity",
    b"Transfer-Encoding:",
    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity",
    b"Transfer-Encoding: chunked\r\nContent-Length: 39",
    b"Content-Length: 39\r\nTransfer-Encoding: chunked",
])
def test_unknown_transfer_encoding_is_refused_and_the_body_never_served(start, coding):
    agent, addr = start_agent(start)
    # A proxy that understood the coding would forward all of this as ONE request whose body is
    # the second one; the agent must not serve that body as a request of its own.
    request = b"POST / HTTP/1.1\r\nHost: x\r\n" + coding + b"\r\n\r\n" + SMUGGLED
    answer = exchange(addr, request)
    statuses = re.findall(rb"^HTTP/1\.1 (\d{3})", answer, re.M)
    assert statuses == [b"400"], answer
    assert b"Connection: close" in answer
    for method in (b"GET", b"HEAD"):  # and on the methods that are served
        answer = exchange(addr, request.replace(b"POST", method, 1))
        assert re.findall(rb"^HTTP/1\.1 (\d{3})", answer, re.M) == [b"400"], answer
    # /smuggled would have been a 404 counted on route "other".
    _, _, metrics = get(addr, "/metrics")
    assert b'route="other",code="404"' not in metrics, metrics


def test_a_refused_pipelining_client_is_closed_and_barely_logged(start):
    agent, addr = start_agent(start, "--allow-cidr", "10.0.0.0/8")
    burst = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 1000
    connections = closed = 0
    deadline = time.monotonic() + 3  # a bounded flood: at most 3 s, at most 2,000 connections
    while time.monotonic() < deadline and connections < 2000:
        with socket.create_connection(addr, timeout=5 * SLOW) as sock:
            connections += 1
            try:
                sock.sendall(burst)
            except (BrokenPipeError, ConnectionResetError):
                pass  # closed after the first 403 while we were still sending: fine
            answer = b""
            try:
                while chunk := sock.recv(65536):
                    answer += chunk
                closed += 1
            except ConnectionResetError:
                closed += 1
            assert answer.count(b"HTTP/1.1 403") <= 1, answer[:300]
    assert closed == connections
    lines = [l for l in agent.lines if "client refused" in l]
    assert 1 <= len(lines) <= 2, lines  # one line per 10 s, each with a count
    assert re.search(r"refused=\d+", lines[0])


def tcp_mem_pages():
    for line in open("/proc/net/sockstat"):
        if line.startswith("TCP:"):
            fields = line.split()
            return int(fields[fields.index("mem") + 1])
    pytest.fail("no TCP line in /proc/net/sockstat")


def dropped(addr):
    _, _, metrics = get(addr, "/metrics")
    match = re.search(rb"^nodeagent_http_streams_dropped_total (\d+)$", metrics, re.M)
    assert match, metrics[:500]
    return int(match.group(1))


WATCHERS = 200


def test_watchers_that_never_read_are_dropped_and_kernel_memory_stays_bounded(start):
    agent, addr = start_agent(start, "--max-connections", "1000")
    before = tcp_mem_pages()
    socks = []
    try:
        for _ in range(WATCHERS):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tiny window
            sock.connect(addr)
            sock.sendall(b"GET /v1/node/watch HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(sock)  # and never read
        peak = before
        deadline = time.monotonic() + 60 * SLOW  # events of a few KiB every 200 ms
        while dropped(addr) < WATCHERS and time.monotonic() < deadline:
            peak = max(peak, tcp_mem_pages())
            time.sleep(0.2)
        assert dropped(addr) == WATCHERS
        # Per watcher: at most the agent's capped send buffer (2 x 64 KiB) plus the client's
        # receive buffer; without the cap the agent's side grows to 4 MiB each.
        per_watcher = (2 * 64 * 1024 + 64 * 1024) // 4096
        assert peak - before <= WATCHERS * per_watcher, (before, peak)
        _, _, metrics = get(addr, "/metrics")
        assert b"nodeagent_http_streams_dropped_total" in metrics
    finally:
        for sock in socks:
            sock.close()
