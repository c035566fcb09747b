"""The container image (deploy/container/Containerfile): built with podman from the static
binaries, then checked from the outside (config, exact file list, size, static ELF files) and,
as root, from the inside by running its binaries in its own file tree (image_smoke.py).
Skipped only when podman is not installed."""

import io
import json
import os
import shutil
import struct
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import REPO, project_version

STATIC_BIN = Path(os.environ.get("NODEAGENT_STATIC_BIN", REPO / "build" / "static" / "bin"))
PROGRAMS = ("node-agent", "kiada", "node-agent-client", "node-agent-socket-dir")
MAX_BYTES = 10 * 1000 * 1000

pytestmark = pytest.mark.skipif(shutil.which("podman") is None, reason="podman not installed")


def podman(*args, **kw):
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=600,
                          check=True, **kw)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    missing = [p for p in PROGRAMS if not (STATIC_BIN / p).exists()]
    if missing:
        pytest.fail(f"static binaries missing from {STATIC_BIN}: {missing} (make static)")
    # The same context layout and ignore file `make image` uses, with these binaries in it.
    ctx = tmp_path_factory.mktemp("context")
    (ctx / "deploy").mkdir()
    shutil.copytree(REPO / "deploy" / "container", ctx / "deploy" / "container")
    (ctx / "build" / "static" / "bin").mkdir(parents=True)
    for p in PROGRAMS:
        shutil.copy2(STATIC_BIN / p, ctx / "build" / "static" / "bin" / p)
    (ctx / "build" / "unrelated.o").write_bytes(b"must not reach the image")
    tag = f"localhost/node-agent-pytest:{os.getpid()}"
    podman("build", "-q", "--layers=false", "-f", "deploy/container/Containerfile", "--ignorefile",
           "deploy/container/Containerfile.ignore", "-t", tag, ".", cwd=ctx)
    try:
        yield tag
    finally:
        subprocess.run(["podman", "rmi", "-f", tag], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def inspect(image):
    return json.loads(podman("image", "inspect", image).stdout)[0]


@pytest.fixture(scope="module")
def files(image, tmp_path_factory):
    """{path: TarInfo-like dict, with "data" for regular files}, merged over all layers."""
    archive = tmp_path_factory.mktemp("save") / "image.tar"
    podman("save", "--format", "docker-archive", "-o", str(archive), image)
    out = {}
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        for layer in manifest[0]["Layers"]:
            with tarfile.open(fileobj=io.BytesIO(outer.extractfile(layer).read())) as t:
                for m in t.getmembers():
                    name = m.name.lstrip("./")
                    entry = {"type": m.type, "mode": m.mode, "uid": m.uid, "gid": m.gid,
                             "size": m.size, "linkname": m.linkname}
                    if m.isfile():
                        entry["data"] = t.extractfile(m).read()
                    if name:
                        out[name] = entry
    return out


def test_runs_as_nonroot_with_agent_entrypoint(inspect):
    config = inspect["Config"]
    assert config["User"] == "65532:65532"
    assert config["Entrypoint"] == ["/usr/local/bin/node-agent"]
    assert not config.get("Cmd")


def test_size_is_under_10_mb(inspect):
    print(f"image size: {inspect['Size']} bytes")
    assert 0 < inspect["Size"] < MAX_BYTES


def test_exact_file_list(files):
    regular = sorted(n for n, e in files.items() if e["type"] not in (tarfile.DIRTYPE,))
    assert regular == sorted(["etc/group", "etc/passwd"] +
                             [f"usr/local/bin/{p}" for p in PROGRAMS])
    for p in PROGRAMS:
        e = files[f"usr/local/bin/{p}"]
        assert e["type"] == tarfile.REGTYPE and e["mode"] & 0o777 == 0o755
        assert (e["uid"], e["gid"]) == (0, 0)
    assert not any(n in files for n in ("bin/sh", "bin", "lib", "lib64", "usr/lib"))


def test_passwd_and_group_name_uid_65532(files):
    passwd = files["etc/passwd"]["data"].decode().splitlines()
    group = files["etc/group"]["data"].decode().splitlines()
    assert "nonroot:x:65532:65532:nonroot:/:/sbin/nologin" in passwd
    assert "nonroot:x:65532:" in group
    assert all(line.endswith("/sbin/nologin") for line in passwd)


def elf_program_headers(data):
    assert data[:4] == b"\x7fELF" and data[4] == 2, "not a 64-bit ELF"
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return [struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)]


@pytest.mark.parametrize("program", PROGRAMS)
def test_binaries_are_static(files, program):
    data = files[f"usr/local/bin/{program}"]["data"]
    kinds = elf_program_headers(data)
    PT_DYNAMIC, PT_INTERP = 2, 3
    assert PT_INTERP not in kinds and PT_DYNAMIC not in kinds
    assert struct.unpack_from("<H", data, 0x10)[0] == 2  # ET_EXEC: not a PIE needing a loader


def test_ldd_agrees(image, files, tmp_path):
    if shutil.which("ldd") is None:
        pytest.skip("ldd not installed")
    path = tmp_path / "node-agent"
    path.write_bytes(files["usr/local/bin/node-agent"]["data"])
    path.chmod(0o755)
    proc = subprocess.run(["ldd", str(path)], capture_output=True, text=True)
    assert "not a dynamic executable" in proc.stdout + proc.stderr


def test_make_image_tags_the_project_version():
    text = (REPO / "Makefile").read_text()
    assert "-t $(IMAGE):$(VERSION)" in text
    kustomization = (REPO / "deploy" / "kubernetes" / "base" / "kustomization.yaml").read_text()
    assert f"newTag: {project_version()}" in kustomization


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None
                    or shutil.which("setpriv") is None,
                    reason="needs root, unshare and setpriv to run the image's file tree")
def test_binaries_run_from_the_image_tree(files, tmp_path):
    root = tmp_path / "rootfs"
    for name, e in files.items():
        target = root / name
        if e["type"] == tarfile.DIRTYPE:
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(e["data"])
        target.chmod(e["mode"] & 0o7777)
    root.chmod(0o755)
    for d in (root / "usr", root / "usr/local", root / "usr/local/bin", root / "etc"):
        d.chmod(0o755)
    proc = subprocess.run(["unshare", "--net", "--mount", "/usr/bin/python3",
                           str(Path(__file__).with_name("image_smoke.py")), str(root)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    # Name resolution through DNS with the kubelet's search path, from a static binary with no
    # NSS libraries in the tree.
    assert r["client_via_dns"]["rc"] == 0, r
    assert r["agent_line"]["rc"] == 0 and "image-node uptime:" in r["agent_line"]["out"], r
    assert r["kiada_text"]["rc"] == 0, r
    assert 'on node "image-node"' in r["kiada_text"]["out"], r
    assert "image-node uptime:" in r["kiada_text"]["out"], r
    # unix-socket mode, end to end.
    assert r["socket_dir"]["rc"] == 0, r
    assert r["socket_dir"]["owner"] == [65532, 65532] and r["socket_dir"]["mode"] == "0o750"
    assert r["unix_client"]["rc"] == 0, r
    assert r["unix_socket"] == {"owner": [65532, 65532], "mode": "0o660"}, r
