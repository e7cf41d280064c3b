"""What a refresh materializes (`orchestration.lib.scope`): what a day's new files and as-of date reach, or every
asset whenever the warehouse gives no sure ground to build on."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

from orchestration.lib.config import DBT_PROJECT_DIR, WarehouseLayout
from orchestration.lib.dbt import prepare_manifest
from orchestration.lib.freshness import RunInputs, record_clean_publication, run_inputs
from orchestration.lib.scope import RefreshScope, models_reading, read_manifest, refresh_scope

REFERENCE = ("projects", "accounts", "fx_rates")
PASSED = {"as_of": "2026-10-15"}


def _source_of(file_name: str) -> str | None:
    return next((s for s in ("gl_actuals", "budgets", *REFERENCE) if file_name.startswith(s)), None)


def _published(tmp_path: Path) -> tuple[Path, WarehouseLayout, RunInputs]:
    """A warehouse whose clean publication is of two landing files at 2026-10-15, its build and work files there."""
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "projects.csv").write_text("project_code\nP1\n", encoding="utf-8")
    (landing / "gl_actuals_1.csv").write_text("txn_id\nT1\n", encoding="utf-8")
    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.ensure()
    for database in (layout.published_db, layout.build_db, layout.work_db):
        database.write_bytes(b"tables")
    inputs = run_inputs(landing, layout, "2026-10-15", None)
    record_clean_publication(layout, inputs)
    return landing, layout, inputs


def _scope(layout: WarehouseLayout, inputs: RunInputs, build_state: dict | None = PASSED, **kw: object) -> RefreshScope:
    return refresh_scope(layout, inputs, _source_of, build_state, REFERENCE, **kw)  # type: ignore[arg-type]


def test_a_day_reaches_its_new_files_sources_and_the_as_of_date(tmp_path: Path) -> None:
    landing, layout, _ = _published(tmp_path)
    (landing / "gl_actuals_2.csv").write_text("txn_id\nT2\n", encoding="utf-8")
    (landing / "notes.txt").write_text("no refresh reads me\n", encoding="utf-8")
    day = _scope(layout, run_inputs(landing, layout, "2026-10-16", None))
    assert day == RefreshScope(None, ("gl_actuals",), True)
    assert day.describe() == "what new files of gl_actuals and the new as-of date reach"
    # the same as-of with a changed file (same name, other content) of another source
    (landing / "gl_actuals_2.csv").unlink()
    (landing / "budgets_v2.csv").write_text("project_code\nP1\n", encoding="utf-8")
    (landing / "gl_actuals_1.csv").write_text("txn_id\nT1\nT3\n", encoding="utf-8")
    same_day = _scope(layout, run_inputs(landing, layout, "2026-10-15", None))
    assert same_day == RefreshScope(None, ("budgets", "gl_actuals"), False)
    # the as-of alone
    (landing / "budgets_v2.csv").unlink()
    (landing / "gl_actuals_1.csv").write_text("txn_id\nT1\n", encoding="utf-8")
    assert _scope(layout, run_inputs(landing, layout, "2026-10-17", None)) == RefreshScope(None, (), True)


def test_every_asset_when_the_warehouse_is_no_sure_ground(tmp_path: Path) -> None:
    landing, layout, inputs = _published(tmp_path)
    (landing / "gl_actuals_2.csv").write_text("txn_id\nT2\n", encoding="utf-8")
    day = run_inputs(landing, layout, "2026-10-16", None)
    assert not _scope(layout, day).everything
    cases = {
        "--full-refresh": _scope(layout, day, full_refresh=True),
        "the spark engine builds every model": _scope(layout, day, engine="spark"),
        "another config or another version of the code": _scope(layout, replace(day, code_sha256="0" * 64)),
        "the last dbt build did not pass": _scope(layout, day, {**PASSED, "attempted_as_of": "2026-10-16"}),
        "the build database holds another build than the published warehouse": _scope(
            layout, day, {"as_of": "2026-10-16"}
        ),
        "an earlier as-of date than the last publication's (2026-10-15)": _scope(
            layout, run_inputs(landing, layout, "2026-10-14", None)
        ),
    }
    assert _scope(layout, day, None).everything_because == "the last dbt build did not pass"  # no record at all
    config = tmp_path / "studio.toml"
    config.write_text("base_currency = 'GBP'\n", encoding="utf-8")
    cases["another config or another version of the code"] = _scope(
        layout, run_inputs(landing, layout, "2026-10-16", config)
    )
    for reason, scope in cases.items():
        assert scope.everything_because == reason
        assert scope.describe() == f"every model ({reason})"
    # nothing named changed: only a file no refresh reads
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
    # a work database gone
    layout.work_db.unlink()
    assert _scope(layout, day).everything_because == "no build or work database"
    layout.work_db.write_bytes(b"tables")
    # a publication made since by another tool
    stat = layout.published_db.stat()
    os.utime(layout.published_db, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert _scope(layout, day).everything_because == "the published warehouse is not the last clean publication"
    # no clean publication recorded (the last run had a rejected file)
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
            if any(re.search(rf"source\(\s*'lake'\s*,\s*'{s}'\s*\)", sql) for s in wanted)
            or (as_of and any(re.search(rf"\b{r}\s*\(", sql) for r in readers))
        }

    for sources, as_of in (({"gl_actuals"}, True), ({"gl_actuals"}, False), (set(), True), ({"budgets"}, False)):
        found = {node["name"] for node in models_reading(manifest, sources, as_of)}
        assert found == by_text(sources, as_of), (sources, as_of)
    assert len(by_text({"gl_actuals"}, True)) > 20
    assert models_reading(manifest, set(), False) == []
