"""The Dagster code location loads, and its graph is the one `studio-budget run` executes."""

from __future__ import annotations

import subprocess
import sys

from dagster import AssetKey, Definitions


def _definitions() -> Definitions:
    from orchestration.definitions import studio_definitions
    from orchestration.defs.resources import StudioSettings
    from orchestration.lib.config import SAMPLE_LANDING_DIR

    settings = StudioSettings(landing_dir=str(SAMPLE_LANDING_DIR), warehouse_dir="wh", as_of="2026-01-01")
    return studio_definitions(settings)


def test_definitions_load_with_the_whole_graph() -> None:
    from orchestration.definitions import REFRESH_JOB, studio_assets
    from orchestration.lib.contract import SOURCES

    defs = _definitions()
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {f"lake/{name}" for name in SOURCES} <= keys
    assert {"marts/mart_line_item_variance", "marts/mart_studio_variance", "published/studio_duckdb"} <= keys
    assert "reports/studio_budget_vs_actual" in keys
    # the CLI materializes exactly these definitions' assets
    materialized = {k for a in studio_assets() for k in a.keys}
    assert materialized == {k for k in graph.get_all_asset_keys() if not graph.get(k).is_external}
    # the refresh job selects every one of them
    job_assets = defs.resolve_job_def(REFRESH_JOB).asset_layer.selected_asset_keys
    assert job_assets == materialized


def test_marts_read_the_lake_and_publish_waits_for_every_mart() -> None:
    graph = _definitions().resolve_asset_graph()
    staging = graph.get(AssetKey(["staging", "stg_gl_actuals"]))
    assert AssetKey(["lake", "gl_actuals"]) in staging.parent_keys
    publish = graph.get(AssetKey(["published", "studio_duckdb"]))
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    assert marts and marts <= publish.parent_keys


def test_dbt_tests_are_asset_checks() -> None:
    checks = _definitions().resolve_asset_graph().asset_check_keys
    assert any(check.asset_key.path[0] == "reference" for check in checks)
    assert any(check.asset_key == AssetKey(["marts", "mart_line_item_variance"]) for check in checks)


def test_importing_the_definitions_runs_nothing() -> None:
    """No dbt parse and no settings read at import: both happen when a loader asks for the definitions."""
    probe = (
        "import os\n"
        "import orchestration.lib.dbt as dbt\n"
        "calls = []\n"
        "dbt.manifest_is_stale = lambda *args: calls.append(args)\n"
        "os.environ['STUDIO_AS_OF'] = 'not a date'\n"
        "import orchestration.definitions as d\n"
        "assert calls == [], calls\n"
        "assert callable(d.defs)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
