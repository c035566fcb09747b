#!/usr/bin/python3
"""Side-by-side HTTP benchmark: node-agent against node_exporter and an nginx ceiling.

Starts its OWN server instances on free 127.0.0.1 ports (config, PID and log files in a temp
directory), loads them with wrk, and writes bench/results/latest.{md,json,png}. It never touches
system services the Debian packages may have started (nginx on :80, node_exporter on :9100), and
it stops only the processes it started, by PID, on any exit.

Why it is built this way:
- Every configuration is run `--reps` times and the targets are interleaved (rep -> connections
  -> target, order rotated per rep), so slow drift on a shared machine hits every target alike.
- Ratios are the median of per-rep paired ratios: the agent and its peer are measured back to
  back in the same rep, which cancels more noise than dividing two independent medians.
- Servers are pinned to one CPU and wrk to another (taskset) and every server gets one worker
  (agent --threads 1, nginx worker_processes 1, node_exporter GOMAXPROCS follows the affinity),
  so CPU per request compares the same amount of hardware.
- Server CPU is utime+stime of the whole process tree from /proc/PID/stat, read right before
  and after each wrk run; it includes the agent's background sampler, which is part of its cost.
- node_exporter runs exactly the collectors the agent's sources implement (NODE_EXPORTER_COLLECTORS)
  and both get the host's / (--path.rootfs, --rootfs), so a scrape costs both the same work.
- SSE fan-out: a separate agent (fast --interval) feeds --sse-watchers concurrent GET
  /v1/node/watch streams that this script reads itself (selectors, raw sockets, pinned to the
  client CPU); agent CPU over the window divided by the complete events delivered.

Usage: bench/run.py [--bin-dir build/bin] [--duration 10] [--reps 3] [--conns 1,50,500]
                    [--sse-watchers 1000] [--sse-duration 10] [--sse-interval 200ms] [--skip-sse]
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import errno
import json
import os
import platform
import re
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024

# Same shape as the agent's `/` line, padded to exactly 100 bytes: the nginx ceiling serves a
# body of the size the agent serves, so the comparison is about the server, not the payload.
NGINX_BODY = "bench-node uptime: 5h58m10s, load average: 1.62, 1.83, 2.25, active/total threads: 2/3479"
NGINX_BODY = NGINX_BODY.ljust(99) + "\n"
assert len(NGINX_BODY) == 100

# The host's / for both: node_exporter's --path.rootfs and the agent's --rootfs (which turns on its
# filesystem and os sources).
ROOTFS = "/"

# node_exporter's collectors that the agent's sources implement (issue 12): with only these, a
# /metrics scrape of either does the same work.
NODE_EXPORTER_COLLECTORS = [
    "cpu", "stat", "loadavg", "meminfo", "vmstat", "diskstats", "netdev", "filesystem", "filefd",
    "conntrack", "timex", "time", "uname", "pressure", "os",
]
NODE_EXPORTER_FLAGS = [
    "--collector.disable-defaults",
    *[f"--collector.{c}" for c in NODE_EXPORTER_COLLECTORS],
    f"--path.rootfs={ROOTFS}",
    "--web.max-requests=0",
]

# Issue 6 targets, with issue 12's budget for a full sample of every source.
TARGET_CPU_VS_NGINX = 1.3
TARGET_RPS_VS_NGINX = 0.9
TARGET_METRICS_VS_NODE_EXPORTER = 1 / 20
TARGET_RSS_IDLE_MIB = 4
TARGET_RSS_LOADED_MIB = 8
TARGET_P99_VS_NGINX = 1.5
TARGET_SAMPLE_US = 100

# The microbenchmarks of one full sample whose worker-thread counter (statfs_worker_us, the
# filesystem source's statfs calls) is part of their CPU per sample.
WORKER_COUNTER = "statfs_worker_us"

# SSE fan-out (issue 12): concurrent GET /v1/node/watch streams; no target documented.
SSE_WATCHERS = 1000


# Niceness for servers, wrk and the microbenchmark (--nice); 0 leaves the priority alone.
NICE = 0


def placed(cpu: str | None, argv: list[str]) -> list[str]:
    """argv prefixed to run on `cpu` at NICE; both helpers exec, so the PID stays the server's."""
    prefix = ["nice", "-n", str(NICE)] if NICE else []
    if cpu is not None:
        prefix += ["taskset", "-c", cpu]
    return prefix + argv


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Direct children, from /proc/PID/task/*/children (needs CONFIG_PROC_CHILDREN) or a scan."""
    kids: list[int] = []
    task_dir = f"/proc/{pid}/task"
    try:
        for tid in os.listdir(task_dir):
            with open(f"{task_dir}/{tid}/children") as f:
                kids += [int(x) for x in f.read().split()]
        return kids
    except OSError:
        pass
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    kids.append(int(entry))
            except OSError:
                continue
    return kids


def process_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children_of(p)
    return out


def start_time(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        # comm may contain spaces and parentheses; fields after the last ')' are fixed.
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages (libc, libstdc++) divided among their users."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Server:
    name: str
    argv: list[str]
    port: int
    workdir: str
    version: str = ""
    proc: subprocess.Popen | None = None
    # pid -> start time (clock ticks since boot), so a recycled PID is never mistaken for ours.
    known_pids: dict[int, int] = field(default_factory=dict)

    def start(self, cpu: str | None) -> None:
        argv = placed(cpu, self.argv)
        self.logfile = os.path.join(self.workdir, f"{self.name}.log")
        with open(self.logfile, "wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.workdir)
        self._remember([self.proc.pid])
        log(f"started {self.name} pid={self.proc.pid} on 127.0.0.1:{self.port}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _remember(self, pids: list[int]) -> None:
        for p in pids:
            if p not in self.known_pids:
                try:
                    self.known_pids[p] = start_time(p)
                except OSError:
                    pass

    def pids(self) -> list[int]:
        pids = process_tree(self.proc.pid)
        self._remember(pids)
        return pids

    def cpu_seconds(self) -> float:
        return sum(cpu_ticks(p) for p in self.pids()) / CLK_TCK

    def memory_kib(self) -> tuple[int, int, int]:
        """(VmRSS, VmHWM, Pss) summed over the process tree (nginx: master + worker)."""
        pids = self.pids()
        return (sum(status_kib(p, "VmRSS") for p in pids),
                sum(status_kib(p, "VmHWM") for p in pids),
                sum(pss_kib(p) for p in pids))

    def log_tail(self) -> str:
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-20:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.alive():
            try:
                self.pids()  # remember nginx's worker before the master goes away
            except OSError:
                pass
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        # A child left behind (nginx worker after a killed master): only PIDs this run saw
        # being started under the server, and only while their start time still matches.
        for pid, started in self.known_pids.items():
            if pid == self.proc.pid:
                continue
            try:
                if start_time(pid) == started:
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc = None


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def wait_ready(server: Server, url: str, deadline_s: float = 20.0) -> bytes:
    end = time.monotonic() + deadline_s
    last_err = ""
    while time.monotonic() < end:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited early:\n{server.log_tail()}")
        try:
            status, body = http_get(url)
            if status == 200:
                return body
            last_err = f"HTTP {status}"
        except OSError as e:
            last_err = str(e)
        time.sleep(0.05)
    raise RuntimeError(f"{server.name} not ready at {url}: {last_err}\n{server.log_tail()}")


UNIT_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def parse_wrk(text: str) -> dict:
    """Parses `wrk --latency` output into numbers (latencies in microseconds)."""
    res: dict = {}
    for m in re.finditer(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M):
        res[f"p{m.group(1)}_us"] = float(m.group(2)) * UNIT_US[m.group(3)]
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", text, re.M)
    if m:
        res["requests"] = int(m.group(1))
        res["elapsed_s"] = float(m.group(2)) * UNIT_US[m.group(3)] / 1e6
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if m:
        res["rps"] = float(m.group(1))
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errors += int(m.group(1))
    res["errors"] = errors
    missing = {"p50_us", "p99_us", "requests", "rps"} - res.keys()
    if missing:
        raise ValueError(f"cannot parse wrk output (missing {sorted(missing)}):\n{text}")
    return res


@dataclass
class Target:
    name: str
    server: Server
    path: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}{self.path}"


def run_wrk(target: Target, conns: int, duration: int, cpu: str | None) -> dict:
    argv = placed(cpu, ["wrk", "--latency", "-t1", f"-d{duration}s", f"-c{conns}", "--timeout",
                        "5s", target.url])
    cpu0 = target.server.cpu_seconds()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    cpu1 = target.server.cpu_seconds()
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed on {target.name}: {out.stderr}{out.stdout}")
    if not target.server.alive():
        raise RuntimeError(f"{target.server.name} died under load:\n{target.server.log_tail()}")
    res = parse_wrk(out.stdout)
    res["cpu_s"] = cpu1 - cpu0
    res["cpu_us_per_req"] = res["cpu_s"] / max(res["requests"], 1) * 1e6
    return res


def cmd_output(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout + out.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine_info() -> dict:
    info = {"kernel": platform.release(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            info["cpu_model"] = m.group(1) if m else "unknown"
        with open("/proc/meminfo") as f:
            info["mem_total_mib"] = int(f.readline().split()[1]) // 1024
        with open("/etc/os-release") as f:
            m = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', f.read(), re.M)
            info["os"] = m.group(1) if m else "unknown"
    except OSError:
        pass
    wrk = cmd_output(["wrk", "-v"]).splitlines()
    info["wrk"] = wrk[0].split(" Copyright")[0] if wrk else ""
    info["nginx"] = cmd_output(["nginx", "-v"]).replace("nginx version: ", "")
    ne = cmd_output(["prometheus-node-exporter", "--version"])
    info["node_exporter"] = ne.splitlines()[0] if ne else ""
    commit = cmd_output(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    dirty = cmd_output(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"])
    info["commit"] = commit + ("-dirty" if dirty else "")
    return info


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def nginx_server(workdir: str) -> Server:
    port = free_port()
    d = os.path.join(workdir, "nginx")
    os.makedirs(d)
    body = NGINX_BODY.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    conf = f"""# Generated by bench/run.py: the HTTP/1.1 ceiling on this machine.
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      default_type text/plain;
      return 200 "{body}";
    }}
  }}
}}
"""
    with open(f"{d}/nginx.conf", "w") as f:
        f.write(conf)
    argv = ["nginx", "-p", d, "-c", f"{d}/nginx.conf", "-e", f"{d}/error.log"]
    return Server("nginx", argv, port, workdir, version=cmd_output(["nginx", "-v"]))


def node_exporter_server(workdir: str) -> Server:
    port = free_port()
    argv = ["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{port}",
            *NODE_EXPORTER_FLAGS]
    return Server("node_exporter", argv, port, workdir)


def agent_server(workdir: str, binary: str, threads: int,
                 extra: list[str] | None = None) -> tuple[Server, bool]:
    port = free_port()
    argv = [binary, "--listen-address", f"127.0.0.1:{port}"]
    helptext = cmd_output([binary, "--help"])
    # --threads is what makes CPU per request comparable to one nginx worker; say so if absent.
    has_threads = "--threads" in helptext
    if has_threads:
        argv += ["--threads", str(threads)]
    # --rootfs turns on filesystem and os, which node_exporter runs too (with --path.rootfs).
    if "--rootfs" in helptext:
        argv += ["--rootfs", ROOTFS]
    return Server("agent", argv + (extra or []), port, workdir), has_threads


def agent_sources(server: Server) -> list[str]:
    """The sources the agent logged at start-up (`msg=sources running=a,b,c`), in its order."""
    try:
        with open(server.logfile, errors="replace") as f:
            m = re.search(r"msg=sources running=(\S*)", f.read())
    except OSError:
        return []
    return m.group(1).split(",") if m and m.group(1) else []


def parse_cpus(spec: str | None) -> set[int]:
    """taskset's list syntax ("1", "0,2-3") as a set; empty when not parseable."""
    cpus: set[int] = set()
    try:
        for part in (spec or "").split(","):
            lo, _, hi = part.partition("-")
            cpus.update(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        return set()
    return cpus


def raise_nofile(needed: int) -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to `needed` (within the hard limit); children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


@dataclass
class Watcher:
    """One GET /v1/node/watch stream read by sse_fanout()."""
    sock: socket.socket
    state: str = "connecting"  # connecting, head (waiting for the response head), open, closed
    buf: bytes = b""
    events: int = 0  # complete `event: node` records received since the last reset


def sse_fanout(server: Server, watchers: int, duration: float, max_events: int,
               connect_timeout: float = 30.0, batch: int = 100) -> dict:
    """Opens `watchers` concurrent SSE streams, waits until each has its first event, then counts
    the complete events delivered in a window of `duration` s (or until `max_events`) and reads
    the agent's CPU time and memory over that window. Every loop is bounded by a deadline."""
    request = (f"GET /v1/node/watch HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode()
    sel = selectors.DefaultSelector()
    all_w: list[Watcher] = []
    failures: dict[str, int] = {}

    def fail(w: Watcher, why: str) -> None:
        failures[why] = failures.get(why, 0) + 1
        close(w)

    def close(w: Watcher) -> None:
        if w.state != "closed":
            try:
                sel.unregister(w.sock)
            except (KeyError, ValueError):
                pass
            w.sock.close()
            w.state = "closed"

    def on_ready(w: Watcher) -> int:
        """Handles one readiness; returns the complete events it added."""
        if w.state == "connecting":
            err = w.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                fail(w, f"connect: {os.strerror(err)}")
                return 0
            try:
                w.sock.send(request)  # a few dozen bytes into an empty send buffer: all or error
            except OSError as e:
                fail(w, f"send: {e.strerror}")
                return 0
            w.state = "head"
            sel.modify(w.sock, selectors.EVENT_READ, w)
            return 0
        try:
            data = w.sock.recv(262144)
        except BlockingIOError:
            return 0
        except OSError as e:
            fail(w, f"recv: {e.strerror}")
            return 0
        if not data:
            fail(w, "closed by the agent")
            return 0
        w.buf += data
        if w.state == "head":
            end = w.buf.find(b"\r\n\r\n")
            if end < 0:
                return 0
            status = w.buf.split(b"\r\n", 1)[0]
            if b" 200 " not in status + b" ":
                fail(w, status.decode(errors="replace")[:60])
                return 0
            w.buf = w.buf[end + 4:]
            w.state = "open"
        if b"\n\n" not in w.buf:
            return 0
        *records, w.buf = w.buf.split(b"\n\n")
        n = sum(1 for r in records if b"event: node" in r.split(b"\n"))
        w.events += n
        return n

    def pump(timeout: float) -> int:
        return sum(on_ready(key.data) for key, _ in sel.select(timeout))

    # Connect, `batch` handshakes at a time, until every stream has its head and first event.
    deadline = time.monotonic() + connect_timeout
    while time.monotonic() < deadline:
        pending = [w for w in all_w if w.state in ("connecting", "head")
                   or (w.state == "open" and w.events == 0)]
        if len(all_w) >= watchers and not pending:
            break
        for _ in range(min(batch - len(pending), watchers - len(all_w))):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            w = Watcher(sock)
            all_w.append(w)
            err = sock.connect_ex(("127.0.0.1", server.port))
            if err not in (0, errno.EINPROGRESS):
                fail(w, f"connect: {os.strerror(err)}")
                continue
            sel.register(sock, selectors.EVENT_WRITE, w)
        pump(0.05)
    connected = sum(1 for w in all_w if w.state == "open" and w.events > 0)
    res: dict = {"watchers": watchers, "connected": connected, "failures": failures}
    try:
        if connected == 0:
            return res
        for w in all_w:
            w.events = 0
        cpu0, t0 = server.cpu_seconds(), time.monotonic()
        end = t0 + duration
        events = 0
        while time.monotonic() < end and events < max_events:
            events += pump(min(0.05, max(end - time.monotonic(), 0)))
            if not server.alive():
                raise RuntimeError(f"{server.name} died during the fan-out:\n{server.log_tail()}")
        rss, hwm, _ = server.memory_kib()  # every stream still open
        cpu1, t1 = server.cpu_seconds(), time.monotonic()
        res.update(window_s=t1 - t0, events=events, cpu_s=cpu1 - cpu0,
                   open_at_end=sum(1 for w in all_w if w.state == "open"),
                   rss_kib=rss, hwm_kib=hwm,
                   cpu_us_per_event=(cpu1 - cpu0) / events * 1e6 if events else None)
        return res
    finally:
        for w in all_w:
            close(w)
        sel.close()


def run_microbench(binary: str, cpu: str | None, workdir: str) -> list[dict]:
    if not os.path.exists(binary):
        log(f"microbenchmark binary {binary} not found; skipping")
        return []
    out_json = os.path.join(workdir, "micro.json")
    argv = placed(cpu, [binary, f"--benchmark_out={out_json}", "--benchmark_out_format=json",
                        "--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true",
                        "--benchmark_min_time=0.2"])
    log("running microbenchmarks: " + " ".join(argv))
    res = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=REPO)
    if res.returncode != 0:
        raise RuntimeError(f"microbenchmark failed:\n{res.stderr}")
    with open(out_json) as f:
        data = json.load(f)
    rows = []
    for b in data["benchmarks"]:
        name = b.get("run_name", b["name"])
        if b.get("error_occurred"):  # skipped (SkipWithError): no time, say why, once
            if not any(r["name"] == name for r in rows):
                rows.append({"name": name, "error": b.get("error_message", "skipped")})
            continue
        if b.get("aggregate_name") not in (None, "median"):
            continue
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b.get("time_unit", "ns")]
        row = {"name": name, "cpu_us": b["cpu_time"] * scale, "real_us": b["real_time"] * scale,
               "bytes_per_second": b.get("bytes_per_second"), "label": b.get("label", "")}
        if WORKER_COUNTER in b:
            # A full sample: the sampling thread's CPU plus its statfs worker's, per sample.
            row["thread_cpu_us"] = row["cpu_us"]
            row["worker_cpu_us"] = b[WORKER_COUNTER]
            row["cpu_us"] += b[WORKER_COUNTER]
            row["kernel_us"] = b.get("kernel_us")
        rows.append(row)
    return rows


def fmt_us(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.2f} s"
    if us >= 1e3:
        return f"{us / 1e3:.3g} ms"
    return f"{us:.3g} us"


def fmt_num(x: float) -> str:
    return f"{x:,.0f}"


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.servers: list[Server] = []
        self.workdir = tempfile.mkdtemp(prefix="nodeagent-bench-")
        os.chmod(self.workdir, 0o755)  # nginx's worker runs as nobody when we are root
        multi = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") and not args.no_pin
        self.server_cpu = args.server_cpu if multi else None
        self.client_cpu = args.client_cpu if multi else None

    def stop_servers(self) -> None:
        for s in self.servers:
            try:
                s.stop()
            except Exception as e:  # keep stopping the others
                log(f"stopping {s.name}: {e}")
        self.servers = []

    def run(self) -> dict:
        a = self.args
        started = datetime.datetime.now(datetime.timezone.utc)
        info = machine_info()
        info["loadavg_start"] = loadavg()
        agent_bin = a.agent_bin or os.path.join(a.bin_dir, "node-agent")
        if not os.access(agent_bin, os.X_OK):
            raise RuntimeError(f"{agent_bin} not found: run `make build` first")

        agent, has_threads = agent_server(self.workdir, agent_bin, a.threads)
        info["agent"] = cmd_output([agent_bin, "--version"]).splitlines()[0:1] or ["?"]
        info["agent"] = info["agent"][0]
        info["agent_bin"] = os.path.relpath(agent_bin, REPO)
        nginx = nginx_server(self.workdir)
        nodeexp = node_exporter_server(self.workdir)
        self.servers = [agent, nginx, nodeexp]
        # When the loaded agent is another build (make bench loads the static one the image
        # ships), the dynamically linked build/bin agent is started too, for its idle memory.
        dynamic_bin = os.path.join(a.bin_dir, "node-agent")
        if (os.access(dynamic_bin, os.X_OK)
                and os.path.realpath(dynamic_bin) != os.path.realpath(agent_bin)):
            dynamic, _ = agent_server(self.workdir, dynamic_bin, a.threads)
            dynamic.name = "agent, dynamically linked (idle only)"
            info["agent_dynamic_bin"] = os.path.relpath(dynamic_bin, REPO)
            self.servers.append(dynamic)
        targets = [
            Target("agent /", agent, "/"),
            Target("agent /v1/node", agent, "/v1/node"),
            Target("agent /metrics", agent, "/metrics"),
            Target("node_exporter /metrics", nodeexp, "/metrics"),
            Target("nginx /", nginx, "/"),
        ]
        if a.only:
            targets = [t for t in targets if any(o in t.name for o in a.only.split(","))]
        for s in self.servers:
            s.start(self.server_cpu)
        bodies = {}
        for s in self.servers:
            probe = next((t for t in targets if t.server is s), None)
            path = probe.path if probe else "/"
            wait_ready(s, f"http://127.0.0.1:{s.port}{path}")
        info["agent_sources"] = agent_sources(agent)
        for t in targets:
            status, body = http_get(t.url)
            if status != 200 or not body:
                raise RuntimeError(f"{t.name}: HTTP {status}, {len(body)} bytes")
            bodies[t.name] = len(body)
        # Idle: ready and answered one probe, then left alone for a couple of sampler ticks.
        time.sleep(a.idle_wait)
        idle = {s.name: s.memory_kib() for s in self.servers}
        log("idle RSS: " + ", ".join(f"{k}={v[0]} KiB" for k, v in idle.items()))
        # Idle-only servers stop now, so they add no noise under load; their idle reading is final.
        idle_only = [s for s in self.servers if not any(t.server is s for t in targets)]
        final = {s.name: idle[s.name] for s in idle_only}
        for s in idle_only:
            s.stop()

        # Warm-up (not recorded): lets Go's heap and any lazy init settle before measuring.
        for t in targets if a.warmup > 0 else []:
            run_wrk(t, 50, a.warmup, self.client_cpu)

        runs = []
        after_load: dict[str, tuple[int, int]] = {}
        conns = [int(c) for c in a.conns.split(",")]
        total = a.reps * len(conns) * len(targets)
        n = 0
        for rep in range(a.reps):
            order = targets[rep % len(targets):] + targets[:rep % len(targets)]
            for c in conns:
                for t in order:
                    n += 1
                    time.sleep(a.settle)
                    r = run_wrk(t, c, a.duration, self.client_cpu)
                    r.update(target=t.name, conns=c, rep=rep)
                    runs.append(r)
                    if c == max(conns):
                        after_load[t.server.name] = t.server.memory_kib()
                    log(f"[{n}/{total}] {t.name} c={c} rep={rep}: {r['rps']:.0f} req/s, "
                        f"p99 {fmt_us(r['p99_us'])}, {r['cpu_us_per_req']:.2f} us CPU/req, "
                        f"errors {r['errors']}")
        final.update({s.name: s.memory_kib() for s in self.servers if s not in idle_only})
        sse = None if a.skip_sse else self.run_sse(agent_bin)
        micro = [] if a.skip_micro else run_microbench(
            os.path.join(a.bin_dir, "nodeagent_microbench"), self.server_cpu, self.workdir)
        info["loadavg_end"] = loadavg()
        finished = datetime.datetime.now(datetime.timezone.utc)
        return {
            "started": started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
            "wall_s": round((finished - started).total_seconds()),
            "machine": info,
            "config": {
                "duration_s": a.duration, "reps": a.reps, "conns": conns,
                "server_cpu": self.server_cpu, "client_cpu": self.client_cpu, "nice": NICE,
                "agent_argv": agent.argv, "agent_threads_flag": has_threads,
                "node_exporter_argv": nodeexp.argv, "nginx_body_bytes": len(NGINX_BODY),
                "node_exporter_collectors": NODE_EXPORTER_COLLECTORS, "rootfs": ROOTFS,
                "sse": None if a.skip_sse else {
                    "watchers": a.sse_watchers, "duration_s": a.sse_duration,
                    "interval": a.sse_interval, "max_events": a.sse_max_events},
            },
            "body_bytes": bodies,
            "targets": [t.name for t in targets],
            "memory_kib": {name: {"idle_rss": idle[name][0], "idle_pss": idle[name][2],
                                  "loaded_rss": after_load[name][0] if name in after_load
                                  else None,
                                  "hwm": final[name][1]} for name in idle},
            "runs": runs,
            "sse": sse,
            "micro": micro,
        }

    def run_sse(self, agent_bin: str) -> dict:
        """SSE fan-out on an agent of its own (fast --interval, room for the watchers). The load
        servers are stopped first (their readings are final), so the server CPU runs it alone."""
        a = self.args
        for s in self.servers:
            s.stop()
        extra = ["--interval", a.sse_interval, "--max-connections", str(a.sse_watchers + 100)]
        agent, _ = agent_server(self.workdir, agent_bin, a.threads, extra)
        agent.name = "agent (SSE fan-out)"
        self.servers.append(agent)
        agent.start(self.server_cpu)
        wait_ready(agent, f"http://127.0.0.1:{agent.port}/v1/node")
        # No watcher yet: what sampling and rendering at this interval cost by themselves.
        idle_s = min(a.sse_duration, 10.0)
        cpu0 = agent.cpu_seconds()
        time.sleep(idle_s)
        idle_cpu_per_s = (agent.cpu_seconds() - cpu0) / idle_s
        # The reading client (this process) on the client CPU, like wrk; restored afterwards.
        own = os.sched_getaffinity(0)
        client = parse_cpus(self.client_cpu) & own
        if client:
            os.sched_setaffinity(0, client)
        log(f"SSE fan-out: {a.sse_watchers} watchers of {agent.name} pid={agent.proc.pid}, "
            f"--interval {a.sse_interval}, {a.sse_duration} s")
        try:
            res = sse_fanout(agent, a.sse_watchers, a.sse_duration, a.sse_max_events)
        finally:
            os.sched_setaffinity(0, own)
            agent.stop()
        res.update(interval=a.sse_interval, argv=agent.argv, idle_cpu_s_per_s=idle_cpu_per_s)
        if res.get("events"):
            net = res["cpu_s"] - idle_cpu_per_s * res["window_s"]
            res["net_cpu_us_per_event"] = max(net, 0.0) / res["events"] * 1e6
        log(f"SSE fan-out: {res['connected']}/{a.sse_watchers} watchers connected, "
            f"{res.get('events', 0)} events in {res.get('window_s', 0):.1f} s, "
            + (f"{res['cpu_us_per_event']:.2f} us agent CPU/event"
               if res.get("cpu_us_per_event") is not None else "no events")
            + (f"; failures {res['failures']}" if res["failures"] else ""))
        return res


def summarize(data: dict) -> dict:
    """Medians per (target, conns) and paired per-rep ratios."""
    runs = data["runs"]
    conns = data["config"]["conns"]
    summary = {}
    for t in data["targets"]:
        for c in conns:
            rs = [r for r in runs if r["target"] == t and r["conns"] == c]
            if not rs:
                continue
            rps = [r["rps"] for r in rs]
            summary[(t, c)] = {
                "rps": median(rps),
                "rps_spread": (max(rps) - min(rps)) / median(rps) if median(rps) else 0,
                "p50_us": median([r["p50_us"] for r in rs]),
                "p99_us": median([r["p99_us"] for r in rs]),
                "cpu_us_per_req": median([r["cpu_us_per_req"] for r in rs]),
                "errors": sum(r["errors"] for r in rs),
                "n": len(rs),
            }

    def paired(t1: str, t2: str, c: int, key: str) -> float | None:
        ratios = []
        for rep in range(data["config"]["reps"]):
            a = [r for r in runs if r["target"] == t1 and r["conns"] == c and r["rep"] == rep]
            b = [r for r in runs if r["target"] == t2 and r["conns"] == c and r["rep"] == rep]
            if a and b and b[0][key]:
                ratios.append(a[0][key] / b[0][key])
        return median(ratios) if ratios else None

    ratios = {}
    for c in conns:
        for key in ("cpu_us_per_req", "rps", "p99_us"):
            ratios[("agent /", "nginx /", c, key)] = paired("agent /", "nginx /", c, key)
            ratios[("agent /metrics", "node_exporter /metrics", c, key)] = paired(
                "agent /metrics", "node_exporter /metrics", c, key)
    return {"summary": summary, "ratios": ratios}


def evaluate(data: dict, s: dict) -> list[tuple[str, str, str]]:
    """[(target text, measured text, PASS/MISS/N/A)] for the issue's targets."""
    ratios, conns = s["ratios"], data["config"]["conns"]
    out = []

    def verdict(ok: bool | None) -> str:
        return "N/A" if ok is None else ("PASS" if ok else "MISS")

    c = 50 if 50 in conns else conns[len(conns) // 2]
    cpu = ratios.get(("agent /", "nginx /", c, "cpu_us_per_req"))
    rps = ratios.get(("agent /", "nginx /", c, "rps"))
    out.append((f"Agent `/` at c={c}: CPU/request <= {TARGET_CPU_VS_NGINX}x nginx",
                f"{cpu:.2f}x" if cpu is not None else "not measured",
                verdict(None if cpu is None else cpu <= TARGET_CPU_VS_NGINX)))
    out.append((f"Agent `/` at c={c}: req/s >= {TARGET_RPS_VS_NGINX}x nginx",
                f"{rps:.2f}x" if rps is not None else "not measured",
                verdict(None if rps is None else rps >= TARGET_RPS_VS_NGINX)))
    ms = [ratios.get(("agent /metrics", "node_exporter /metrics", cc, "cpu_us_per_req"))
          for cc in conns]
    ms = [m for m in ms if m is not None]
    worst = max(ms) if ms else None
    out.append(("Agent `/metrics`: CPU/scrape <= 1/20 of node_exporter's (worst c)",
                (f"1/{1 / worst:.0f} ({worst:.3f}x)" if worst else "not measured"),
                verdict(None if worst is None else worst <= TARGET_METRICS_VS_NODE_EXPORTER)))
    mem = data["memory_kib"].get("agent")
    if mem:
        idle, hwm = mem["idle_rss"] / 1024, mem["hwm"] / 1024
        loaded = None if mem["loaded_rss"] is None else mem["loaded_rss"] / 1024
        out.append((f"Agent RSS idle <= {TARGET_RSS_IDLE_MIB} MiB", f"{idle:.1f} MiB",
                    verdict(idle <= TARGET_RSS_IDLE_MIB)))
        out.append((f"Agent RSS after the c={max(conns)} run <= {TARGET_RSS_LOADED_MIB} MiB",
                    "not measured" if loaded is None
                    else f"{loaded:.1f} MiB (peak VmHWM {hwm:.1f} MiB)",
                    verdict(None if loaded is None else loaded <= TARGET_RSS_LOADED_MIB)))
    cmax = max(conns)
    p99 = ratios.get(("agent /", "nginx /", cmax, "p99_us"))
    out.append((f"Agent `/` p99 at c={cmax} <= {TARGET_P99_VS_NGINX}x nginx",
                f"{p99:.2f}x" if p99 is not None else "not measured",
                verdict(None if p99 is None else p99 <= TARGET_P99_VS_NGINX)))
    # One row per full-sample microbenchmark named by --sample-bench, measured or not.
    for pattern in [p for p in data["sample_bench"].split(",") if p]:
        m = next((m for m in data["micro"] if re.fullmatch(pattern + r"(/.*)?", m["name"])), None)
        if m is None:
            measured, ok = "not measured", None
        elif "error" in m:
            measured, ok = f"skipped: {m['error']}", None
        else:
            measured = f"{m['cpu_us']:.1f} us" + (f" ({m['label']})" if m.get("label") else "")
            ok = m["cpu_us"] <= TARGET_SAMPLE_US
        out.append((f"One full sample, every source (`{pattern}`) <= {TARGET_SAMPLE_US} us CPU",
                    measured, verdict(ok)))
    # No threshold documented for the fan-out: reported, not judged.
    sse, sse_cfg = data.get("sse"), data["config"].get("sse")
    watchers = sse_cfg["watchers"] if sse_cfg else SSE_WATCHERS
    per_event = sse.get("cpu_us_per_event") if sse else None
    out.append((f"SSE fan-out: CPU per delivered event, {watchers:,} watchers",
                "not measured" if per_event is None
                else f"{per_event:.2f} us ({sse['events']:,} events to {sse['connected']:,} "
                     f"watchers in {sse['window_s']:.1f} s)",
                verdict(None)))
    return out


def render_markdown(data: dict, s: dict, verdicts: list, plot_name: str | None) -> str:
    cfg, info, summary, ratios = data["config"], data["machine"], s["summary"], s["ratios"]
    L = []
    L.append(f"Measured {data['started']} (UTC), commit `{info.get('commit', '?')}`, "
             f"wall time {data['wall_s'] // 60} min {data['wall_s'] % 60} s.")
    L.append("")
    ne_set = cfg.get("node_exporter_collectors", [])
    sources = info.get("agent_sources") or []
    extra = [x for x in sources if x not in ne_set]
    L.append(f"Collector set, the same work on both sides: node_exporter runs "
             f"`--collector.disable-defaults` plus {', '.join(ne_set)} "
             f"(`--path.rootfs={cfg.get('rootfs', '/')}`); the agent runs its default sources with "
             f"`--rootfs {cfg.get('rootfs', '/')}`: "
             + (", ".join(sources) if sources else "(not logged)") + "."
             + (f" Its {', '.join(extra)} sources (a few families each) have no collector in that "
                "set; its stat source covers node_exporter's cpu and stat." if extra else ""))
    L.append("")
    L.append("### Throughput, latency and CPU (medians of "
             f"{cfg['reps']} runs of `wrk --latency -t1 -d{cfg['duration_s']}s`)")
    L.append("")
    L.append("| target | conns | req/s | spread | p50 | p99 | CPU/10k req | CPU/req | body | errors |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in data["targets"]:
        for c in cfg["conns"]:
            r = summary.get((t, c))
            if not r:
                continue
            L.append(f"| {t} | {c} | {fmt_num(r['rps'])} | {r['rps_spread'] * 100:.0f}% | "
                     f"{fmt_us(r['p50_us'])} | {fmt_us(r['p99_us'])} | "
                     f"{fmt_us(r['cpu_us_per_req'] * 1e4)} | {fmt_us(r['cpu_us_per_req'])} | "
                     f"{data['body_bytes'].get(t, 0)} B | {r['errors']} |")
    L.append("")
    L.append("### Ratios within this run (median of per-rep paired ratios)")
    L.append("")
    L.append("| comparison | conns | CPU/req | req/s | p99 |")
    L.append("|---|---:|---:|---:|---:|")
    for a, b in (("agent /", "nginx /"), ("agent /metrics", "node_exporter /metrics")):
        for c in cfg["conns"]:
            vals = [ratios.get((a, b, c, k)) for k in ("cpu_us_per_req", "rps", "p99_us")]
            if all(v is None for v in vals):
                continue
            cells = " | ".join("-" if v is None else f"{v:.3g}x" for v in vals)
            L.append(f"| {a} vs {b} | {c} | {cells} |")
    L.append("")
    L.append("### Memory (whole process tree; nginx = master + worker)")
    L.append("")
    L.append(f"| server | idle VmRSS | idle PSS | VmRSS after c={max(cfg['conns'])} | peak VmHWM |")
    L.append("|---|---:|---:|---:|---:|")
    for name, m in data["memory_kib"].items():
        loaded = "-" if m["loaded_rss"] is None else f"{m['loaded_rss'] / 1024:.1f} MiB"
        L.append(f"| {name} | {m['idle_rss'] / 1024:.1f} MiB | {m.get('idle_pss', 0) / 1024:.1f} MiB"
                 f" | {loaded} | {m['hwm'] / 1024:.1f} MiB |")
    L.append("")
    L += render_sse(data)
    if data["micro"]:
        L.append("### Microbenchmarks (Google Benchmark, median of 3 repetitions, pinned)")
        L.append("")
        L.append("| benchmark | CPU | wall |")
        L.append("|---|---:|---:|")
        for m in data["micro"]:
            name = f"`{m['name']}`" + (f" ({m['label']})" if m.get("label") else "")
            if "error" in m:
                L.append(f"| {name} | skipped: {m['error']} | - |")
            else:
                L.append(f"| {name} | {fmt_us(m['cpu_us'])} | {fmt_us(m['real_us'])} |")
        L.append("")
        full = [m for m in data["micro"] if "worker_cpu_us" in m]
        if full:
            L.append("Full samples (`" + "`, `".join(m["name"] for m in full) + "`): the Sampler "
                     "the agent builds with `--rootfs /`, every default source; CPU is the sampling "
                     "thread's plus the filesystem source's statfs worker thread's ("
                     + ", ".join(f"{fmt_us(m['thread_cpu_us'])} + {fmt_us(m['worker_cpu_us'])}"
                                 for m in full)
                     + "), one sample per untimed 0.5 ms pause so that the worker does one round "
                     "per sample; wall is the sampling thread's. Of the sampling thread's CPU, "
                     "the kernel's part (its system time: generating the files, serving the "
                     "calls) is "
                     + ", ".join(fmt_us(m["kernel_us"]) if m.get("kernel_us") is not None
                                 else "not measured" for m in full)
                     + "; `BM_Syscall_Getppid` is this machine's cost of one system call.")
            L.append("")
    L.append("### Targets (issues 6 and 12)")
    L.append("")
    L.append("| target | measured | result |")
    L.append("|---|---|---|")
    for text, measured, v in verdicts:
        L.append(f"| {text} | {measured} | **{v}** |")
    L.append("")
    if plot_name:
        L.append(f"![req/s and CPU per request per target]({plot_name})")
        L.append("")
    L.append("### Machine and set-up")
    L.append("")
    pin = (f"servers pinned to CPU {cfg['server_cpu']}, wrk to CPU {cfg['client_cpu']} (taskset)"
           if cfg["server_cpu"] is not None else "no CPU pinning (fewer than 2 CPUs)")
    L.append(f"- CPU: {info.get('cpu_model', '?')}, {info.get('cpus')} CPUs; "
             f"memory {info.get('mem_total_mib', '?')} MiB; {info.get('os', '?')}, "
             f"kernel {info.get('kernel')}")
    L.append(f"- Load average at start / end: {info['loadavg_start']} / {info['loadavg_end']} "
             "(other work on the machine shows up here)")
    if cfg.get("nice"):
        L.append(f"- Servers, wrk and the microbenchmarks ran at `nice -n {cfg['nice']}` so that "
                 "other work on the machine disturbed them less")
    L.append(f"- Agent binary under load: `{info.get('agent_bin', '?')}`"
             + (f"; the dynamically linked `{info['agent_dynamic_bin']}` was measured idle"
                if info.get("agent_dynamic_bin") else ""))
    L.append(f"- {pin}; one worker each: {info.get('agent', 'agent')} "
             f"`{' '.join(cfg['agent_argv'][1:])}`"
             + ("" if cfg["agent_threads_flag"] else " (agent has no --threads flag)")
             + ", nginx `worker_processes 1`, node_exporter's GOMAXPROCS follows the 1-CPU affinity")
    L.append(f"- nginx ceiling: {info.get('nginx', '')}, `return 200` with a fixed "
             f"{cfg['nginx_body_bytes']}-byte body, keepalive_requests 1000000, access log off")
    L.append(f"- {info.get('node_exporter', 'node_exporter')}: "
             f"`{' '.join(a for a in cfg['node_exporter_argv'][1:] if 'listen' not in a)}`")
    L.append(f"- {info.get('wrk', 'wrk')}, {cfg['reps']} reps x connections {cfg['conns']}, "
             f"{cfg['duration_s']} s each, targets interleaved and rotated per rep")
    return "\n".join(L) + "\n"


def render_sse(data: dict) -> list[str]:
    """The SSE fan-out section: a table row and a paragraph, or why it was not measured."""
    cfg, sse = data["config"].get("sse"), data.get("sse")
    L = ["### SSE fan-out (`GET /v1/node/watch`)", ""]
    if not cfg or sse is None:
        return L + ["Not run (`--skip-sse`).", ""]
    if not sse.get("events"):
        why = "; ".join(f"{k}: {v}" for k, v in sorted(sse["failures"].items())) or "no events"
        return L + [f"Not measured: {sse['connected']} of {cfg['watchers']} watchers connected, "
                    f"no event delivered ({why}).", ""]
    argv = " ".join(a for a in sse["argv"][1:] if "127.0.0.1" not in a and a != "--listen-address")
    L.append("| watchers | connected | open at end | interval | window | events delivered "
             "| events/s | agent CPU | CPU/event | CPU/event net of idle | agent VmRSS during fan-out |")
    L.append("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    L.append(f"| {cfg['watchers']:,} | {sse['connected']:,} | {sse['open_at_end']:,} "
             f"| {sse['interval']} | {sse['window_s']:.1f} s | {sse['events']:,} "
             f"| {fmt_num(sse['events'] / sse['window_s'])} | {fmt_us(sse['cpu_s'] * 1e6)} "
             f"| {fmt_us(sse['cpu_us_per_event'])} | {fmt_us(sse['net_cpu_us_per_event'])} "
             f"| {sse['rss_kib'] / 1024:.1f} MiB |")
    L.append("")
    cpu = data["config"]["server_cpu"]
    failures = "; ".join(f"{v} {k}" for k, v in sorted(sse["failures"].items()))
    L.append(f"A separate agent (`{argv}`{f', pinned to CPU {cpu}' if cpu is not None else ''}) "
             f"fed {cfg['watchers']:,} concurrent `GET /v1/node/watch` streams that bench/run.py "
             "opened and read itself (raw sockets and selectors"
             + (f", pinned to CPU {data['config']['client_cpu']}" if cpu is not None else "")
             + f"). Once every stream had its first event, the complete `event: node` records "
             f"delivered in {sse['window_s']:.1f} s were counted over all watchers "
             f"({sse['events']:,}; {sse['connected']:,} watchers connected, "
             f"{sse['open_at_end']:,} still open at the end"
             + (f"; failures: {failures}" if failures else "")
             + "), and the agent's CPU time over the same window (utime + stime from "
             f"/proc/PID/stat, {fmt_us(sse['cpu_s'] * 1e6)}; on loopback it includes most of the "
             "kernel's delivery to the watchers' sockets) divided by that count: "
             f"**{fmt_us(sse['cpu_us_per_event'])} of agent CPU per delivered event**. With no "
             f"watcher the same agent used {fmt_us(sse['idle_cpu_s_per_s'] * 1e6)} of CPU per "
             "second at this interval (sampling and rendering); net of that, "
             f"{fmt_us(sse['net_cpu_us_per_event'])} per event. Its VmRSS with every stream open "
             f"was {sse['rss_kib'] / 1024:.1f} MiB (peak VmHWM {sse['hwm_kib'] / 1024:.1f} MiB).")
    L.append("")
    return L


def write_plot(data: dict, s: dict, outdir: str, workdir: str) -> str | None:
    if not shutil.which("gnuplot"):
        log("gnuplot not found; no plot")
        return None
    conns = data["config"]["conns"]
    datafile = os.path.join(workdir, "plot.dat")
    with open(datafile, "w") as f:
        # Column headers double as legend titles (columnheader() in plot.gp).
        f.write("target " + " ".join(f"c={c}" for c in conns * 2) + "\n")
        for t in data["targets"]:
            row = [s["summary"].get((t, c)) for c in conns]
            rps = " ".join(f"{r['rps']:.1f}" if r else "NaN" for r in row)
            cpu = " ".join(f"{r['cpu_us_per_req']:.4f}" if r else "NaN" for r in row)
            f.write(f'"{t}" {rps} {cpu}\n')
    png = os.path.join(outdir, "latest.png")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plot.gp")
    title = f"node-agent benchmark {data['started'][:10]} ({data['machine'].get('commit', '')})"
    res = subprocess.run(["gnuplot", "-e", f"datafile='{datafile}'; outfile='{png}'; "
                          f"nconns={len(conns)}; ntargets={len(data['targets'])}; plottitle='{title}'", script],
                         capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        log(f"gnuplot failed: {res.stderr}")
        return None
    return png


DOC_BEGIN = "<!-- bench:latest:begin (written by bench/run.py) -->"
DOC_END = "<!-- bench:latest:end -->"


def update_docs(doc: str, md: str) -> None:
    with open(doc) as f:
        text = f.read()
    if DOC_BEGIN not in text or DOC_END not in text:
        log(f"{doc} has no results markers; not updated")
        return
    # The doc lives in docs/, the plot in bench/results/: point the image there.
    md = md.replace("](latest.png)", "](../bench/results/latest.png)")
    head, rest = text.split(DOC_BEGIN, 1)
    _, tail = rest.split(DOC_END, 1)
    with open(doc, "w") as f:
        f.write(head + DOC_BEGIN + "\n" + md + DOC_END + tail)
    log(f"updated {doc}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin-dir", default=os.path.join(REPO, "build", "bin"))
    p.add_argument("--agent-bin", default="",
                   help="agent binary (default BIN_DIR/node-agent), e.g. the static build")
    p.add_argument("--out-dir", default=os.path.join(REPO, "bench", "results"))
    p.add_argument("--docs", default=os.path.join(REPO, "docs", "benchmarks.md"),
                   help="doc whose results section is replaced ('' to leave it alone)")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--conns", default="1,50,500")
    p.add_argument("--threads", type=int, default=1, help="agent --threads")
    p.add_argument("--warmup", type=int, default=1, help="seconds of unrecorded load per target")
    p.add_argument("--settle", type=float, default=0.5, help="pause between runs (s)")
    p.add_argument("--idle-wait", type=float, default=2.0, help="wait before idle RSS (s)")
    p.add_argument("--server-cpu", default="0")
    p.add_argument("--client-cpu", default="1")
    p.add_argument("--no-pin", action="store_true")
    p.add_argument("--nice", type=int, default=0,
                   help="run servers, wrk and microbenchmarks at this niceness (e.g. -10 on a "
                        "machine shared with builds; negative needs root)")
    p.add_argument("--only", default="", help="comma-separated substrings of target names")
    p.add_argument("--skip-micro", action="store_true")
    p.add_argument("--sample-bench",
                   default="BM_Sampler_FullSample,BM_Sampler_FullSample_Fixture64cpu",
                   help="comma-separated regexes, each matching the whole name of a full-sample "
                        "microbenchmark judged against the %d us target (one row each)"
                        % TARGET_SAMPLE_US)
    p.add_argument("--sse-watchers", type=int, default=SSE_WATCHERS,
                   help="SSE fan-out: concurrent GET /v1/node/watch streams, default %(default)s "
                        "(RLIMIT_NOFILE is raised to fit)")
    p.add_argument("--sse-duration", type=float, default=10,
                   help="SSE fan-out: seconds of the measured window, default %(default)s")
    p.add_argument("--sse-interval", default="200ms",
                   help="SSE fan-out: the --interval of its agent (one event per sample), "
                        "default %(default)s")
    p.add_argument("--sse-max-events", type=int, default=500000,
                   help="SSE fan-out: end the window early after this many events, default "
                        "%(default)s")
    p.add_argument("--skip-sse", action="store_true", help="no SSE fan-out (its target reads 'not measured')")
    p.add_argument("--keep-workdir", action="store_true")
    args = p.parse_args()
    global NICE
    NICE = args.nice
    if not args.skip_sse:
        if args.sse_watchers < 1 or args.sse_duration <= 0:
            p.error("--sse-watchers and --sse-duration must be positive")
        # The watchers' sockets here, and the agent (which inherits the limit) accepts as many.
        soft, _ = raise_nofile(args.sse_watchers + 256)
        if soft != resource.RLIM_INFINITY and soft < args.sse_watchers + 64:
            log(f"RLIMIT_NOFILE {soft} is too low for {args.sse_watchers} watchers; "
                "some will fail to connect")
    for tool in ("wrk", "nginx", "prometheus-node-exporter"):
        if not shutil.which(tool):
            log(f"{tool} not found: run `scripts/setup.sh bench`")
            return 2

    bench = Bench(args)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        data = bench.run()
        data["sample_bench"] = args.sample_bench
        bench.stop_servers()
        os.makedirs(args.out_dir, exist_ok=True)
        s = summarize(data)
        verdicts = evaluate(data, s)
        data["verdicts"] = verdicts
        png = write_plot(data, s, args.out_dir, bench.workdir)
        md = render_markdown(data, s, verdicts, os.path.basename(png) if png else None)
        with open(os.path.join(args.out_dir, "latest.md"), "w") as f:
            f.write("# node-agent benchmark: latest results\n\n"
                    "Written by `make bench` (bench/run.py); see docs/benchmarks.md.\n\n" + md)
        with open(os.path.join(args.out_dir, "latest.json"), "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        if args.docs:
            update_docs(args.docs, md)
        print(md)
        log(f"wrote {args.out_dir}/latest.md, latest.json" + (", latest.png" if png else ""))
        return 0
    except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as e:
        log(f"FAILED: {e}")
        return 1
    finally:
        bench.stop_servers()
        if args.keep_workdir:
            log(f"kept {bench.workdir}")
        else:
            shutil.rmtree(bench.workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
