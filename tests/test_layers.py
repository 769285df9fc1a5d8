"""docs/design.md's layers, as the import-linter contracts in pyproject.toml: kept, no cycles."""

from __future__ import annotations

import tomllib
from pathlib import Path

from importlinter.cli import lint_imports

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_import_contracts_are_kept(capsys):
    code = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, report
    assert "0 broken" in report


def test_one_contract_forbids_import_cycles_anywhere_in_the_package():
    contracts = tomllib.loads(PYPROJECT.read_text("utf-8"))["tool"]["importlinter"]["contracts"]
    assert [c["ancestors"] for c in contracts if c["type"] == "acyclic_siblings"] == [["bot"]]
