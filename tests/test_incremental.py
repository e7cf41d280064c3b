"""Incremental refreshes publish the same figures as a full rebuild from the lake (issue: scale and speed).

The bundled sample, then two daily ledger deliveries (`generate --next-day`: new postings, a reversing entry, a
late posting for an old period), each refreshed incrementally; then the same lake rebuilt with `--full-refresh`.
Every mart of the two publications is compared row by row, to the cent.
"""

from __future__ import annotations

import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import msgpack
import pytest

from orchestration.lib.dbt import AS_OF_ENV, INCREMENTAL_THREADS
from orchestration.sample.scale import generate_next_day
from tests.conftest import CliRun, compiled_test, copy_warehouse, query, run_cli

DAY_ROWS = 200
# two postings of the second day whose own-currency amount × rate passes 10^18 in DECIMAL(18,4) × DECIMAL(18,8)
# units: they once overflowed a data test of the fact, and every later run failed on them
LARGE_POSTINGS = (
    "txn_id,posted_date,project_code,account_code,vendor,description,amount,currency,source_ref\n"
    "GL-LARGE-1,{day},EP-2601,5300,Stage Co,Stage build,98765432109.12,GBP,\n"
    "GL-LARGE-2,{day},EP-2601,5300,Stage Co,Stage credit,-98765432100.00,EUR,\n"
)


def _marts(database: Path) -> dict[str, list[tuple]]:
    tables = [r[0] for r in query(database, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'")]
    return {table: query(database, f'SELECT * FROM marts."{table}" ORDER BY ALL') for table in sorted(tables)}


@pytest.mark.slow
def test_incremental_refreshes_equal_a_full_refresh_mart_by_mart(sample_run: CliRun, tmp_path: Path) -> None:
    landing, incremental, full = tmp_path / "landing", tmp_path / "incremental", tmp_path / "full"
    shutil.copytree(sample_run.landing, landing)
    copy_warehouse(sample_run.warehouse, incremental)
    days = []
    sample_ledger = (landing / "gl_actuals_2026.csv").read_text(encoding="utf-8").splitlines()
    ran = incremental / "_internal" / "dbt_target" / "run" / "studio_budget" / "models"
    for number in range(2):
        if number == 0:
            _as_an_earlier_version_left_it(incremental / "_internal")
        day, written = generate_next_day(landing, DAY_ROWS)
        assert written == DAY_ROWS + 2  # the day's postings, the late posting and the reversal
        files = 1
        if number == 1:  # with the second day, a ledger file of postings in the tens of billions (below)
            (landing / "gl_actuals_large.csv").write_text(LARGE_POSTINGS.format(day=day), encoding="utf-8")
            # and a line of the sample's ledger sent again as it was: the lake holds it twice, the marts once
            (landing / "gl_actuals_resent.csv").write_text("\n".join(sample_ledger[:2]) + "\n", encoding="utf-8")
            written, files = written + 3, 3
        done = run_cli("run", "--landing", str(landing), "--warehouse", str(incremental))
        assert done.returncode == 0, done.stderr
        summary = next(line for line in done.stderr.splitlines() if line.startswith("loaded "))
        assert summary.startswith(f"loaded {written:,} rows from {files} new file{'' if files == 1 else 's'} (")
        new_files = {f"gl_actuals_next_{day:%Y%m%d}.csv"}
        if number == 1:
            new_files |= {"gl_actuals_large.csv", "gl_actuals_resent.csv"}
        assert set(summary.split("(", 1)[1].split(")", 1)[0].split(", ")) == new_files  # the day's files, named
        # every other landing file was loaded before, of whichever source (the day reads only the ledger's)
        landing_files = [p for p in landing.iterdir() if p.suffix in (".csv", ".parquet")]
        assert f"; {len(landing_files) - files:,} already loaded; " in summary and len(landing_files) - files > 20
        dbt_output = (incremental / "_internal" / "dbt_output.log").read_text(encoding="utf-8")
        if number == 0:  # the old layout had no work database: nothing to keep, every model is built
            assert "refreshed every model (no build or work database)" in done.stderr
            assert "model work.staging.stg_budgets" in dbt_output
            # every model, some from the lake: one node at a time, as the profile says
            assert "Concurrency: 1 threads (target='local')" in dbt_output
        else:
            # a scoped day: two nodes at once (INCREMENTAL_THREADS), the marts the same as a rebuild's (below)
            assert f"Concurrency: {INCREMENTAL_THREADS} threads (target='local')" in dbt_output
            # the day reaches the ledger's models and the as-of date's; the budgets' staging is kept as built
            assert "refreshed what new files of gl_actuals and the new as-of date reach" in done.stderr
            assert "model work.staging.stg_gl_actuals" in dbt_output
            assert "model work.staging.stg_budgets" not in dbt_output
            assert "model work.intermediate.int_fx_rates" not in dbt_output
        # the models ran on the day's as-of date (which dbt's parse never reads: below)
        database = incremental / "studio.duckdb"
        assert query(database, "SELECT DISTINCT as_of FROM marts.rpt_studio_budget_vs_actual") == [(day,)]
        # each day appended its lines to the fact rather than rebuilding it, the old layout's first refresh too
        assert "insert into" in (ran / "marts" / "finance" / "fct_actual_costs.sql").read_text(encoding="utf-8")
        days.append(day)
    # the second day also appended its rows to the ledger, and replaced the contributors of only the line-months
    # the fact changed (both built whole on the first, in the new work database)
    assert "insert into" in (ran / "staging" / "stg_gl_actuals.sql").read_text(encoding="utf-8")
    contributors = (ran / "intermediate" / "int_line_month_contributors.sql").read_text(encoding="utf-8")
    assert "delete from" in contributors and "insert into" in contributors
    # the last refresh built the staging and intermediate models in the work database, none in the build's
    assert query(incremental / "_internal" / "build.duckdb", BUILT_BEFORE_MARTS) == [(0,)]
    assert query(incremental / "_internal" / "work.duckdb", BUILT_BEFORE_MARTS)[0][0] > 20
    database = incremental / "studio.duckdb"
    as_of = query(database, "SELECT max(as_of) FROM audit.publications")[0][0]
    assert as_of == days[-1]
    # dbt's parse never read the as-of date (macros/as_of.sql): no parsed file, model or YAML (whose record is
    # nested by key and test), records it, and dbt re-parses the files that record a changed variable, so a new
    # date re-parses nothing (the parse state's own list of variables may keep a name an earlier parse read: dbt
    # re-parses nothing for it)
    parsed = msgpack.unpackb((ran.parents[2] / "partial_parse.msgpack").read_bytes(), strict_map_key=False)
    assert len(parsed["files"]) > 100
    assert [name for name, file in parsed["files"].items() if AS_OF_ENV in repr(file.get("env_vars"))] == []
    resent_id = sample_ledger[1].split(",")[0]
    resent = f"SELECT count(*) FROM marts.fct_actual_costs WHERE source_id = '{resent_id}'"
    assert query(database, resent) == [(1,)]
    reversals = query(
        database, "SELECT count(*), max(amount) FROM marts.fct_actual_costs WHERE source_id LIKE 'REV-%'"
    )[0]
    assert reversals[0] == 2 and reversals[1] < 0
    late = query(
        database,
        "SELECT count(*) FROM marts.fct_actual_costs WHERE description LIKE 'Late posting for %' AND period < ?",
        [days[0].replace(day=1)],
    )[0][0]
    assert late == 2
    # the fact's export: the second day's rows in files of their own, one for the as-of month and one for the late
    # posting's, beside the files it kept; the folder holds the mart's rows exactly
    export = incremental / "exports" / "fct_actual_costs.parquet"
    appended = {p.name.split(".")[0] for p in export.iterdir() if p.name.count(".") == 2 and ".pending." not in p.name}
    assert days[-1].replace(day=1).isoformat() in appended and len(appended) >= 2
    for one, other in (
        ("marts.fct_actual_costs", f"read_parquet('{export}')"),
        (f"read_parquet('{export}')", "marts.fct_actual_costs"),
    ):
        assert query(database, f"SELECT count(*) FROM (FROM {one} EXCEPT ALL FROM {other})") == [(0,)]

    # the large postings, at the GBP and EUR rates of their month in the landing fx rates, rounded to the cent
    # half away from zero: their products pass what DECIMAL(18,4) × DECIMAL(18,8) holds, and every test on them ran
    month = days[-1].strftime("%Y-%m")
    rates = {}
    for line in (landing / "fx_rates.csv").read_text(encoding="utf-8").splitlines()[1:]:
        currency, period, rate = line.split(",")
        if period <= month and period >= rates.get(currency, ("", 0))[0]:
            rates[currency] = (period, Decimal(rate))
    expected = [
        (txn, (Decimal(amount) * rates[currency][1]).quantize(Decimal("0.01"), ROUND_HALF_UP))
        for txn, amount, currency in (("GL-LARGE-1", "98765432109.12", "GBP"), ("GL-LARGE-2", "-98765432100.00", "EUR"))
    ]
    assert expected[0][1] > 10**11 and expected[1][1] < -(10**11)
    large = "SELECT source_id, amount_base FROM marts.fct_actual_costs WHERE source_id LIKE 'GL-LARGE-%' ORDER BY 1"
    assert query(database, large) == expected

    _grain_test_checks_new_rows_against_the_whole_fact(incremental, tmp_path / "build.duckdb")

    copy_warehouse(incremental, full)
    rebuilt = run_cli("run", "--landing", str(landing), "--warehouse", str(full), "--full-refresh")
    assert rebuilt.returncode == 0, rebuilt.stderr
    # every model from the lake: one node at a time, as the profile says
    assert "Concurrency: 1 threads (target='local')" in (full / "_internal" / "dbt_output.log").read_text("utf-8")
    assert "loaded 0 rows from 0 new files;" in rebuilt.stderr
    # the line sent twice, rebuilt from both its loads: kept once, from its first load, as the day kept it
    first_load = f"SELECT load_id FROM marts.fct_actual_costs WHERE source_id = '{resent_id}'"
    kept = query(full / "studio.duckdb", first_load)
    assert len(kept) == 1 and kept == query(database, first_load)
    incremental_marts, full_marts = _marts(database), _marts(full / "studio.duckdb")
    assert incremental_marts.keys() == full_marts.keys() and len(full_marts) > 20
    for table, rows in full_marts.items():
        assert incremental_marts[table] == rows, table
        # the exports kept from an earlier publication are not stale: each holds its mart's rows
        exported = query(database, f"SELECT count(*) FROM read_parquet('{incremental}/exports/{table}.parquet')")
        assert exported[0][0] == len(rows), table
    # the commentary's contributors, incremental by line-month, hold what a build from scratch holds (but for when
    # each row was made); the mart above shows only the line-months that need attention
    contributors = (
        "SELECT * EXCLUDE (posted_through_load_id, posted_through_date) "
        "FROM intermediate.int_line_month_contributors ORDER BY ALL"
    )
    kept = query(incremental / "_internal" / "work.duckdb", contributors)
    assert len(kept) > 100 and kept == query(full / "_internal" / "work.duckdb", contributors)


def test_only_a_build_of_the_ledgers_models_moves_what_their_tests_take_as_tested(tmp_path: Path) -> None:
    """The next build's tests of the models that grow with the ledger read the rows after the load and as-of date
    of the last build that built and tested all three (lake.last_build); a build of other models only (a Dagster
    UI selection, a day without ledger files) keeps those marks, since a ledger load it saw may not be in them
    yet. With no marks recorded, lake.last_build has no row and the tests read every row."""
    from orchestration.lib.config import WarehouseLayout
    from orchestration.lib.dbt import TESTED_ON_NEW_ROWS, tested_marks
    from orchestration.lib.lake import prepare_build_database

    inputs = {"latest_load": "L3", "as_of": "2026-10-17"}
    previous = {"latest_load": "L2", "as_of": "2026-10-16", "tested_load": "L1", "tested_as_of": "2026-10-15"}
    assert tested_marks(inputs, previous, [*TESTED_ON_NEW_ROWS, "mart_x"]) == {
        "tested_load": "L3",
        "tested_as_of": "2026-10-17",
    }
    assert tested_marks(inputs, previous, ["stg_gl_actuals", "mart_x"]) == {
        "tested_load": "L1",
        "tested_as_of": "2026-10-15",
    }
    assert tested_marks(inputs, {"latest_load": "L2", "as_of": "2026-10-16"}, ["mart_x"]) == {}
    assert tested_marks(inputs, None, []) == {}
    layout = WarehouseLayout(tmp_path / "warehouse")
    for state, rows in (({"latest_load": "L2", "as_of": "2026-10-16"}, []), (previous, [("L1", "2026-10-15")])):
        prepare_build_database(layout, state)
        with duckdb.connect(str(layout.build_db), read_only=True) as con:
            assert (
                con.execute("SELECT tested_load_id, CAST(tested_as_of AS VARCHAR) FROM lake.last_build").fetchall()
                == rows
            )


def test_what_makes_the_incremental_models_rebuild(tmp_path: Path) -> None:
    from orchestration.lib.config import DBT_PROJECT_DIR, WarehouseLayout
    from orchestration.lib.dbt import incremental_inputs, incremental_rebuild_reasons, project_fingerprint

    layout = WarehouseLayout(tmp_path / "warehouse")
    settings = {"as_of": "2026-10-15", "base_currency": "USD", "build_db": "b.duckdb"}
    last = incremental_inputs(layout, settings)
    assert incremental_rebuild_reasons(None, last) == ["no record of the last build"]
    assert incremental_rebuild_reasons(last, incremental_inputs(layout, settings)) == []
    next_day = incremental_inputs(layout, {**settings, "as_of": "2026-10-16", "build_db": "other.duckdb"})
    assert incremental_rebuild_reasons(last, next_day) == []  # a later day and another path: only what is new
    earlier = incremental_inputs(layout, {**settings, "as_of": "2026-10-14"})
    earlier_reason = "an earlier as-of than a build since the last full one (2026-10-15)"
    assert incremental_rebuild_reasons(last, earlier) == [earlier_reason]
    other_base = incremental_inputs(layout, {**settings, "base_currency": "GBP"})
    assert incremental_rebuild_reasons(last, other_base) == ["other settings (base currency, fiscal year, ...)"]
    # a new load of fx rates: a manifest in the lake's fx_rates folder
    manifest = layout.lake / "fx_rates" / "load_id=20261016T000000-abc" / "_load.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text('{"load_id": "20261016T000000-abc"}', encoding="utf-8")
    assert incremental_rebuild_reasons(last, incremental_inputs(layout, settings)) == [
        "new projects, accounts or fx rates"
    ]
    # a new ledger load is what incremental models are for: no rebuild
    ledger = layout.lake / "gl_actuals" / "load_id=20261016T000001-def" / "_load.json"
    ledger.parent.mkdir(parents=True)
    ledger.write_text('{"load_id": "20261016T000001-def"}', encoding="utf-8")
    now = incremental_inputs(layout, settings)
    assert incremental_rebuild_reasons(now, incremental_inputs(layout, settings)) == []
    # another version of the models: a copy of the dbt project with one model changed
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    assert project_fingerprint(project) == now["project"]
    model = project / "models" / "intermediate" / "int_line_month_contributors.sql"
    model.write_text(model.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    upgraded = {**now, "project": project_fingerprint(project)}
    assert incremental_rebuild_reasons(now, upgraded) == [
        "another version of the models (an incremental model's rows may be made differently)"
    ]
    assert incremental_rebuild_reasons({k: v for k, v in now.items() if k != "project"}, now) == [
        "another version of the models (an incremental model's rows may be made differently)"
    ]  # a record from before the project was fingerprinted


def test_a_failed_build_is_remembered_before_it_starts(tmp_path: Path) -> None:
    """A build that fails may have appended lines up to its as-of: a later run at an earlier as-of rebuilds in
    full. A full build that fails leaves no record: the next run builds in full again."""
    from orchestration.lib.config import WarehouseLayout
    from orchestration.lib.dbt import (
        incremental_inputs,
        incremental_rebuild_reasons,
        read_incremental_state,
        record_build_attempt,
        write_incremental_state,
    )

    layout = WarehouseLayout(tmp_path / "warehouse")
    settings = {"as_of": "2026-10-15", "base_currency": "USD"}
    passed = incremental_inputs(layout, settings)
    write_incremental_state(layout, passed)
    # a run at the 17th starts (and fails: nothing is written after it)
    record_build_attempt(layout, passed, incremental_inputs(layout, {**settings, "as_of": "2026-10-17"}), False)
    state = read_incremental_state(layout)
    assert state == {**passed, "attempted_as_of": "2026-10-17"}  # the passed build's record, and the attempt
    # the 16th: before what the failed run may have appended, so in full; the 17th or later: incremental
    day_16 = incremental_inputs(layout, {**settings, "as_of": "2026-10-16"})
    assert incremental_rebuild_reasons(state, day_16) == [
        "an earlier as-of than a build since the last full one (2026-10-17)"
    ]
    assert incremental_rebuild_reasons(state, incremental_inputs(layout, {**settings, "as_of": "2026-10-17"})) == []
    # a full build starts: no record until it passes
    record_build_attempt(layout, state, day_16, True)
    assert read_incremental_state(layout) is None
    assert incremental_rebuild_reasons(None, day_16) == ["no record of the last build"]


BUILT_BEFORE_MARTS = (
    "SELECT count(*) FROM (SELECT schema_name FROM duckdb_tables() UNION ALL SELECT schema_name FROM duckdb_views() "
    "WHERE NOT internal) WHERE schema_name IN ('staging', 'intermediate')"
)


def _as_an_earlier_version_left_it(internal: Path) -> None:
    """A warehouse of the version that built the staging and intermediate models in the build database: the
    ledger's staging table there, no work database. The next refresh drops them there and builds them in the work
    database, the ledger's from the lake, while the fact stays incremental: the marts must still equal a full
    refresh's."""
    with duckdb.connect(str(internal / "build.duckdb")) as con:
        con.execute(f"ATTACH '{internal / 'work.duckdb'}' AS work (READ_ONLY)")
        con.execute("CREATE SCHEMA staging")
        con.execute("CREATE TABLE staging.stg_gl_actuals AS FROM work.staging.stg_gl_actuals")
    (internal / "work.duckdb").unlink()


def _grain_test_checks_new_rows_against_the_whole_fact(warehouse: Path, build: Path) -> None:
    """The fact's grain test of an incremental build groups only the keys of rows added since the last tested
    build (lake.last_build), each against the whole fact: a new line, an accrued record (replaced whole each
    refresh) or an older line the as-of date reached, repeating a key already there, is reported with its count."""
    assert "semi join new_keys" in compiled_test(warehouse, "unique_combination_of_columns_stg_gl_actuals_txn_id")
    sql = compiled_test(warehouse, "unique_combination_of_columns_fct_actual_costs_cost_id")
    assert "semi join new_keys" in sql  # the incremental form
    shutil.copy(warehouse / "_internal" / "build.duckdb", build)  # attached as `build`, as the SQL names it
    with duckdb.connect(str(build)) as con:
        assert con.execute(sql).fetchall() == []  # the built fact passes
        tested_load, tested_as_of = con.execute("SELECT * FROM lake.last_build").fetchone()
        # the last tested build's load and date, written into the SQL as constants (macro rows_to_test)
        assert f"load_id > '{tested_load}'" in sql and f"cost_date > date '{tested_as_of}'" in sql
        old = "SELECT * FROM marts.fct_actual_costs WHERE status = 'posted' AND load_id <= ? ORDER BY cost_id"
        keys = [r[0] for r in con.execute(old.replace("*", "cost_id") + " LIMIT 3", [tested_load]).fetchall()]
        # three lines already tested, each copied once as a row the last build did not have (by hand: 2 each)
        copy = f"INSERT INTO marts.fct_actual_costs SELECT * REPLACE ({{}}) FROM ({old}) WHERE cost_id = ?"
        for key, change in zip(
            keys,
            (
                "'zz-a-later-load' AS load_id",
                "'accrued' AS status",
                # in the month of its new date, so that it breaks no other rule of the fact's
                f"DATE '{tested_as_of}' + 1 AS cost_date, date_trunc('month', DATE '{tested_as_of}' + 1) AS period",
            ),
            strict=True,
        ):
            con.execute(copy.format(change), [tested_load, key])
        assert sorted(con.execute(sql).fetchall()) == [(key, 2) for key in sorted(keys)]
        # a row-level rule reads the same new rows only: of two lines whose amount_base is off by a cent, the one
        # of a new load is counted, the one of a tested load is not (it passed when that build was tested)
        rule = compiled_test(warehouse, "row_rules_fct_actual_costs")
        assert f"load_id > '{tested_load}'" in rule
        wrong = "'{}' AS cost_id, {} AS load_id, amount_base + 0.01 AS amount_base"
        for cost_id, load in (("gl:OFF-NEW", "'zz-a-later-load'"), ("gl:OFF-OLD", "load_id")):
            con.execute(copy.format(wrong.format(cost_id, load)), [tested_load, keys[0]])
        assert con.execute(rule).fetchall() == [
            (
                "expression: abs(amount_base - cast(amount as decimal(38, 10)) * cast(fx_rate as decimal(38, 10))) "
                "<= 0.005",
                1,
            )
        ]
