"""node-agent-socket-dir, the unix-socket mode's init container: with only CAP_CHOWN as uid 0 it
hands a root-owned directory to the agent, and it refuses what it must not touch."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

BIN = Path(os.environ.get("NODEAGENT_BIN", REPO / "build" / "bin")) / "node-agent-socket-dir"


@pytest.fixture(scope="module")
def helper():
    if not BIN.exists():
        pytest.fail(f"{BIN} missing: build first (make build)")
    return str(BIN)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, **kw)


def test_gives_directory_to_agent_and_is_idempotent(helper, tmp_path):
    d = tmp_path / "run-node-agent"
    d.mkdir(mode=0o755)
    for expect in ("socket directory prepared", "already prepared"):
        proc = run([helper, "--uid=65532", "--gid=65532", "--mode=0750", str(d)])
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert expect in proc.stdout
        st = d.stat()
        assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (65532, 65532, 0o750)


def test_changing_mode_after_a_previous_run(helper, tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    assert run([helper, "--uid=65532", "--gid=65532", str(d)]).returncode == 0
    proc = run([helper, "--uid=65532", "--gid=65532", "--mode=0755", str(d)])
    assert proc.returncode == 0, proc.stdout
    assert d.stat().st_mode & 0o7777 == 0o755 and d.stat().st_uid == 65532


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to reproduce the container's capability set")
def test_works_with_only_cap_chown_and_fails_without(helper, tmp_path):
    # What the init container gets: uid 0, bounding set {CHOWN}, no_new_privs.
    only_chown = ["setpriv", "--bounding-set=-all,+chown", "--inh-caps=-all", "--no-new-privs"]
    none = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs"]
    ok = tmp_path / "ok"
    ok.mkdir(mode=0o755)
    proc = run(only_chown + [helper, str(ok)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ok.stat().st_uid == 65532
    denied = tmp_path / "denied"
    denied.mkdir(mode=0o755)
    proc = run(none + [helper, str(denied)])
    assert proc.returncode == 1
    assert "CAP_CHOWN" in proc.stdout
    assert denied.stat().st_uid == 0


def test_refuses_symlinks_files_and_missing_paths(helper, tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    afile = tmp_path / "file"
    afile.write_text("x")
    for path in (link, afile, tmp_path / "missing"):
        proc = run([helper, str(path)])
        assert proc.returncode == 1, path
        assert "cannot open directory" in proc.stdout
    assert target.stat().st_uid == os.geteuid()


@pytest.mark.parametrize("args,message", [
    (["--mode=0800", "DIR"], "invalid --mode"),
    (["--mode=01777", "DIR"], "invalid --mode"),
    (["--mode=", "DIR"], "invalid --mode"),
    (["--mode=07x7", "DIR"], "invalid --mode"),
    (["--uid=-1", "DIR"], "invalid --uid"),
    (["--uid=4294967295", "DIR"], "invalid --uid"),
    (["--gid=abc", "DIR"], "invalid --gid"),
    (["--owner=1", "DIR"], "unknown flag"),
    (["DIR", "DIR"], "exactly one directory"),
    ([], "directory argument is required"),
])
def test_bad_arguments_get_a_clear_error(helper, tmp_path, args, message):
    before = tmp_path.stat()
    proc = run([helper] + [a.replace("DIR", str(tmp_path)) for a in args])
    assert proc.returncode == 2
    assert message in proc.stdout
    assert "level=error" in proc.stdout
    after = tmp_path.stat()
    assert (after.st_uid, after.st_mode) == (before.st_uid, before.st_mode)


def test_help(helper):
    proc = run([helper, "--help"])
    assert proc.returncode == 0
    assert "usage: node-agent-socket-dir" in proc.stdout and "--mode=OCTAL" in proc.stdout
