"""What a refresh materializes (`orchestration.lib.scope`): what a day's new files and as-of date reach, or every
asset whenever the warehouse gives no sure ground to build on."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

from dagster import AssetKey, Definitions

from orchestration.definitions import studio_assets
from orchestration.lib.config import DBT_PROJECT_DIR, WarehouseLayout
from orchestration.lib.dbt import prepare_manifest
from orchestration.lib.freshness import RunInputs, record_clean_publication, run_inputs
from orchestration.lib.scope import RefreshScope, models_reading, publication_base, read_manifest, refresh_scope
from orchestration.refresh import scope_selection
from tests.conftest import two_file_studio

REFERENCE = ("projects", "accounts", "fx_rates")
PASSED = {"as_of": "2026-10-15", "latest_load": "L2"}
LOADS = [("projects", "L1"), ("gl_actuals", "L2")]
BASE = publication_base("duckdb", PASSED, LOADS)


def _source_of(file_name: str) -> str | None:
    return next((s for s in ("gl_actuals", "budgets", *REFERENCE) if file_name.startswith(s)), None)


def _published(tmp_path: Path) -> tuple[Path, WarehouseLayout, RunInputs]:
    """A warehouse whose clean publication is of two landing files at 2026-10-15, its build and work files there."""
    landing, layout = two_file_studio(tmp_path)
    for database in (layout.build_db, layout.work_db):
        database.write_bytes(b"tables")
    inputs = run_inputs(landing, layout, "2026-10-15", None)
    record_clean_publication(layout, inputs, BASE)
    return landing, layout, inputs


def _scope(layout: WarehouseLayout, inputs: RunInputs, base: dict = BASE, **kw: object) -> RefreshScope:
    return refresh_scope(layout, inputs, _source_of, base, REFERENCE, **kw)  # type: ignore[arg-type]


def test_a_day_reaches_its_new_files_sources_and_the_as_of_date(tmp_path: Path) -> None:
    landing, layout, _ = _published(tmp_path)
    (landing / "gl_actuals_2.csv").write_text("txn_id\nT2\n", encoding="utf-8")
    (landing / "notes.txt").write_text("no refresh reads me\n", encoding="utf-8")
    day = _scope(layout, run_inputs(landing, layout, "2026-10-16", None))
    assert day == RefreshScope(None, ("gl_actuals",), True)
    assert day.describe() == "what new files of gl_actuals and the new as-of date reach"
    assert RefreshScope(None, ("gl_actuals",)).describe() == "what new files of gl_actuals reach"
    assert RefreshScope(None, (), True).describe() == "what the new as-of date reaches"
    # the same as-of with a changed file (same name, other content) of another source
    (landing / "gl_actuals_2.csv").unlink()
    (landing / "budgets_v2.csv").write_text("project_code\nP1\n", encoding="utf-8")
    (landing / "gl_actuals_1.csv").write_text("txn_id\nT1\nT3\n", encoding="utf-8")
    same_day = _scope(layout, run_inputs(landing, layout, "2026-10-15", None))
    assert same_day == RefreshScope(None, ("budgets", "gl_actuals"), False)
    # a load the lake accepted since (by a run that failed after its ingest) whose file is gone from landing
    (landing / "budgets_v2.csv").unlink()
    unpublished = publication_base("duckdb", PASSED, [*LOADS, ("budgets", "L3")])
    same_day = _scope(layout, run_inputs(landing, layout, "2026-10-15", None), unpublished)
    assert same_day == RefreshScope(None, ("budgets", "gl_actuals"), False)
    # the as-of alone
    (landing / "gl_actuals_1.csv").write_text("txn_id\nT1\n", encoding="utf-8")
    assert _scope(layout, run_inputs(landing, layout, "2026-10-17", None)) == RefreshScope(None, (), True)


def test_a_file_the_publication_rejected_is_checked_again_with_a_new_day(tmp_path: Path) -> None:
    """A publication whose run rejected a budgets file is ground to build on: a new ledger file's day reaches
    gl_actuals and, the rejected file being still there, budgets (its file is checked again); once it is gone from
    landing only gl_actuals."""
    landing, layout, _ = _published(tmp_path)
    (landing / "budgets_bad.csv").write_text("project_code\nP404\n", encoding="utf-8")
    with_rejected = run_inputs(landing, layout, "2026-10-15", None)
    rejected = [{"file": "budgets_bad.csv", "reasons": ["no project P404"], "report": "r.txt", "data_docs": None}]
    record_clean_publication(layout, with_rejected, BASE, rejected)
    (landing / "gl_actuals_2.csv").write_text("txn_id\nT2\n", encoding="utf-8")
    day = _scope(layout, run_inputs(landing, layout, "2026-10-16", None))
    assert day == RefreshScope(None, ("budgets", "gl_actuals"), True)
    (landing / "budgets_bad.csv").unlink()
    assert _scope(layout, run_inputs(landing, layout, "2026-10-16", None)) == RefreshScope(None, ("gl_actuals",), True)
    # a rejected file of a source every cost line carries: checked again, every model
    (landing / "fx_rates_bad.csv").write_text("currency\nXX\n", encoding="utf-8")
    with_fx = run_inputs(landing, layout, "2026-10-15", None)
    record_clean_publication(layout, with_fx, BASE, [{**rejected[0], "file": "fx_rates_bad.csv"}])
    fx = _scope(layout, replace(with_fx, as_of="2026-10-16"))
    assert fx.everything_because == "a rejected file of fx_rates is checked again, and every cost line carries fx_rates"


def test_every_asset_when_the_warehouse_is_no_sure_ground(tmp_path: Path) -> None:
    landing, layout, inputs = _published(tmp_path)
    (landing / "gl_actuals_2.csv").write_text("txn_id\nT2\n", encoding="utf-8")
    day = run_inputs(landing, layout, "2026-10-16", None)
    assert not _scope(layout, day).everything
    cases = {
        "--full-refresh": _scope(layout, day, full_refresh=True),
        "the spark engine builds every model": _scope(layout, day, publication_base("spark", PASSED, LOADS)),
        "another config or another version of the code": _scope(layout, replace(day, code_sha256="0" * 64)),
        "the last dbt build did not pass": _scope(
            layout, day, publication_base("duckdb", {**PASSED, "attempted_as_of": "2026-10-16"}, LOADS)
        ),
        "the build database holds another build than the published warehouse": _scope(
            layout, day, publication_base("duckdb", {**PASSED, "as_of": "2026-10-16"}, LOADS)
        ),
        "the incremental models rebuild from the lake: another version of the models": _scope(
            layout, day, rebuild_reasons=["another version of the models"]
        ),
        "an earlier as-of date than the last publication's (2026-10-15)": _scope(
            layout, run_inputs(landing, layout, "2026-10-14", None)
        ),
        "loads the published warehouse holds are gone from the lake": _scope(
            layout, day, publication_base("duckdb", PASSED, LOADS[1:])
        ),
        "new files of projects, which every cost line carries": _scope(
            layout, day, publication_base("duckdb", PASSED, [*LOADS, ("projects", "L3")])
        ),
    }
    no_record = publication_base("duckdb", None, LOADS)
    assert _scope(layout, day, no_record).everything_because == "the last dbt build did not pass"
    config = tmp_path / "studio.toml"
    config.write_text("base_currency = 'GBP'\n", encoding="utf-8")
    cases["another config or another version of the code"] = _scope(
        layout, run_inputs(landing, layout, "2026-10-16", config)
    )
    for reason, scope in cases.items():
        assert scope.everything_because == reason
        assert scope.describe() == f"every model ({reason})"
    # nothing named changed: a loaded landing file removed (a file no refresh reads is no input at all)
    (landing / "gl_actuals_2.csv").unlink()
    (landing / "notes.txt").write_text("x\n", encoding="utf-8")
    assert _scope(layout, run_inputs(landing, layout, "2026-10-15", None)).everything_because == (
        "no new file of a source and the same as-of date"
    )
    # a new file of a source every cost line carries: the incremental models rebuild, so everything does
    (landing / "fx_rates_2026.csv").write_text("currency\nGBP\n", encoding="utf-8")
    fx = _scope(layout, run_inputs(landing, layout, "2026-10-16", None))
    assert fx.everything_because == "new files of fx_rates, which every cost line carries"
    (landing / "fx_rates_2026.csv").unlink()
    # a publication recorded without what it was built from (before the scope existed), or from Spark's build
    for recorded in (None, publication_base("spark", PASSED, LOADS)):
        record_clean_publication(layout, inputs, recorded)
        assert _scope(layout, day).everything_because == (
            "the last clean publication was not built by this engine's build database"
        )
    record_clean_publication(layout, inputs, BASE)
    assert not _scope(layout, day).everything
    # a work database gone
    layout.work_db.unlink()
    assert _scope(layout, day).everything_because == "no build or work database"
    layout.work_db.write_bytes(b"tables")
    # a publication made since by another tool
    stat = layout.published_db.stat()
    os.utime(layout.published_db, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert _scope(layout, day).everything_because == "the published warehouse is not the last clean publication"
    # no clean publication recorded (the last run failed)
    (layout.internal / "last_clean_publication.json").unlink()
    assert _scope(layout, inputs).everything_because == "no clean publication to build on"


def _defined_macros() -> dict[str, str]:
    """Every macro of the project, by name, with its body: read from the macro files' text."""
    found = {}
    for path in (DBT_PROJECT_DIR / "macros").rglob("*.sql"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"{%-?\s*macro\s+(\w+)\(.*?{%-?\s*endmacro\s*-?%}", text, re.S):
            found[match.group(1)] = match.group(0)
    return found


def test_the_models_that_read_the_as_of_date_or_a_source_by_their_sql_text() -> None:
    """The manifest's answer against a second reading: the models' and macros' own text."""
    manifest = read_manifest(prepare_manifest())
    macros = _defined_macros()
    readers = {"as_of_date"}
    while True:  # a macro that calls a reader reads it too (as_of_period calls as_of_date)
        more = {name for name, body in macros.items() if any(re.search(rf"\b{r}\s*\(", body) for r in readers)}
        if more <= readers:
            break
        readers |= more
    models = {p.stem: p.read_text(encoding="utf-8") for p in (DBT_PROJECT_DIR / "models").rglob("*.sql")}

    def by_text(sources: set[str], as_of: bool) -> set[str]:
        wanted = sources | ({"load_ledger"} if sources else set())
        return {
            name
            for name, sql in models.items()
            if any(re.search(rf"(source\(\s*'lake'\s*,|deduplicated\()\s*'{s}'", sql) for s in wanted)
            or (as_of and any(re.search(rf"\b{r}\s*\(", sql) for r in readers))
        }

    lake = sorted(source["name"] for source in manifest["sources"].values() if source["name"] != "load_ledger")
    assert len(lake) == 19
    cases = [({source}, False) for source in lake] + [
        ({"gl_actuals"}, True),
        (set(), True),
        ({"tasks", "budgets"}, True),
    ]
    for sources, as_of in cases:
        found = {node["name"] for node in models_reading(manifest, sources, as_of)}
        assert found == by_text(sources, as_of), (sources, as_of)
        assert len(found) > (1 if sources else 20), (sources, as_of)  # the source's staging and the ledger's reader
    assert models_reading(manifest, set(), False) == []


def test_a_scope_selects_the_new_files_assets_what_reads_them_and_everything_downstream(tmp_path: Path) -> None:
    """The scope's asset selection resolved against the pipeline's asset graph (every asset and check)."""
    from orchestration.definitions import studio_resources
    from orchestration.defs.resources import StudioSettings
    from orchestration.lib.config import SAMPLE_LANDING_DIR

    prepare_manifest()
    assets = studio_assets()
    settings = StudioSettings.for_run(SAMPLE_LANDING_DIR, tmp_path / "warehouse", "2026-10-15")
    graph = Definitions(assets=assets, resources=studio_resources(settings)).resolve_asset_graph()
    everything = {key for a in assets for key in a.keys}
    day = scope_selection(RefreshScope(None, ("gl_actuals",), True))
    assert day is not None and scope_selection(RefreshScope("--full-refresh")) is None
    chosen = day.resolve(graph)
    needed = ["lake/gl_actuals", "staging/stg_gl_actuals", "marts/fct_actual_costs", "marts/mart_studio_variance"]
    needed += ["published/studio_duckdb", "published/department_files", "reports/studio_budget_vs_actual"]
    assert {AssetKey.from_user_string(k) for k in needed} <= chosen
    kept = ["lake/budgets", "lake/projects", "staging/stg_budgets", "staging/stg_people", "marts/dim_departments"]
    assert not {AssetKey.from_user_string(k) for k in kept} & chosen
    assert len(chosen) < len(everything)
    # the dbt tests of the chosen models are chosen, those of the kept ones are not
    checks = day.resolve_checks(graph)
    assert any(c.asset_key == AssetKey.from_user_string("marts/fct_actual_costs") for c in checks)
    assert not any(c.asset_key == AssetKey.from_user_string("staging/stg_budgets") for c in checks)
    # a budgets file alone: the budgets' staging and what reads it, not the ledger's
    budgets = scope_selection(RefreshScope(None, ("budgets",), False))
    assert budgets is not None
    chosen = budgets.resolve(graph)
    assert AssetKey.from_user_string("staging/stg_budgets") in chosen
    assert AssetKey.from_user_string("staging/stg_gl_actuals") not in chosen
    assert AssetKey.from_user_string("published/studio_duckdb") in chosen


def test_a_scoped_dbt_step_that_finds_a_reason_to_rebuild_builds_nothing(small_warehouse: Path, tmp_path: Path) -> None:
    """The plan found no reason to rebuild the incremental models, the dbt step does (here: the record of the last
    build names another version of the models): it stops before dbt starts, and leaves the record for the next run."""
    from dagster import AssetSelection, DagsterInstance, materialize

    from orchestration.definitions import studio_resources
    from orchestration.defs.resources import StudioSettings
    from orchestration.lib.dbt import read_incremental_state, write_incremental_state
    from orchestration.refresh import run_config
    from tests.conftest import SMALL_AS_OF, SMALL_STUDIO, copy_warehouse

    warehouse = tmp_path / "warehouse"
    copy_warehouse(small_warehouse, warehouse)
    layout = WarehouseLayout(warehouse)
    state = read_incremental_state(layout)
    assert state is not None
    write_incremental_state(layout, {**state, "project": "another"})
    results = layout.dbt_target / "run_results.json"
    built = (layout.build_db.stat().st_mtime_ns, results.stat().st_mtime_ns)
    result = materialize(
        studio_assets(),
        selection=AssetSelection.assets(AssetKey.from_user_string("marts/fct_actual_costs")),
        resources=studio_resources(StudioSettings.for_run(SMALL_STUDIO, warehouse, SMALL_AS_OF)),
        run_config=run_config(scoped=True),
        raise_on_error=False,
        instance=DagsterInstance.ephemeral(),
    )
    assert not result.success
    [failure] = result.get_step_failure_events()
    error = failure.event_specific_data.error
    assert error is not None and "must be rebuilt from the lake (another version of the models" in error.message
    assert (layout.build_db.stat().st_mtime_ns, results.stat().st_mtime_ns) == built  # dbt never started
    assert read_incremental_state(layout) == {**state, "project": "another"}  # no attempt recorded
