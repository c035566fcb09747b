"""node-agent-client against the real agent (and a hostile fake one) on loopback: locality check,
retry, a watch that outlives a long --interval and an agent restart, safe output, flag style.

The older CLI tests stay in test_kiada.py. Every process is started here and stopped by PID.
"""
import http.server
import json
import os
import re
import subprocess
import threading

import pytest

from conftest import SLOW, binary

PROGRAM = "node-agent-client"
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\x80-\x9f]")  # anything but LF


def cli(*args, env=None, timeout=20):
    full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    full.update(env or {})
    return subprocess.run([binary(PROGRAM), *args], capture_output=True, text=True,
                          errors="surrogateescape", env=full, timeout=timeout * SLOW)


def start_agent(start, listen="127.0.0.1:0", node="n1", *args):
    agent = start([binary("node-agent"), "--listen-address", listen, *args],
                  env={"NODE_NAME": node})
    return agent, agent.listening()


def url_of(addr):
    return f"unix://{addr}" if isinstance(addr, str) else f"http://{addr[0]}:{addr[1]}"


@pytest.fixture
def agent(start):
    return start_agent(start, "127.0.0.1:0", "n1", "--interval", "200ms")[1]


def test_version_help_and_one_error_style():
    result = cli("--version")
    assert result.returncode == 0 and re.fullmatch(rf"{PROGRAM} \d+\.\d+\.\d+\n", result.stdout)
    result = cli("--help")
    assert result.returncode == 0
    assert f"Usage: {PROGRAM} " in result.stdout  # not argv[0] such as ./build/bin/...
    for artefact in ("Excludes:", "Needs:", ":INT", " in [", "build/bin"):
        assert artefact not in result.stdout, artefact
    for flag in ("--expect-node", "--no-locality-check", "--retry", "--no-retry", "--version"):
        assert flag in result.stdout, flag
    for argv in (["--no-such-flag"], ["--count", "x", "--watch"], ["--json", "--watch"],
                 ["--count", "2"], ["--timeout", "5"], ["--retry", "--no-retry"],
                 ["--expect-node", "a", "--no-locality-check"], ["--url", "ftp://x"], []):
        result = cli(*argv)
        assert result.returncode == 2, (argv, result.stderr)
        lines = [l for l in result.stderr.splitlines() if not l.startswith("Run '")]
        assert lines and all(l.startswith(f"{PROGRAM}: ") for l in lines), (argv, result.stderr)


def test_locality_check_refuses_another_nodes_answers(agent):
    url = url_of(agent)
    for mode in ([], ["--json"], ["--watch", "--count", "1"], ["--get", "/healthz"]):
        result = cli("--url", url, *mode, env={"NODE_NAME": "n2"})
        assert result.returncode == 1, (mode, result)
        assert result.stdout == "", mode  # never the other node's data
        what = "stream" if "--watch" in mode else "answer"
        assert (f'{PROGRAM}: wrong node: {what} from node "n1", expected "n2" ({url})'
                in result.stderr), (mode, result.stderr)
    # NODE_NAME is the default; --expect-node overrides it; the check can be switched off.
    assert cli("--url", url, env={"NODE_NAME": "n1"}).returncode == 0
    assert cli("--url", url, "--expect-node", "n1", env={"NODE_NAME": "n2"}).returncode == 0
    assert cli("--url", url, "--expect-node", "n2").returncode == 1
    result = cli("--url", url, "--no-locality-check", "--json", env={"NODE_NAME": "n2"})
    assert result.returncode == 0 and json.loads(result.stdout)["node"] == "n1"


def test_retry_waits_for_an_agent_that_is_starting(start, tmp_path):
    path = tmp_path / "agent.sock"
    # Nothing there yet: one attempt only fails at once ...
    result = cli("--url", f"unix://{path}", "--no-retry")
    assert result.returncode == 1 and "no socket at" in result.stderr
    # ... while a retrying client is still waiting when the agent comes up.
    waiting = subprocess.Popen([binary(PROGRAM), "--url", f"unix://{path}", "--timeout", "30s"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={"NODE_NAME": "n1"})
    try:
        start_agent(start, f"unix://{path}")
        out, err = waiting.communicate(timeout=30 * SLOW)
        assert waiting.returncode == 0, err
        assert out.startswith("n1 uptime: "), out
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()


def read_events(proc, n):
    docs = []
    for _ in range(n):
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.poll() is not None else "stream ended"
        docs.append(json.loads(line))
    return docs


def test_watch_outlives_a_long_interval(start):
    """Events 20 s apart: the agent's heartbeats keep the 10 s idle limit from firing."""
    _, addr = start_agent(start, "127.0.0.1:0", "n1", "--interval", "20s")
    result = cli("--watch", "--count", "3", "--url", url_of(addr), "--no-retry",
                 env={"NODE_NAME": "n1"}, timeout=90)
    assert result.returncode == 0, result.stderr
    docs = [json.loads(l) for l in result.stdout.splitlines()]
    assert [d["node"] for d in docs] == ["n1", "n1", "n1"]


def test_watch_survives_an_agent_restart(start, tmp_path):
    path = tmp_path / "agent.sock"
    first, _ = start_agent(start, f"unix://{path}", "n1", "--interval", "200ms")
    proc = subprocess.Popen([binary(PROGRAM), "--watch", "--url", f"unix://{path}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"NODE_NAME": "n1"})
    try:
        assert read_events(proc, 1)[0]["node"] == "n1"
        first.stop()  # SIGTERM; the stream breaks
        start_agent(start, f"unix://{path}", "n1", "--interval", "200ms")
        docs = read_events(proc, 3)  # (one may still be the old agent's last)
        assert all(d["node"] == "n1" for d in docs)
        assert proc.poll() is None  # still watching
        proc.send_signal(2)
        assert proc.wait(timeout=10 * SLOW) == 0
        assert "reconnecting in" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class HostileAgent(http.server.BaseHTTPRequestHandler):
    """Answers like the agent, but with terminal control sequences in every string."""
    LINE = b"n1 uptime: 1s\x1b[2J\x1b]0;owned\x07\rNode info: forged\x00\x7f\xc2\x9b31m\xe2\x80\xae"

    def do_GET(self):
        if self.path == "/v1/node":
            body = (b'{"node":"n1",\r\n"kernel_release":"6.1\\u001b[31m\xc2\x85",'
                    b'"load":null,"errors":[]}')
            self.reply(200, "application/json", body)
        elif self.path == "/metrics":
            self.reply(200, "text/plain", b"a 1\nb\r2\x1b[A\n")
        elif self.path == "/fail":
            self.reply(503, "text/plain", b"down\rNode info: fine\x1b[K\n")
        else:
            self.reply(200, "text/plain", self.LINE + b"\n")

    def reply(self, status, type_, body):
        self.send_response(status)
        self.send_header("Content-Type", type_)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Node-Name", "n1")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def hostile():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HostileAgent)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_control_characters_never_reach_the_terminal(hostile):
    env = {"NODE_NAME": "n1"}
    result = cli("--url", hostile, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("n1 uptime: 1s\\u001b[2J\\u001b]0;owned\\u0007\\u000dNode info: "
                             "forged\\u0000\\u007f\\u009b31m\\u202e\n")
    result = cli("--url", hostile, "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and not CONTROL.search(result.stdout), result.stdout
    doc = json.loads(result.stdout)  # still JSON
    assert doc["kernel_release"] == "6.1\x1b[31m\x85"  # the escapes are JSON's own
    result = cli("--url", hostile, "--get", "/metrics", env=env)
    assert result.stdout == "a 1\nb\\u000d2\\u001b[A\n"
    result = cli("--url", hostile, "--get", "/fail", env=env)
    assert result.returncode == 1
    for text in (result.stdout, result.stderr):
        assert not CONTROL.search(text), text
        assert not any(l.startswith("Node info:") for l in text.splitlines()), text
    assert (f"{PROGRAM}: bad status 503: GET /fail: down\\u000dNode info: fine\\u001b[K\n"
            in result.stderr)
