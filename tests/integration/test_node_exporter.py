"""The agent beside Debian's node_exporter on this host: same names, types, labels and values.

node_exporter runs with the collector set the agent replaces (issue 12), both are scraped, and:
- every family node_exporter prints is in ours with its type and label names, except the few
  documented in docs/api.md as not provided (ALLOWED_MISSING);
- static values agree exactly (memory size, filesystem size of /, file descriptor limit,
  conntrack limit, boot time, uname and os-release labels);
- every counter series both print lies between our scrape before node_exporter's and our
  sample taken after it (monotonic counters, no tolerance needed).
node_exporter is the binary of Debian's prometheus-node-exporter, unpacked by
`scripts/setup.sh test` into build/peers (not installed: its package starts a service).
"""
import math
import os
import pathlib
import shutil
import socket
import time
import urllib.request

import pytest

from conftest import REPO, SLOW, binary, get

COLLECTORS = ["cpu", "stat", "loadavg", "meminfo", "vmstat", "diskstats", "netdev", "filesystem",
              "filefd", "conntrack", "timex", "time", "uname", "pressure", "os"]

# Our defaults (src/nodeinfo/source.h), given to node_exporter too: Debian patches its own.
MOUNT_POINTS_EXCLUDE = (r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+"
                        r"|var/lib/containers/storage/.+)($|/)")

# Families node_exporter prints here that the agent does not (docs/api.md says why).
ALLOWED_MISSING = {
    "node_network_receive_nohandler_total",  # netlink only; not in /proc/<pid>/net/dev
}

# Issue 12's list: every raw metric the node-mixin's alerts, rules and dashboards use.
MIXIN = [
    "node_cpu_seconds_total", "node_load1", "node_load5", "node_load15",
    "node_memory_MemTotal_bytes", "node_memory_MemFree_bytes", "node_memory_MemAvailable_bytes",
    "node_memory_Cached_bytes", "node_memory_Buffers_bytes", "node_memory_Slab_bytes",
    "node_vmstat_pgmajfault", "node_disk_read_bytes_total", "node_disk_written_bytes_total",
    "node_disk_io_time_seconds_total", "node_disk_io_time_weighted_seconds_total",
    "node_filesystem_size_bytes", "node_filesystem_avail_bytes", "node_filesystem_files",
    "node_filesystem_files_free", "node_filesystem_readonly",
    "node_network_receive_bytes_total", "node_network_transmit_bytes_total",
    "node_network_receive_packets_total", "node_network_transmit_packets_total",
    "node_network_receive_errs_total", "node_network_transmit_errs_total",
    "node_network_receive_drop_total", "node_network_transmit_drop_total",
    "node_filefd_allocated", "node_filefd_maximum", "node_nf_conntrack_entries",
    "node_nf_conntrack_entries_limit", "node_timex_offset_seconds", "node_timex_maxerror_seconds",
    "node_timex_sync_status", "node_time_seconds", "node_uname_info", "node_boot_time_seconds",
]

# Counter series that may go backwards in the kernel itself (so no ordering holds).
NOT_MONOTONIC = {("node_cpu_seconds_total", "idle"), ("node_cpu_seconds_total", "iowait")}


def node_exporter_binary():
    found = shutil.which("prometheus-node-exporter")
    if found:
        return found
    unpacked = REPO / "build/peers/node_exporter/usr/bin/prometheus-node-exporter"
    if unpacked.exists():
        return str(unpacked)
    message = "prometheus-node-exporter not found: run scripts/setup.sh test"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_labels(text):
    """'a="x",b="y\\"z"' -> {"a": "x", "b": 'y"z'}"""
    labels, i = {}, 0
    while i < len(text):
        eq = text.index("=", i)
        name = text[i:eq].strip(", ")
        j, value = eq + 2, []
        while text[j] != '"':
            if text[j] == "\\":
                j += 1
                value.append({"n": "\n"}.get(text[j], text[j]))
            else:
                value.append(text[j])
            j += 1
        labels[name] = "".join(value)
        i = j + 1
    return labels


def parse(text):
    """{family: {"type": t, "series": {frozenset(labels.items()): value}}}"""
    families = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            families[name] = {"type": kind, "series": {}}
        elif line and not line.startswith("#"):
            head, _, value = line.rpartition(" ")
            name, _, rest = head.partition("{")
            labels = parse_labels(rest[:-1]) if rest else {}
            if name in families:  # not the _sum/_count of node_exporter's own go_* summaries
                families[name]["series"][frozenset(labels.items())] = float(value)
    return families


def scrape(url):
    with urllib.request.urlopen(url, timeout=10 * SLOW) as answer:
        return parse(answer.read().decode())


def label_names(family):
    return {frozenset(name for name, _ in key) for key in family["series"]}


def only(family, **match):
    for key, value in family["series"].items():
        if all(dict(key).get(k) == v for k, v in match.items()):
            return dict(key), value
    raise AssertionError(f"no series with {match}")


@pytest.fixture(scope="module")
def scrapes():
    """(ours before, node_exporter, ours sampled after node_exporter's scrape)"""
    from conftest import Process
    ne_port = free_port()
    ne = Process([node_exporter_binary(), "--collector.disable-defaults",
                  *[f"--collector.{c}" for c in COLLECTORS],
                  f"--collector.filesystem.mount-points-exclude={MOUNT_POINTS_EXCLUDE}",
                  "--path.procfs=/proc", "--path.sysfs=/sys", "--path.rootfs=/",
                  f"--web.listen-address=127.0.0.1:{ne_port}"])
    agent = Process([binary("node-agent"), "--listen-address", "127.0.0.1:0", "--interval",
                     "100ms", "--rootfs", "/", "--allow-root"], env={"NODE_NAME": "ne-node"})
    try:
        host, port = agent.listening()
        agent.wait_for_line(r"msg=\"first sample ready\"")
        ne.wait_for_line(r"Listening on")
        ours_url, ne_url = f"http://{host}:{port}/metrics", f"http://127.0.0.1:{ne_port}/metrics"
        # statfs answers come from the filesystem source's own thread, a sample or two later.
        deadline = time.monotonic() + 10 * SLOW
        while "node_filesystem_size_bytes" not in (before := scrape(ours_url)):
            assert time.monotonic() < deadline, "no filesystem families from the agent"
            time.sleep(0.05)
        theirs = scrape(ne_url)
        done = time.time()
        deadline = time.monotonic() + 10 * SLOW
        while True:
            after = scrape(ours_url)
            if only(after["node_time_seconds"])[1] > done or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert only(after["node_time_seconds"])[1] > done, "no sample after node_exporter's"
        yield before, theirs, after
    finally:
        agent.stop()
        ne.stop()


def test_every_node_exporter_family_is_ours_with_its_type_and_labels(scrapes):
    ours, theirs, _ = scrapes
    theirs_node = {n: f for n, f in theirs.items()
                   if n.startswith("node_") and not n.startswith(("node_scrape_", "node_exporter_"))}
    missing = sorted(set(theirs_node) - set(ours) - ALLOWED_MISSING)
    assert not missing, f"{len(missing)} of node_exporter's families missing: {missing}"
    for name, family in theirs_node.items():
        if name in ALLOWED_MISSING:
            continue
        assert ours[name]["type"] == family["type"], name
        assert label_names(ours[name]) == label_names(family), name


def test_the_node_mixin_list_is_served(scrapes):
    ours, theirs, _ = scrapes
    for name in MIXIN:
        if name in theirs or not name.startswith("node_nf_conntrack"):
            assert name in ours, name


def test_static_values_agree_exactly(scrapes):
    ours, theirs, _ = scrapes
    for name in ["node_memory_MemTotal_bytes", "node_filefd_maximum", "node_boot_time_seconds",
                 "node_memory_SwapTotal_bytes", "node_nf_conntrack_entries_limit"]:
        if name in theirs:
            assert only(ours[name])[1] == only(theirs[name])[1], name
    for field in ["size_bytes", "files"]:
        name = f"node_filesystem_{field}"
        labels, value = only(theirs[name], mountpoint="/")
        assert only(ours[name], mountpoint="/") == (labels, value), name
    ours_uname, _ = only(ours["node_uname_info"])
    theirs_uname, _ = only(theirs["node_uname_info"])
    for label in ["release", "version", "machine", "sysname", "domainname"]:
        assert ours_uname[label] == theirs_uname[label], label
    assert ours_uname["nodename"] == "ne-node"  # the node's name, not this machine's hostname
    assert only(ours["node_os_info"]) == only(theirs["node_os_info"])
    assert ours["node_disk_info"]["series"].keys() == theirs["node_disk_info"]["series"].keys()


def test_counters_lie_between_our_samples_around_node_exporters(scrapes):
    before, theirs, after = scrapes
    checked = 0
    for name, family in theirs.items():
        if family["type"] != "counter" or name not in before or not name.startswith("node_"):
            continue
        for key, value in family["series"].items():
            if (name, dict(key).get("mode")) in NOT_MONOTONIC:
                continue
            if key not in before[name]["series"] or key not in after[name]["series"]:
                continue  # a device that came or went between the scrapes
            low, high = before[name]["series"][key], after[name]["series"][key]
            assert low <= value <= high or math.isclose(value, low) or math.isclose(value, high), \
                f"{name}{dict(key)}: ours {low} .. {high}, node_exporter {value}"
            checked += 1
    assert checked > 50, f"only {checked} counter series compared"
