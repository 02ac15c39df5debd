"""``hf search``: hfsearch installed as an ``hf`` CLI extension, then run through the real ``hf`` entry point.

huggingface_hub 2.4's ``hf extensions install OWNER/hf-search`` (``huggingface_hub/cli/extensions.py``) asks GitHub
for a file ``hf-search`` at the repository root (a script extension); there is none, so it installs the repository
as a Python package: ``pip install https://github.com/OWNER/hf-search/archive/HEAD.zip`` into a virtual environment
under ``~/.local/share/hf/extensions/hf-search/venv``, requires that environment's ``bin/hf-search`` console script,
and writes ``manifest.json`` (description read from the repository's ``pyproject.toml``). ``hf search ARGS`` then runs
that script.

The test runs the real install command with only the network replaced: a stand-in for GitHub serves this working
tree's files (so the real code finds no ``hf-search`` script and reads the real ``pyproject.toml``), and the
package is pip-installed from a local archive laid out like GitHub's ``archive/HEAD.zip`` (``--no-deps`` into an
environment that sees the already installed dependencies, since nothing can be downloaded here).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_INSTALL = r"""
import subprocess, sys, venv
from pathlib import Path
import httpx2
from huggingface_hub.cli import extensions
from huggingface_hub.errors import CLIError

ROOT, ARCHIVE = Path(sys.argv[1]), sys.argv[2]
RAW = "https://raw.githubusercontent.com/acme/hf-search/HEAD/"

def github(method, url, *, params=None, timeout=None):  # GitHub, served from the working tree
    request = httpx2.Request(method, url)
    if url.startswith(RAW):
        path = ROOT / url[len(RAW):]
        if path.is_file():
            return httpx2.Response(200, content=path.read_bytes(), request=request)
        raise httpx2.HTTPStatusError("404", request=request, response=httpx2.Response(404, request=request))
    if url == "https://github.com/acme/hf-search.git/info/refs":
        return httpx2.Response(200, content=b"001e# service=git-upload-pack\n" + b"1" * 40 + b" HEAD\x00", request=request)
    if url == "https://github.com/acme/hf-search":
        return httpx2.Response(200, content=b"<html></html>", request=request)
    raise AssertionError(f"unexpected request {method} {url}")

def install_python(*, extension_dir, owner, repo_name, short_name):  # pip from the local archive, no download
    venv_dir = extension_dir / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=True, symlinks=True).create(str(venv_dir))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv_dir / "bin" / "python"), "install", "--no-deps",
                    "--no-index", "--no-build-isolation", "--disable-pip-version-check", "--no-input", "--force-reinstall", "-q",
                    ARCHIVE],
                   check=True)
    executable = venv_dir / "bin" / f"hf-{short_name}"
    if not executable.is_file():
        raise CLIError(f"no console script hf-{short_name}")
    return executable.resolve()

extensions._github_request = github
extensions._install_python_extension = install_python
from huggingface_hub.cli.hf import main
sys.argv = ["hf", "extensions", "install", "acme/hf-search"]
main()
"""


def _github_archive(dest: Path) -> Path:
    """The repository as GitHub's ``archive/HEAD.zip`` lays it out (one top folder), built from the working tree."""
    archive = dest / "hf-search-HEAD.zip"
    files = [ROOT / "pyproject.toml", ROOT / "README.md"]
    files += [p for p in (ROOT / "hfsearch").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in files:
            zf.write(p, f"hf-search-HEAD/{p.relative_to(ROOT).as_posix()}")
    return archive


def _hf() -> str:
    hf = Path(sys.executable).with_name("hf")
    return str(hf) if hf.is_file() else shutil.which("hf") or pytest.skip("the `hf` entry point is not installed")


def test_hf_search_runs_as_an_installed_extension(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "XDG_DATA_HOME")}
    env.update(HOME=str(home), HF_HUB_DISABLE_UPDATE_CHECK="1", HF_HUB_OFFLINE="1", NO_COLOR="1", COLUMNS="120")
    archive = _github_archive(tmp_path)
    install = subprocess.run([sys.executable, "-c", _INSTALL, str(ROOT), str(archive)], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-3000:]

    ext = home / ".local" / "share" / "hf" / "extensions" / "hf-search"
    manifest = json.loads((ext / "manifest.json").read_text())
    assert manifest["type"] == "python" and manifest["repo_id"] == "acme/hf-search" and manifest["short_name"] == "search"
    assert manifest["executable_path"] == str((ext / "venv" / "bin" / "hf-search").resolve())
    assert manifest["description"].startswith("Find the best pretrained Hugging Face checkpoint")
    located = subprocess.run([str(ext / "venv" / "bin" / "python"), "-c", "import hfsearch; print(hfsearch.__file__)"],
                             env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert located.stdout.strip().startswith(str(ext / "venv"))  # the extension's own copy, not the checkout

    run = subprocess.run([_hf(), "search", "--help"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "usage: hfsearch" in run.stdout and "Find the best pretrained checkpoint" in run.stdout
    assert "find" in run.stdout and "bench" in run.stdout
    listed = subprocess.run([_hf(), "--help"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "search" in listed.stdout and "[extension acme/hf-search]" in listed.stdout


def test_without_the_extension_hf_does_not_know_search(tmp_path: Path) -> None:
    """What the README used to promise: a pip-installed ``hf-search`` console script is not enough for ``hf``."""
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    env.update(HOME=str(tmp_path), HF_HUB_DISABLE_UPDATE_CHECK="1", HF_HUB_OFFLINE="1", NO_COLOR="1")
    run = subprocess.run([_hf(), "search", "--help"], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "No such command 'search'" in run.stdout + run.stderr
