"""The dbt resource skips dagster-dbt's `dbt --version` subprocess and in-process adapter: it must override what
dagster-dbt still calls, and still report the version of the dbt it starts."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import dagster_dbt
import pytest
from dagster_dbt import DbtCliResource

import orchestration.lib.dbt as dbt_module
from orchestration.dbt_child import child_environment
from orchestration.lib.config import DBT_PROJECT_DIR
from orchestration.lib.dbt import StudioDbtCliResource, dbt_executable


def test_overrides_what_dagster_dbt_calls_before_each_command() -> None:
    # if dagster-dbt renames these, the overrides would silently stop saving anything: fail loudly instead
    source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in source
    assert "self._initialize_dbt_core_adapter(" in source
    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(DbtCliResource), name
        assert name in vars(StudioDbtCliResource), name


def test_reports_the_version_of_the_dbt_it_starts() -> None:
    resource = StudioDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
    )
    # dagster-dbt's own way: ask the executable
    asked = subprocess.run([dbt_executable(), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"installed: {resource._cli_version}" in asked.replace("- installed:", "installed:")
    assert resource._initialize_dbt_core_adapter(["build"]) is None
    assert Path(resource.dbt_executable).is_file()


def test_the_projects_parse_is_made_again_when_made_with_other_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a project whose manifest is newer than its files: only the arguments of its last parse can make it stale
    for name in ("dbt_project.yml", "profiles.yml"):
        (tmp_path / name).write_text("{}\n", encoding="utf-8")
        os.utime(tmp_path / name, (1, 1))  # older than the manifest
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_text("{}", encoding="utf-8")
    manifest = tmp_path / "target" / "manifest.json"
    project = SimpleNamespace(project_dir=str(tmp_path), target_path="target", manifest_path=manifest)
    parses: list[list[str]] = []

    class RecordingDbt:
        def __init__(self, **_: object) -> None:
            pass

        def cli(self, args: list[str], target_path: str) -> SimpleNamespace:
            parses.append(args)
            return SimpleNamespace(wait=lambda: None)

    monkeypatch.setattr(dbt_module, "StudioDbtCliResource", RecordingDbt)
    dbt_module.prepare_manifest(project)  # no record of how it was parsed (an older checkout): parsed again
    assert len(parses) == 1
    args = parses[0]
    assert args[:4] == ["parse", "--quiet", "--target", "local"]
    # the vars a refresh of a default studio passes, but the as-of date (StudioSettings.dbt_vars, dbt_command_vars)
    assert json.loads(args[args.index("--vars") + 1]) == {
        "base_currency": "USD", "fiscal_year_start_month": 1, "invoice_po_tolerance_pct": 10.0,
        "duckdb_memory_limit": "512MB", "build_db": "build.duckdb", "work_db": "work.duckdb",
    }  # fmt: skip
    assert (tmp_path / "target" / ".parse_args").is_file()
    dbt_module.prepare_manifest(project)  # made with these arguments: not again
    assert len(parses) == 1
    stamp = tmp_path / "target" / ".parse_args"
    stamp.write_text(stamp.read_text(encoding="utf-8").replace('"local"', '"spark"'), encoding="utf-8")
    dbt_module.prepare_manifest(project)  # made with another target: again
    assert len(parses) == 2
    dbt_module.prepare_manifest(project)
    assert len(parses) == 2
    # a dbt run by hand in the project writes its own parse there, and leaves the stamp as it was: again
    earlier = manifest.stat().st_mtime - 5  # the stamp older than the manifest
    os.utime(stamp, (earlier, earlier))
    dbt_module.prepare_manifest(project)
    assert len(parses) == 3
    dbt_module.prepare_manifest(project)  # the stamp written after it: not again
    assert len(parses) == 3


def test_dbt_writes_no_debug_log_file_unless_asked() -> None:
    assert child_environment({"PATH": "/usr/bin"}) == {"DBT_LOG_LEVEL_FILE": "none"}
    assert child_environment({"DBT_LOG_LEVEL_FILE": "debug"}) == {"DBT_LOG_LEVEL_FILE": "debug"}
    assert child_environment({"DBT_LOG_LEVEL_FILE": ""}) == {"DBT_LOG_LEVEL_FILE": "none"}  # dbt: unset, so debug


def test_the_refresh_imports_dagster_dbt_without_dbt_core_and_the_names_it_uses_are_dbt_cores() -> None:
    # orchestration/defs/__init__.py: dagster-dbt imported as where dbt-core is absent defines these names itself
    script = (
        "import json, sys\n"
        "import orchestration.refresh, orchestration.definitions\n"
        "from dagster_dbt import compat\n"
        "enums = (compat.NodeStatus, compat.TestStatus, compat.NodeType)\n"
        "names = {e.__name__: {m.name: m.value for m in e} for e in enums}\n"
        "core = sorted(m for m in sys.modules if m == 'dbt' or m.startswith(('dbt.', 'dbt_common', 'dbt_adapters')))\n"
        "print(json.dumps({'version': str(compat.DBT_PYTHON_VERSION), 'core': core, 'names': names,\n"
        "                  'refable': sorted(compat.REFABLE_NODE_TYPES)}))\n"
    )  # fmt: skip
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["version"] == "None"  # dagster-dbt took dbt-core to be absent
    assert seen["core"] == []  # and nothing imported it
    from dbt.contracts.results import NodeStatus, TestStatus
    from dbt.node_types import REFABLE_NODE_TYPES, NodeType

    # every name of these that dagster-dbt uses, read from its source, is dbt-core's, with dbt-core's value
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path(dagster_dbt.__file__).parent.rglob("*.py"))
    used = set(re.findall(r"\b(NodeStatus|TestStatus|NodeType)\.([A-Z]\w*)", source))
    assert ("NodeStatus", "Success") in used and ("NodeType", "Test") in used
    core = {"NodeStatus": NodeStatus, "TestStatus": TestStatus, "NodeType": NodeType}
    for enum, name in used:
        assert seen["names"][enum][name] == getattr(core[enum], name).value, (enum, name)
    assert seen["refable"] == sorted(str(t) for t in REFABLE_NODE_TYPES)
