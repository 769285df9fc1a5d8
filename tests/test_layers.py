"""docs/design.md's layers, as the import-linter contracts in pyproject.toml: kept, no cycles."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"


def test_the_import_contracts_are_kept():
    # In a process of its own: import-linter's console output does not mix with pytest's capture.
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint_imports), "--no-cache", str(PYPROJECT)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_one_contract_forbids_import_cycles_anywhere_in_the_package():
    contracts = tomllib.loads(PYPROJECT.read_text("utf-8"))["tool"]["importlinter"]["contracts"]
    assert [c["ancestors"] for c in contracts if c["type"] == "acyclic_siblings"] == [["bot"]]
