"""The dbt resource skips dagster-dbt's `dbt --version` subprocess and in-process adapter: it must override what
dagster-dbt still calls, and still report the version of the dbt it starts."""

from __future__ import annotations

import inspect
import subprocess
from pathlib import Path

from dagster_dbt import DbtCliResource

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
