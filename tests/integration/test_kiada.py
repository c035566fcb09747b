"""Kiada 0.9, the node-agent-client CLI and the real agent on loopback, plus headless Chromium.

Every test that needs the agent starts the real `node-agent` from NODEAGENT_BIN; they skip (with
the reason) only when that binary is absent.
"""
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

import conftest
from conftest import BIN, REPO, SLOW, binary

OUTPUT = REPO / "tests" / "output"
PROCESSED = re.compile(r'Request processed by Kiada 0\.9 running in pod "(?P<pod>[^"]*)" '
                       r'on node "(?P<node>[^"]*)"\.')
NODE_INFO = re.compile(r"^Node info: (?P<info>.*)$", re.M)
SEED = re.compile(r"^(?P<node>\S+) uptime: (?:\d+h)?(?:\d+m)?\d+s, load average: "
                  r"\d+\.\d\d, \d+\.\d\d, \d+\.\d\d, active/total threads: \d+/\d+$")
# The bound: every page answers within the client timeout + 100 ms. Sanitizer builds get
# a little extra room for their own overhead (the bound is about Kiada's design, not speed).
AGENT_TIMEOUT = 1.0
BOUND = AGENT_TIMEOUT + 0.1 + (0.4 if SLOW > 1 else 0)


def agent_binary():
    path = BIN / "node-agent"
    if not path.exists():
        pytest.skip(f"{path} is absent: build the agent (make build) to run this test")
    return str(path)


def get(addr, path, headers=None, timeout=5):
    """conftest.get with the body decoded: Kiada's pages are text."""
    status, response_headers, body = conftest.get(addr, path, headers, timeout=timeout)
    return status, response_headers, body.decode()


def start_agent(start, node="n1", listen="127.0.0.1:0"):
    agent = start([agent_binary(), "--listen-address", listen], env={"NODE_NAME": node})
    return agent, agent.listening()


def start_kiada(start, env, *args, stdin=False):
    kiada = start([binary("kiada"), "--listen-address", "127.0.0.1:0", *args], env=env, stdin=stdin)
    return kiada, kiada.listening()


def wait_for(predicate, what, timeout=10):
    deadline = time.monotonic() + timeout * SLOW
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def url_of(addr):
    return f"http://{addr[0]}:{addr[1]}"


@pytest.fixture
def agent(start):
    return start_agent(start)


def test_text_page_shows_the_local_agents_node(start, agent):
    _, agent_addr = agent
    _, addr = start_kiada(start, {"NODE_NAME": "n1", "POD_NAME": "kiada-1", "POD_IP": "10.1.1.1",
                                  "NODE_IP": "127.0.0.1", "NODE_AGENT_URL": url_of(agent_addr)})
    status, headers, body = get(addr, "/text")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    processed = PROCESSED.search(body)
    info = NODE_INFO.search(body)
    assert processed and info, body
    assert processed["pod"] == "kiada-1"
    seed = SEED.match(info["info"])
    assert seed, info["info"]
    # Locality: the node Kiada runs on is the node the agent reports.
    assert seed["node"] == processed["node"] == "n1"
    assert f"Pod hostname: {socket.gethostname()}; Pod IP: 10.1.1.1; Node IP: 127.0.0.1; " \
           f"Client IP: 127.0.0.1" in body
    status, headers, root = get(addr, "/")  # curl-like clients get the text page on / too
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert PROCESSED.search(root)["node"] == "n1"


def test_node_agent_url_is_expanded_like_the_kubelet_does(start, agent):
    _, agent_addr = agent
    _, addr = start_kiada(start, {"NODE_NAME": "n1", "NODE_IP": agent_addr[0],
                                  "NODE_AGENT_URL": f"http://$(NODE_IP):{agent_addr[1]}"})
    body = get(addr, "/text")[2]
    assert SEED.match(NODE_INFO.search(body)["info"]), body


def test_browsers_are_redirected_and_the_html_page_has_the_facts(start, agent):
    _, agent_addr = agent
    _, addr = start_kiada(start, {"NODE_NAME": "n1", "NODE_AGENT_URL": url_of(agent_addr)})
    status, headers, _ = get(addr, "/", {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert status == 302 and headers["Location"] == "/html"
    status, headers, html = get(addr, "/html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert 'on node <strong>&quot;n1&quot;</strong>' in html
    assert re.search(r'class="ok">Node info: n1 uptime: ', html), html
    for asset, kind in (("/assets/kiada.js", "text/javascript"), ("/assets/kiada.css", "text/css")):
        status, headers, _ = get(addr, asset)
        assert status == 200 and headers["Content-Type"].startswith(kind)
    assert get(addr, "/healthz/ready")[0] == 200


def read_events(sock, count):
    """Sends GET /events on `sock` and returns what arrived once `count` node events have."""
    sock.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    data = b""
    while data.count(b"event: node") < count:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    return data


def test_events_relay_the_agents_stream(start, agent):
    _, agent_addr = agent
    _, addr = start_kiada(start, {"NODE_NAME": "n1", "NODE_AGENT_URL": url_of(agent_addr)})
    with socket.create_connection(addr, timeout=10 * SLOW) as sock:
        data = read_events(sock, 2)
    docs = [json.loads(line[6:]) for line in data.split(b"\n") if line.startswith(b"data: {")]
    assert len(docs) >= 2 and all(d["node"] == "n1" for d in docs)
    assert docs[0]["time"] != docs[1]["time"]


def timed_get(addr, path):
    began = time.monotonic()
    status, _, body = get(addr, path)
    return status, body, time.monotonic() - began


def test_stopped_agent_gives_an_error_within_the_bound(start, agent):
    agent_proc, agent_addr = agent
    _, addr = start_kiada(start, {"NODE_NAME": "n1", "NODE_AGENT_URL": url_of(agent_addr)})
    assert SEED.match(NODE_INFO.search(get(addr, "/text")[2])["info"])
    agent_proc.stop()
    for path in ("/", "/text", "/html"):
        status, body, took = timed_get(addr, path)
        assert status == 200
        assert f"Node info: ERROR: connection refused: 127.0.0.1:{agent_addr[1]}" in body, body
        assert took < BOUND, f"{path} took {took:.3f}s"


def test_hung_agent_gives_a_timeout_error_within_the_bound(start):
    # Listens but never accepts: connects succeed (kernel backlog), answers never come.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    with silent:
        _, addr = start_kiada(start, {"NODE_NAME": "n1",
                                      "NODE_AGENT_URL": url_of(silent.getsockname())})
        results = []
        threads = [threading.Thread(target=lambda p=p: results.append((p, *timed_get(addr, p))))
                   for p in ("/text", "/html", "/", "/text")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 4
        for path, status, body, took in results:
            assert status == 200
            assert "Node info: ERROR: timeout" in body, body
            assert took < BOUND, f"{path} took {took:.3f}s"
        assert get(addr, "/healthz/ready")[0] == 200


def test_missing_agent_configuration_is_an_error(start):
    _, addr = start_kiada(start, {"NODE_NAME": "n1"})
    status, body, took = timed_get(addr, "/text")
    assert status == 200
    assert "Node info: ERROR: no agent configured" in body, body
    assert took < BOUND


def test_unix_socket_agent_url(start, tmp_path):
    sock_dir = tmp_path / "run"
    sock_dir.mkdir()
    os.chmod(sock_dir, 0o777)
    path = sock_dir / "agent.sock"
    agent_proc, agent_path = start_agent(start, listen=f"unix://{path}")
    assert agent_path == str(path)
    _, addr = start_kiada(start, {"NODE_NAME": "n1", "NODE_AGENT_URL": f"unix://{path}"})
    body = get(addr, "/text")[2]
    assert SEED.match(NODE_INFO.search(body)["info"])["node"] == "n1", body
    # The exec readiness probe for unix-socket deployments (no shell in the image).
    probe = subprocess.run([binary("node-agent-client"), "--url", f"unix://{path}", "--get",
                            "/readyz", "--quiet"], capture_output=True, timeout=10 * SLOW)
    assert probe.returncode == 0, probe
    assert probe.stdout == b"ready\n" and probe.stderr == b""  # --quiet silences stderr only


def test_stdin_lines_become_the_status_message(start, agent):
    _, agent_addr = agent
    kiada, addr = start_kiada(start, {"NODE_NAME": "n1", "NODE_AGENT_URL": url_of(agent_addr),
                                      "INITIAL_STATUS_MESSAGE": "starting up"}, stdin=True)
    assert "Status message: starting up\n" in get(addr, "/text")[2]
    kiada.proc.stdin.write("maintenance at 5 <pm>\n")
    kiada.proc.stdin.flush()
    wait_for(lambda: "Status message: maintenance at 5 <pm>\n" in get(addr, "/text")[2],
             "the status message to change")
    assert "maintenance at 5 &lt;pm&gt;" in get(addr, "/html")[2]


def test_kiada_flags(start):
    result = subprocess.run([binary("kiada"), "--help"], capture_output=True, text=True,
                            timeout=10)
    assert result.returncode == 0
    for flag in ("--listen-port", "--listen-address", "--agent-url", "--agent-timeout"):
        assert flag in result.stdout
    assert "POD_NAME" in result.stdout and "Exit status" in result.stdout
    result = subprocess.run([binary("kiada"), "--listen-address", "nowhere"],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 2 and "listen-address" in result.stderr
    # Every usage error exits 2, like the agent's and the client's (CLI11's own codes are not).
    for argv in (["--no-such-flag"], ["--threads", "0"], ["--listen-port", "x"],
                 ["--listen-address", ""], ["--agent-url", "ftp://x"], ["--agent-url", ""]):
        result = subprocess.run([binary("kiada"), *argv], capture_output=True, text=True,
                                timeout=10)
        assert result.returncode == 2, (argv, result.stderr)
        assert result.stderr, argv
    # Durations take a unit, as everywhere in this project; the range is part of the message.
    for bad in ("5", "0s", "2h", "1e3ms"):
        result = subprocess.run([binary("kiada"), "--agent-timeout", bad],
                                capture_output=True, text=True, timeout=10)
        assert result.returncode == 2, bad
        assert f'bad --agent-timeout "{bad}": a duration from 1ms to 1h' in result.stderr


def cli(*args, env=None, timeout=10):
    full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    full.update(env or {})
    return subprocess.run([binary("node-agent-client"), *args], capture_output=True, text=True,
                          env=full, timeout=timeout * SLOW)


def test_cli_prints_the_line_and_the_discovery_source(agent):
    _, agent_addr = agent
    result = cli(env={"NODE_AGENT_URL": "http://$(NODE_IP):%d" % agent_addr[1],
                      "NODE_IP": "127.0.0.1"})
    assert result.returncode == 0, result.stderr
    assert SEED.match(result.stdout.rstrip("\n"))["node"] == "n1"
    assert result.stderr == ("agent: NODE_AGENT_URL=http://$(NODE_IP):%d -> http://127.0.0.1:%d\n"
                             % (agent_addr[1], agent_addr[1]))
    result = cli("--json", "--url", url_of(agent_addr))
    assert result.returncode == 0 and json.loads(result.stdout)["node"] == "n1"
    result = cli("--watch", "--count", "2", "--url", url_of(agent_addr))
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) == 2
    assert [json.loads(l)["node"] for l in lines] == ["n1", "n1"]
    assert cli("--get", "/readyz", "--url", url_of(agent_addr)).returncode == 0
    result = cli("--get", "/no-such-route", "--url", url_of(agent_addr))
    assert result.returncode == 1
    # The same error the library gives: the path as sent and the agent's one-line reason.
    assert result.stderr.endswith(
        "node-agent-client: bad status 404: GET /no-such-route: not found\n")


def test_cli_watch_stops_on_sigint(agent):
    _, agent_addr = agent
    proc = subprocess.Popen([binary("node-agent-client"), "--watch", "--url", url_of(agent_addr)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert json.loads(first)["node"] == "n1"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10 * SLOW) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_exit_codes_without_an_agent():
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))
    port = refused.getsockname()[1]
    refused.close()
    result = cli("--url", f"http://127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"connection refused: 127.0.0.1:{port}" in result.stderr
    result = cli()
    assert result.returncode == 2 and "no agent configured" in result.stderr
    result = cli("--url", "ftp://x")
    assert result.returncode == 2 and "unsupported scheme" in result.stderr
    assert cli("--no-such-flag").returncode == 2
    for bad in ("soon", "5", "0ms", "25h"):
        result = cli("--timeout", bad, "--url", "http://127.0.0.1:1")
        assert result.returncode == 2, bad
        assert f'bad --timeout "{bad}": a duration from 1ms to 24h' in result.stderr
    for argv in (["--get", ""], ["--get", "readyz"], ["--watch", "--count", "0"],
                 ["--count", "-1"]):
        result = cli(*argv, "--url", "http://127.0.0.1:1")
        assert result.returncode == 2 and result.stderr, argv
        assert "179769" not in result.stderr, result.stderr  # no double's maximum in messages
    result = cli("--help")
    assert result.returncode == 0 and "Exit codes:" in result.stdout


# --- headless Chromium -------------------------------------------------------------------------

class Chromium:
    """Chromium driven over the DevTools protocol on a pipe (fds 3/4): stdlib only, no ports."""

    def __init__(self, profile):
        exe = shutil.which("chromium")
        if exe is None:
            pytest.fail("chromium is not installed (scripts/setup.sh test installs it)")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
                 "--mute-audio", f"--user-data-dir={profile}", "--remote-debugging-pipe",
                 "about:blank"]
        # bash (dash cannot name fds above 9) moves the pipe ends to fds 3 and 4, then becomes chromium.
        script = f'exec "$0" "$@" 3<&{to_chrome_r} 4>&{from_chrome_w} {to_chrome_r}<&- {from_chrome_w}>&-'
        self.proc = subprocess.Popen(["/bin/bash", "-c", script, exe, *flags],
                                     pass_fds=(to_chrome_r, from_chrome_w),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._buffer = b""
        self.stderr_tail = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr_tail = (self.stderr_tail + [line.decode(errors="replace")])[-20:]

    def send(self, method, params=None, session=None, timeout=30):
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout * SLOW
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._next_id:
                    if "error" in reply:
                        pytest.fail(f"{method}: {reply['error']}")
                    return reply["result"]
            if time.monotonic() > deadline:
                pytest.fail(f"no reply to {method}; chromium said: {''.join(self.stderr_tail)}")
            import select
            ready, _, _ = select.select([self._from_chrome], [], [], 0.5)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    pytest.fail(f"chromium exited: {''.join(self.stderr_tail)}")
                self._buffer += chunk

    def close(self):
        try:
            if self.proc.poll() is None:
                os.write(self._to_chrome, json.dumps({"id": 0, "method": "Browser.close"}).encode()
                         + b"\0")
                self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self._to_chrome)
            os.close(self._from_chrome)


def test_browser_draws_the_live_chart(start, agent):
    _, agent_addr = agent
    _, addr = start_kiada(start, {"NODE_NAME": "n1", "POD_NAME": "kiada-browser",
                                  "NODE_AGENT_URL": url_of(agent_addr),
                                  "INITIAL_STATUS_MESSAGE": "rendered by headless Chromium"})
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kiada-chromium-") as profile:
        browser = Chromium(profile)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget",
                                   {"targetId": target, "flatten": True})["sessionId"]
            browser.send("Emulation.setDeviceMetricsOverride",
                         {"width": 900, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
                         session)
            browser.send("Page.navigate", {"url": f"{url_of(addr)}/html"}, session)

            def evaluate(expr):
                r = browser.send("Runtime.evaluate", {"expression": expr, "returnByValue": True},
                                 session)
                return r["result"].get("value")

            points = wait_for(
                lambda: (evaluate("(() => { const c = document.getElementById('chart');"
                                  " return c ? Number(c.dataset.points) : 0; })()") or 0) >= 2
                and evaluate("Number(document.getElementById('chart').dataset.points)"),
                "the chart to draw two live points", timeout=30)
            assert points >= 2
            assert evaluate("document.getElementById('live-state').textContent") == "live from n1"
            assert re.match(r"\d+\.\d\d$", evaluate("document.getElementById('load1').textContent"))
            assert "on node \"n1\"" in evaluate("document.getElementById('processed-by').textContent")
            assert evaluate("document.getElementById('node-info').textContent").startswith(
                "Node info: n1 uptime: ")
            # The chart really has ink on it: count non-blank pixels of the canvas.
            inked = evaluate("""(() => { const c = document.getElementById('chart');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()""")
            assert inked > 1000, inked
            shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)
            png = base64.b64decode(shot["data"])
            assert png.startswith(b"\x89PNG")
            (OUTPUT / "kiada-html.png").write_bytes(png)
        finally:
            browser.close()


def test_sigterm_ends_streams_and_exits_cleanly(start, agent):
    _, agent_addr = agent
    kiada, addr = start_kiada(start, {"NODE_NAME": "n1", "NODE_AGENT_URL": url_of(agent_addr)})
    with socket.create_connection(addr, timeout=10 * SLOW) as sock:
        read_events(sock, 1)
        kiada.signal(signal.SIGTERM)
        assert kiada.wait() == 0
        kiada.wait_for_line(r'msg=stopping signal=SIGTERM')
        while sock.recv(65536):  # the stream ends with an orderly close, not a reset
            pass
