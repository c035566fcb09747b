"""Shared fixtures for the integration suites: start the real binaries on loopback port 0.

Every process is started by the test, learns its port from its own `msg=listening addr=...` log
line, and is stopped by PID at teardown.
"""
import http.client
import os
import pathlib
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("NODEAGENT_BIN", REPO / "build" / "bin"))
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "hosts"
# Sanitizer builds are slower; give every wait more room there (never used as an assertion).
SLOW = 4 if os.environ.get("NODEAGENT_SANITIZER") else 1
LISTENING = re.compile(r'msg=listening address=("?)(?P<addr>[^" ]+)\1')


def binary(name):
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} does not exist: run `make build` first")
    return str(path)


class Process:
    """A started server binary with its stdout collected line by line."""

    def __init__(self, argv, env=None, stdin=None):
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"):
            if key in os.environ:
                full_env[key] = os.environ[key]
        full_env.update(env or {})
        self.argv = argv
        self.proc = subprocess.Popen(
            argv, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, text=True, bufsize=1)
        self.lines = []
        self._queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line)
        self._queue.put(None)

    def wait_for_line(self, pattern, timeout=10):
        """Returns the first log line (seen so far or later) matching the regex, else fails."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout * SLOW
        seen = 0
        while True:
            for line in self.lines[seen:]:
                if regex.search(line):
                    return line
            seen = len(self.lines)
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and self._queue.empty():
                # An exited process may still have lines in the pipe: let the reader finish.
                self._reader.join(timeout=2 * SLOW)
                for line in self.lines[seen:]:
                    if regex.search(line):
                        return line
                output = "\n".join(self.lines[-30:])
                pytest.fail(f"no line matching {pattern!r} from {self.argv[0]}; output:\n{output}")
            try:
                if self._queue.get(timeout=min(left, 0.2)) is None:
                    self._queue.put(None)
                    time.sleep(0.05)
            except queue.Empty:
                pass

    def listening(self, timeout=10):
        """(host, port) or unix path of the first listening address (its `address=` log field)."""
        line = self.wait_for_line(r"msg=listening", timeout)
        addr = LISTENING.search(line).group("addr")
        if addr.startswith("unix://"):
            return addr[len("unix://"):]
        host, _, port = addr.rpartition(":")
        return host.strip("[]"), int(port)

    def signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout=10):
        code = self.proc.wait(timeout=timeout * SLOW)
        # The reader may not have taken the last lines out of the pipe yet: once it has seen EOF,
        # self.lines holds everything the process wrote (callers check its last words).
        self._reader.join(timeout=2 * SLOW)
        return code

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=2)


@pytest.fixture
def start():
    """start(argv, env) -> Process; every process is stopped at teardown."""
    started = []

    def _start(argv, env=None, stdin=None):
        process = Process(argv, env, stdin)
        started.append(process)
        return process

    yield _start
    for process in reversed(started):
        process.stop()


@pytest.fixture
def host_tree(tmp_path):
    """copy(name) -> a writable copy of a fixture host tree with proc/ and sys/ below it."""

    def _copy(name):
        dest = tmp_path / name
        shutil.copytree(FIXTURES / name, dest, symlinks=True)
        (dest / "sys").mkdir(exist_ok=True)
        return dest

    return _copy


class UnixConnection(http.client.HTTPConnection):
    """HTTP over a unix socket: the path takes the place of host and port."""

    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def get(address, path="/", headers=None, method="GET", timeout=5):
    """One request on a fresh connection -> (status, headers as a dict, body bytes). The address
    is (host, port) or a unix socket's path."""
    if isinstance(address, str):
        conn = UnixConnection(address, timeout=timeout * SLOW)
    else:
        conn = http.client.HTTPConnection(address[0], address[1], timeout=timeout * SLOW)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def raw_request(address, data, timeout=5, read_all=True):
    """Sends raw bytes and returns everything the server answers until it closes (or timeout)."""
    if isinstance(address, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        sock = socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET)
    sock.settimeout(timeout * SLOW)
    with sock:
        sock.connect(address)
        sock.sendall(data)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if not read_all:
                    break
        except socket.timeout:
            pass
        return b"".join(chunks)
