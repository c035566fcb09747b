"""`cmake --install` output is usable on its own: a consumer outside the tree finds the client
library through find_package(nodeagent) and through pkg-config, builds, and reads a real agent."""
import os
import pathlib
import subprocess

import pytest

from conftest import BIN, REPO, binary

CONSUMER = REPO / "tests" / "install" / "consumer"

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("NODEAGENT_SANITIZER")),
    reason="sanitizer builds install instrumented archives; the release run checks the install")


def run(argv, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    dest = tmp_path_factory.mktemp("prefix")
    build_dir = pathlib.Path(BIN).parent
    run(["cmake", "--install", str(build_dir), "--prefix", str(dest)])
    return dest


def test_install_lays_out_library_headers_package_and_programs(prefix):
    for path in ["lib/libnodeagent_client.a", "include/nodeagent/client.h",
                 "lib/cmake/nodeagent/nodeagentConfig.cmake",
                 "lib/cmake/nodeagent/nodeagentConfigVersion.cmake",
                 "lib/cmake/nodeagent/nodeagentTargets.cmake",
                 "lib/pkgconfig/nodeagent-client.pc",
                 "bin/node-agent", "bin/node-agent-client", "bin/kiada"]:
        assert (prefix / path).exists(), path
    # The installed headers stand alone: nothing below include/ refers to the source tree.
    for header in (prefix / "include" / "nodeagent").glob("*.h"):
        assert str(REPO) not in header.read_text(), header


def consumers(prefix, tmp_path):
    """Builds the consumer twice: with CMake's find_package and with pkg-config."""
    cmake_build = tmp_path / "cmake-build"
    run(["cmake", "-S", str(CONSUMER), "-B", str(cmake_build), f"-DCMAKE_PREFIX_PATH={prefix}"])
    run(["cmake", "--build", str(cmake_build)])
    flags = run(["pkg-config", "--cflags", "--libs", "nodeagent-client"],
                env={**os.environ, "PKG_CONFIG_PATH": str(prefix / "lib" / "pkgconfig")})
    pkg_binary = tmp_path / "pkg-consumer"
    run(["g++", "-std=c++20", "-O1", str(CONSUMER / "main.cc"), "-o", str(pkg_binary),
         *flags.stdout.split()])
    return [cmake_build / "consumer", pkg_binary]


def test_consumers_read_a_real_agent(prefix, tmp_path, start, host_tree):
    root = host_tree("vm-2cpu-psi")
    agent = start([binary("node-agent"), "--listen-address", "127.0.0.1:0",
                   "--procfs", str(root / "proc"), "--sysfs", str(root / "sys")],
                  env={"NODE_NAME": "installed-node"})
    host, port = agent.listening()
    for program in consumers(prefix, tmp_path):
        result = run([str(program), f"http://{host}:{port}"])
        assert result.stdout.startswith("installed-node uptime: "), result.stdout
        refused = subprocess.run([str(program), "http://127.0.0.1:1"], capture_output=True,
                                 text=True)
        assert refused.returncode == 1
        assert "connection refused" in refused.stderr
