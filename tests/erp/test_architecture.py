"""The import contracts in pyproject.toml ([tool.importlinter], run by `make lint`) hold today, and they bite.

A contract that nothing could break would pass just as quietly as a kept one, so each is shown failing: once with one
of its exceptions removed, once with a forbidden import added to the real import graph. Runs import-linter in process
(the function `lint-imports` calls) without its cache, so parallel workers never share a cache directory.
"""

import contextlib
import io
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter import api  # noqa: F401  (importing it configures import-linter's adapters, as the CLI does)
from importlinter.adapters.building import GraphBuilder
from importlinter.application import use_cases
from importlinter.application.app_config import settings

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _config() -> dict[str, Any]:
    return tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]


def _write_config(config: dict[str, Any], path: Path) -> Path:
    """The same table as pyproject.toml's, as a TOML file of its own (strings and string lists: JSON spells them
    as TOML does)."""
    lines = ["[tool.importlinter]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in config.items() if key != "contracts"]
    for contract in config["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in contract.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _contract(config: dict[str, Any], contract_id: str) -> dict[str, Any]:
    return next(contract for contract in config["contracts"] if contract["id"] == contract_id)


def _lint(config_file: Path, *, contract_id: str | None = None) -> str:
    """import-linter's summary line: "Contracts: N kept, N broken." (an error that stops it from checking has none)."""
    limit = (contract_id,) if contract_id else ()
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        use_cases.lint_imports(config_filename=str(config_file), limit_to_contracts=limit, cache_dir=None, no_logo=True)
    print(report.getvalue())  # shown when a test fails
    summary = [line for line in report.getvalue().splitlines() if line.startswith("Contracts: ")]
    return summary[0] if summary else report.getvalue()


class _GraphWithExtraImport(GraphBuilder):
    """The real import graph plus one import that the code does not (yet) have."""

    def __init__(self, importer: str, imported: str) -> None:
        self.importer = importer
        self.imported = imported

    def build(
        self,
        root_package_names: list[str],
        cache_dir: str | None,
        include_external_packages: bool = False,
        exclude_type_checking_imports: bool = False,
    ) -> grimp.ImportGraph:
        graph = super().build(root_package_names, cache_dir, include_external_packages, exclude_type_checking_imports)
        graph.add_import(importer=self.importer, imported=self.imported, line_number=1, line_contents="import x")
        return graph


@pytest.fixture
def extra_import() -> Iterator[type[_GraphWithExtraImport]]:
    """Swaps import-linter's graph builder for one that adds an import, and puts the real one back."""
    real_builder = settings.GRAPH_BUILDER
    yield _GraphWithExtraImport
    settings.configure(GRAPH_BUILDER=real_builder)


def test_the_real_contracts_are_kept() -> None:
    # given the config exactly as pyproject.toml has it
    config = _config()
    assert {contract["id"] for contract in config["contracts"]} == {
        "layers",
        "sandboxes-stand-alone",
        "no-sandboxes-in-dropline",
        "platforms-private",
    }

    # when / then: every contract is kept (an exception that no longer matches an import also fails here)
    assert _lint(PYPROJECT) == "Contracts: 4 kept, 0 broken."


def test_the_rewritten_config_is_the_real_one(tmp_path: Path) -> None:
    # the tests below edit a copy: unedited, it is kept like the real one
    assert _lint(_write_config(_config(), tmp_path / "importlinter.toml")) == "Contracts: 4 kept, 0 broken."


@pytest.mark.parametrize(
    ("contract_id", "exception"),
    [
        ("layers", "erp.demo -> shipping.**"),
        ("layers", "erp.urls -> orders.**"),
        ("layers", "erp.clock -> inventory.models"),
    ],
)
def test_removing_one_exception_breaks_its_contract(tmp_path: Path, contract_id: str, exception: str) -> None:
    # given the real config less one exception
    config = _config()
    contract = _contract(config, contract_id)
    assert exception in contract["ignore_imports"]
    contract["ignore_imports"] = [ignored for ignored in contract["ignore_imports"] if ignored != exception]

    # when / then
    assert _lint(_write_config(config, tmp_path / "importlinter.toml"), contract_id=contract_id) == (
        "Contracts: 0 kept, 1 broken."
    )


@pytest.mark.parametrize(
    ("contract_id", "importer", "imported"),
    [
        ("layers", "orders.services", "shipping.labels.purchase"),  # a lower app reaching up
        ("layers", "erp.tenancy", "integrations.models"),  # the bottom layer reaching up
        ("layers", "integrations.services", "inventory.models"),
        ("sandboxes-stand-alone", "sandboxes.tiktok", "orders.models"),
        ("no-sandboxes-in-dropline", "shipping.tasks", "sandboxes.tiktok"),
        ("platforms-private", "orders.services", "integrations.tiktok"),
        ("platforms-private", "erp.views", "integrations.tiktok"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    extra_import: type[_GraphWithExtraImport], contract_id: str, importer: str, imported: str
) -> None:
    # given the real code and the real config, plus one forbidden import
    settings.configure(GRAPH_BUILDER=extra_import(importer, imported))

    # when / then
    assert _lint(PYPROJECT, contract_id=contract_id) == "Contracts: 0 kept, 1 broken."


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("shipping.labels.purchase", "orders.models"),  # downward through the layers
        ("integrations.services", "integrations.tiktok"),  # integrations reaching its own adapter
    ],
)
def test_an_allowed_import_keeps_every_contract(
    extra_import: type[_GraphWithExtraImport], importer: str, imported: str
) -> None:
    # given the real code plus an import the architecture allows
    settings.configure(GRAPH_BUILDER=extra_import(importer, imported))

    # when / then
    assert _lint(PYPROJECT) == "Contracts: 4 kept, 0 broken."
