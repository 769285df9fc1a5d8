"""The Docker image's inputs stay true: the pinned dependency locks, the hosts its build needs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import urlparse

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.assets import PREDICTION_INT8, TRANSFER_MODELS, PresetCatalog
from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pins(lock: Path) -> dict[str, tuple[str, int]]:
    """name -> (pinned version, number of hashes) of a `pip-compile --generate-hashes` file."""
    found: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock.read_text()):
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        if match:
            found[canonicalize_name(match[1])] = (match[2], block.count("--hash=sha256:"))
    return found


@pytest.mark.parametrize(("lock", "extras"), [("requirements.lock", []),
                                              ("requirements-hub.lock", ["hub"])])
def test_each_lock_pins_with_hashes_what_pyproject_asks_for(lock, extras):
    """After a change to [project] dependencies, regenerate the locks (command at their top)."""
    text = (ROOT / lock).read_text()
    assert "pip-compile --generate-hashes" in text.splitlines()[4], "the command is at the top"
    pinned = pins(ROOT / lock)
    wanted = [Requirement(r) for r in PROJECT["dependencies"]]
    wanted += [Requirement(r) for extra in extras for r in PROJECT["optional-dependencies"][extra]]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is not in {lock}"
        version, hashes = pinned[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {name}=={version}, outside {requirement.specifier}")
        assert hashes >= 1
    assert all(hashes >= 1 for _, hashes in pinned.values())
    if not extras:  # the lite image has no TensorFlow
        assert not {"tensorflow", "tensorflow-hub", "tf-keras"} & set(pinned)


def test_the_readme_names_every_host_the_image_build_downloads_from():
    """The hosts of the model URLs `stylebot download` fetches and of every catalog painting."""
    models = [PREDICTION_INT8, TRANSFER_MODELS[Settings().engine.transfer]]
    urls = [m.url for m in models] + [p.url for p in PresetCatalog.builtin() if p.url]
    hosts = {urlparse(url).hostname for url in urls}
    readme = (ROOT / "README.md").read_text()
    docker = readme[readme.index("### Run it with Docker"):readme.index("### Commands")]
    listed = docker[docker.index("bot/assets/catalog.toml"):]
    listed = set(re.findall(r"`([a-z0-9.-]+\.[a-z]+)`", listed[:listed.index("To take")]))
    assert listed == hosts


def test_the_dockerfile_installs_the_locks_with_hashes_and_the_wheel_without_deps():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes --no-deps" in dockerfile
    assert '-r "/context/requirements${EXTRAS:+-$EXTRAS}.lock"' in dockerfile
    assert "pip install --no-cache-dir --no-deps /wheels/stylebot-*.whl" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {"!requirements.lock", "!requirements-hub.lock"} <= set(ignored)
