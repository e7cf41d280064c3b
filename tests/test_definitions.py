"""The Dagster code location loads, and its graph is the one `studio-budget run` executes."""

from __future__ import annotations

from dagster import AssetKey


def test_definitions_load_with_the_whole_graph() -> None:
    from orchestration.definitions import REFRESH_JOB, all_assets, defs
    from orchestration.lib.contract import SOURCES

    job = defs.resolve_job_def(REFRESH_JOB)
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {f"lake/{name}" for name in SOURCES} <= keys
    assert {"marts/mart_line_item_variance", "marts/mart_studio_variance", "published/studio_duckdb"} <= keys
    assert "reports/studio_budget_vs_actual" in keys
    # the CLI materializes exactly these definitions' assets
    assert {k for a in all_assets for k in a.keys} == graph.get_all_asset_keys() - {
        k for k in graph.get_all_asset_keys() if graph.get(k).is_external
    }
    assert job.name == REFRESH_JOB


def test_marts_read_the_lake_and_publish_waits_for_every_mart() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    staging = graph.get(AssetKey(["staging", "stg_gl_actuals"]))
    assert AssetKey(["lake", "gl_actuals"]) in staging.parent_keys
    publish = graph.get(AssetKey(["published", "studio_duckdb"]))
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    assert marts and marts <= publish.parent_keys


def test_dbt_tests_are_asset_checks() -> None:
    from orchestration.definitions import defs

    checks = defs.resolve_asset_graph().asset_check_keys
    assert any(check.asset_key.path[0] == "reference" for check in checks)
