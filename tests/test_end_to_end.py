"""The bundled sample through `studio-budget run`, as a new user runs it (SPEC §3)."""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.config import DBT_PROJECT_DIR
from orchestration.lib.contract import SOURCES
from orchestration.lib.warehouse import PARTITIONED_EXPORTS
from tests.conftest import CliRun, copy_warehouse, query, rows, run_cli
from tests.test_report_command import CATEGORY_NAMES

pytestmark = pytest.mark.slow

# every model of dbt_project/models/marts/ (finance, production, …) is a published mart
MARTS = tuple(sorted(p.stem for p in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")))


def _export_files(warehouse: Path) -> dict[str, int]:
    """Every export file of the marts (the cost fact's by period) by its path in `exports`: its inode."""
    exports = warehouse / "exports"
    found = {}
    for path in exports.glob("*.parquet"):
        for file in path.iterdir() if path.is_dir() else [path]:
            found[str(file.relative_to(exports))] = file.stat().st_ino
    return found


def mart_snapshot(database: Path) -> dict[str, list[tuple]]:
    return {mart: query(database, f"SELECT * FROM marts.{mart} ORDER BY ALL") for mart in MARTS}


def test_sample_run_publishes_every_mart(sample_run: CliRun) -> None:
    assert sample_run.exit_code == 0, sample_run.stderr
    database = sample_run.warehouse / "studio.duckdb"
    # the models and seeds the run says it built: the project's model files and seed files
    models = len(list((DBT_PROJECT_DIR / "models").rglob("*.sql")))
    seeds = len(list((DBT_PROJECT_DIR / "seeds").glob("*.csv")))
    assert f"; {models} models built, {seeds} seeds loaded" in sample_run.stderr
    for mart in MARTS:
        rows = query(database, f"SELECT count(*) FROM marts.{mart}")[0][0]
        assert rows > 0, mart
        # one file per mart; the cost fact a folder of a file per period of its posted rows, and apart a file per
        # period of its accrued rows (a first publication: nothing appended yet)
        export = sample_run.warehouse / "exports" / f"{mart}.parquet"
        if mart in PARTITIONED_EXPORTS:
            column = PARTITIONED_EXPORTS[mart]
            by_period = query(
                database,
                f"SELECT DISTINCT coalesce({column}::VARCHAR, 'null') || CASE WHEN status = 'posted' THEN '' "
                f"ELSE '.pending' END || '.parquet' FROM marts.{mart}",
            )
            assert sorted(p.name for p in export.iterdir()) == sorted(name for (name,) in by_period)
            assert any(".pending." in name for (name,) in by_period)
        else:
            assert export.is_file(), mart
        exported = query(
            database, f"SELECT count(*) FROM read_parquet('{sample_run.warehouse}/exports/{mart}.parquet')"
        )
        assert exported[0][0] == rows, mart
    for table in ("loads", "check_results", "warnings", "publications", "publication_loads", "alert_history"):
        audit = sample_run.warehouse / "exports" / "audit" / f"{table}.parquet"
        published = query(database, f"SELECT count(*) FROM audit.{table}")[0][0]
        assert query(database, f"SELECT count(*) FROM read_parquet('{audit}')")[0][0] == published, table
    loads = query(database, "SELECT count(*), count(DISTINCT source) FROM audit.loads")[0]
    files = [p for p in sample_run.landing.iterdir() if p.suffix in (".csv", ".parquet")]
    assert loads == (len(files), len(SOURCES))
    assert (sample_run.warehouse / "reports" / "studio_budget_vs_actual.txt").is_file()
    # dbt's output is kept in the pipeline's log; dbt wrote no debug log file of its own (orchestration/dbt_child.py)
    assert "Finished running" in (sample_run.warehouse / "_internal" / "dbt_output.log").read_text(encoding="utf-8")
    assert list((sample_run.warehouse / "_internal").rglob("dbt.log*")) == []


FIGURES_LINE = re.compile(
    r"^ (?P<label>.+?)\s+(?P<budget>-?[\d,]+)\s+(?P<actual>-?[\d,]+)\s+(?P<variance>-?[\d,]+)\s+"
    r"(?P<direction>[FU=])(?:\s+(?P<util>-?[\d,]+\.\d%))?(?:\s+(?P<flag>⚠))?$"
)
DIRECTION = {"F": "F", "U": "U", "on_target": "="}


TITLES = (
    "Studio budget vs actual",
    "Revenue",
    "Variances requiring commentary",
    "Budget transfers not applied",
    "Run-rate",
    "Open alerts",
    "⚠ =",
)


def printed_rows(stdout: str, title: str) -> list[dict]:
    """The figure rows of one table of the printed report, in order (up to the next table's title)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(title))
    rows = []
    for line in lines[start + 1 :]:
        if line.strip().startswith(TITLES):
            break
        if found := FIGURES_LINE.match(line.rstrip()):
            rows.append(found.groupdict())
    return rows


def assert_row_printed(printed: dict, row: dict, label: str) -> None:
    """One printed row against its mart row: every figure to the unit (within rounding), direction, flag."""
    assert label.startswith(printed["label"].rstrip("…").strip()), (printed, label)
    for column in ("budget", "actual", "variance"):
        shown = Decimal(printed[column].replace(",", ""))
        assert abs(shown - Decimal(str(row[column]))) <= Decimal("0.5"), (label, column, shown, row[column])
    assert printed["direction"] == DIRECTION[row["direction"]], label
    if row["utilization_pct"] is None:
        assert printed["util"] is None, label
    else:
        assert abs(float(printed["util"].rstrip("%").replace(",", "")) - row["utilization_pct"]) <= 0.05, label
    assert (printed["flag"] == "⚠") == row["needs_attention"], label


def test_printed_report_matches_the_marts_line_by_line(sample_run: CliRun) -> None:
    database = sample_run.warehouse / "studio.duckdb"
    expense = rows(
        database,
        "SELECT * FROM marts.rpt_studio_budget_vs_actual WHERE account_type = 'expense' "
        "ORDER BY row_type = 'studio', department_code, row_order, account_code",
    )
    printed = printed_rows(sample_run.stdout, "Studio budget vs actual")
    assert len(printed) == len(expense)
    for shown, row in zip(printed, expense, strict=True):
        if row["row_type"] == "account":
            label = f"{row['account_code']} {row['account_name']}"
        elif row["row_type"] == "department":
            label = f"Subtotal {row['department_code']}"
        else:
            label = "STUDIO TOTAL (cost)"
        assert_row_printed(shown, row, label)
    revenue = rows(
        database,
        "SELECT * FROM marts.rpt_studio_budget_vs_actual WHERE account_type = 'revenue' "
        "ORDER BY department_code, account_code",
    )
    printed_revenue = printed_rows(sample_run.stdout, "Revenue")
    assert len(printed_revenue) == len(revenue) > 0
    for shown, row in zip(printed_revenue, revenue, strict=True):
        assert_row_printed(shown, row, f"{row['department_code']} {row['account_code']} {row['account_name']}")
    # every ⚠ is a flagged row, a column heading of the two figure tables, or the legend: exactly
    flagged = sum(r["needs_attention"] for r in expense + revenue)
    assert flagged > 0
    assert sample_run.stdout.count("⚠") == flagged + 2 + 1
    assert f"at {sample_run.as_of.isoformat()}" in sample_run.stdout
    # each department's name heads its accounts, its subtotal closes them
    lines = [line.strip() for line in sample_run.stdout.splitlines()]
    for department in (r for r in expense if r["row_type"] == "department"):
        heading = lines.index(f"{department['department_code']} {department['department_name']}"[:34].rstrip())
        subtotal = next(
            i for i, line in enumerate(lines) if line.startswith(f"Subtotal {department['department_code']} ")
        )
        accounts = [
            r for r in expense if r["row_type"] == "account" and r["department_code"] == department["department_code"]
        ]
        assert subtotal - heading == len(accounts) + 1


def test_the_warnings_of_the_files_a_run_loads_are_named_on_stderr(sample_run: CliRun) -> None:
    """Each warning the audit keeps for a file loaded by the run is on stderr, once, after the file's name."""
    kept = query(sample_run.warehouse / "studio.duckdb", "SELECT file_name, message FROM audit.warnings")
    assert kept  # the sample's PO-9001 is invoiced 7.5% above its amount, within the tolerance
    named = [line for line in sample_run.stderr.splitlines() if line.startswith("WARNING ")]
    assert sorted(named) == sorted(f"WARNING {file}: {message}" for file, message in kept)


def test_piped_run_output_carries_no_control_sequences(sample_run: CliRun) -> None:
    """The shared run is piped with FORCE_COLOR=1: no colour code, cursor move or spinner frame reaches the pipe."""
    for output in (sample_run.stdout, sample_run.stderr):
        assert "\x1b" not in output
        assert not set(output) & set("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")


def test_a_run_leaves_nothing_in_the_temporary_folder(sample_run: CliRun) -> None:
    # the command ends without the interpreter's teardown (cli.entry_point): what would have removed a temporary
    # folder then (Dagster's artifact storage among them) must have run before
    assert sample_run.exit_code == 0
    assert sample_run.temp_left == ()


def test_every_material_line_month_has_its_commentary_row(sample_run: CliRun) -> None:
    """SPEC §6: mart_variance_commentary's grain is every material variance, favourable ones too (money not
    spent), each with the owner's latest commentary when the landing file holds one for its line-month."""
    database = sample_run.warehouse / "studio.duckdb"
    material = query(
        database,
        "SELECT period, project_code, account_code, direction, needs_attention FROM marts.mart_line_item_variance "
        "WHERE is_material ORDER BY ALL",
    )
    published = query(
        database,
        "SELECT period, project_code, account_code, direction, needs_attention FROM marts.mart_variance_commentary "
        "ORDER BY ALL",
    )
    assert published == material and {row[3] for row in material} == {"F", "U"}
    # the landing file's commentary on a material favourable line-month, read here from the file itself
    with duckdb.connect() as con:
        written = con.execute(
            "SELECT CAST(period || '-01' AS DATE) AS period, project_code, account_code, explanation, written_at "
            f"FROM read_csv('{sample_run.landing}/variance_commentary.csv', all_varchar = true)"
        ).fetchall()
    favourable = {(p, project, account) for p, project, account, direction, _ in material if direction == "F"}
    latest: dict[tuple, tuple[str, str]] = {}
    for period, project, account, explanation, written_at in written:
        key = (period, project, account)
        if key in favourable and (key not in latest or written_at > latest[key][1]):
            latest[key] = (explanation, written_at)
    assert latest
    shown = query(
        database,
        "SELECT period, project_code, account_code, explanation FROM marts.mart_variance_commentary "
        "WHERE direction = 'F' AND has_commentary",
    )
    assert {(p, project, account): text for p, project, account, text in shown} == {
        key: text for key, (text, _) in latest.items()
    }


def test_printed_commentary_list_is_the_report_model(sample_run: CliRun) -> None:
    database = sample_run.warehouse / "studio.duckdb"
    expected = rows(
        database,
        "SELECT strftime(period, '%Y-%m') AS period, project_code, account_code, variance, total_requiring_commentary "
        "FROM marts.rpt_variances_requiring_commentary ORDER BY attention_rank",
    )
    # an independent count: line-item months of the as-of fiscal year that need attention
    [(total,)] = query(
        database,
        "SELECT count(*) FROM marts.mart_line_item_variance WHERE needs_attention AND fiscal_year_start = "
        "(SELECT max(fiscal_year_start) FROM marts.mart_line_item_variance)",
    )
    assert expected and all(r["total_requiring_commentary"] == total for r in expected)
    assert f"Variances requiring commentary ({total} material and unfavourable" in " ".join(sample_run.stdout.split())
    lines = sample_run.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "Period" in line and "Project" in line and "VAR %" in line)
    listed = [line.split() for line in lines[start + 2 : start + 2 + len(expected)]]
    assert [tuple(r[:3]) for r in listed] == [(e["period"], e["project_code"], e["account_code"]) for e in expected]
    for shown, row in zip(listed, expected, strict=True):
        assert abs(Decimal(shown[5].replace(",", "")) - row["variance"]) <= Decimal("0.5")


def test_second_run_loads_nothing_and_changes_no_figure(sample_run: CliRun, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    copy_warehouse(sample_run.warehouse, warehouse)
    database = warehouse / "studio.duckdb"
    before = mart_snapshot(database)
    outbox = warehouse / "outbox" / "alerts.jsonl"
    delivered = outbox.read_text(encoding="utf-8")
    count = len(delivered.splitlines())
    said = f"{count:,} new alerts delivered to {sample_run.warehouse / 'outbox' / 'alerts.jsonl'}"
    assert count > 1 and said in sample_run.stderr
    episodes = "SELECT alert_key, episode, first_raised_at FROM audit.alert_history ORDER BY 1, 2"
    raised = query(database, episodes)
    exported = _export_files(warehouse)
    # --full-refresh: the same inputs would otherwise end at "nothing new" without publishing (below)
    again = run_cli("run", "--warehouse", str(warehouse), "--full-refresh")
    assert again.returncode == 0, again.stderr
    # dbt started from an earlier parse in both: the first run's, in a new warehouse, from the project's
    # (`prepare_manifest`); this one's, in a copy, from the copied warehouse's. Both builds ran on the parse the
    # waiting dbt made while the run imported Dagster and checked its loads (orchestration/dbt_child.py `prepare`)
    for folder in (sample_run.warehouse, warehouse):
        target = folder / "_internal" / "dbt_target"
        for log in (folder / "_internal" / "dbt_output.log", target / "prepared_parse.log"):
            assert "Running with dbt" in log.read_text(encoding="utf-8")
            assert "Unable to do partial parsing" not in log.read_text(encoding="utf-8")
        record = json.loads((target / "prepared_parse.json").read_text(encoding="utf-8"))
        compiled, templates = record.pop("templates_compiled_ahead")  # lib/dbt_templates.py, as the run let it
        assert 0 <= compiled <= templates
        assert record == {"used": True, "differences": []}
        # the build's results were written by another dbt invocation than the manifest: the build did not parse
        written = [
            json.loads((target / name).read_text(encoding="utf-8")) for name in ("manifest.json", "run_results.json")
        ]
        assert written[0]["metadata"]["invocation_id"] != written[1]["metadata"]["invocation_id"]
    assert re.search(r"loaded 0 rows from 0 new files; \d+ already loaded", again.stderr)
    assert mart_snapshot(database) == before
    publications = query(database, "SELECT count(*) FROM audit.publications")[0][0]
    assert publications == 2
    # no mart changed, so no export was written again: each new file is the previous one (the same inode)
    assert _export_files(warehouse) == exported
    assert {name.split("/")[0] for name in exported} == {f"{mart}.parquet" for mart in MARTS}
    # the same alerts hold: none raised again, none announced again (SPEC §7)
    assert f"no new alerts (outbox: {outbox})" in again.stderr and "new alert delivered" not in again.stderr
    assert outbox.read_text(encoding="utf-8") == delivered
    assert query(database, episodes) == raised


def test_a_run_with_nothing_new_says_so_and_publishes_nothing(sample_run: CliRun, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    copy_warehouse(sample_run.warehouse, warehouse)
    database = warehouse / "studio.duckdb"
    published = database.stat().st_mtime_ns
    dagster_log = (warehouse / "_internal" / "last_run.log").stat().st_mtime_ns
    # the same landing files, and beside them files no refresh reads: named, and not new work
    landing = tmp_path / "landing"
    shutil.copytree(sample_run.landing, landing)
    (landing / "notes.txt").write_text("call the stage about the damage charge\n", encoding="utf-8")
    shutil.copy(landing / "invoices.csv", landing / "Invoices_november.csv")
    (landing / "archive").mkdir()
    again = run_cli("run", "--warehouse", str(warehouse), "--landing", str(landing))
    assert again.returncode == 0, again.stderr
    assert "nothing new" in again.stderr and "is current" in again.stderr
    assert "NOT READ Invoices_november.csv, archive/, notes.txt: no landing source or mapping" in again.stderr
    assert database.stat().st_mtime_ns == published  # not republished
    assert (warehouse / "_internal" / "last_run.log").stat().st_mtime_ns == dagster_log  # no Dagster run
    assert query(database, "SELECT count(*) FROM audit.publications")[0][0] == 1
    assert again.stdout == sample_run.stdout  # the same report, read from the same publication
    # another as-of is new work: it does not end at "nothing new" (a usage error ends it before any refresh)
    other = run_cli("run", "--warehouse", str(warehouse), "--as-of", "not-a-date")
    assert other.returncode == 2 and "nothing new" not in other.stderr


def test_report_command_prints_the_published_report(sample_run: CliRun, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"  # `--write` writes: a copy, since the shared sample is read-only
    copy_warehouse(sample_run.warehouse, warehouse)
    (warehouse / "reports" / "studio_budget_vs_actual.csv").unlink()
    done = run_cli("report", "--warehouse", str(warehouse), "--write")
    assert done.returncode == 0, done.stderr
    assert "STUDIO TOTAL" in done.stdout
    assert (warehouse / "reports" / "studio_budget_vs_actual.csv").is_file()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli("run", "--as-of", "15/10/2026", "--warehouse", str(tmp_path)).returncode == 2
    assert run_cli("run", "--landing", str(tmp_path / "missing"), "--warehouse", str(tmp_path)).returncode == 2
    assert run_cli("report", "--warehouse", str(tmp_path / "none")).returncode == 2
    # a landing folder whose AS_OF file is not a date: named, exit 2, nothing created
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "AS_OF").write_text("15/10/2026\n", encoding="utf-8")
    bad = run_cli("run", "--landing", str(landing), "--warehouse", str(tmp_path / "wh"))
    assert bad.returncode == 2 and "AS_OF says '15/10/2026'" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "wh").exists()


PROJECT_LINE = re.compile(
    r"^ (?P<label>.+?)" + r"".join(rf"\s+(?P<{f}>-?[\d,]+)" for f in ("final_budget", "actual", "committed",
    "total_cost", "etc", "efc", "over_under")) + r"(?:\s+(?P<basis>[a-z_]+))?$"
)  # fmt: skip


def test_project_cost_report_prints_and_writes_the_report_model(sample_run: CliRun, tmp_path: Path) -> None:
    """`studio-budget report --project`: every row of rpt_project_cost_report, every figure, and the CSV."""
    warehouse = tmp_path / "warehouse"
    copy_warehouse(sample_run.warehouse, warehouse)
    done = run_cli("report", "--warehouse", str(warehouse), "--project", "EP-2601")
    assert done.returncode == 0, done.stderr
    expected = rows(
        warehouse / "studio.duckdb", "SELECT * FROM marts.rpt_project_cost_report WHERE project_code = 'EP-2601'"
    )
    printed = [m.groupdict() for line in done.stdout.splitlines() if (m := PROJECT_LINE.match(line.rstrip()))]
    assert len(printed) == len(expected) > 3
    by_label = {}
    for row in expected:
        if row["row_type"] == "line":
            label = f"{row['account_code']} {row['account_name']}"
        else:
            label = f"{CATEGORY_NAMES[row['category']]} total" if row["row_type"] == "category" else "PROJECT TOTAL"
        by_label[label] = row
    for shown in printed:
        [label] = [k for k in by_label if k.startswith(shown["label"].strip().rstrip("…"))]
        row = by_label.pop(label)
        for figure in ("final_budget", "actual", "committed", "total_cost", "etc", "efc", "over_under"):
            assert abs(Decimal(shown[figure].replace(",", "")) - row[figure]) <= Decimal("0.5"), (label, figure)
        assert shown["basis"] == row["etc_basis"]
    assert by_label == {}
    # the project total is the sum of its lines (an independent check of the report model's roll-up)
    lines = [r for r in expected if r["row_type"] == "line"]
    [total] = [r for r in expected if r["row_type"] == "project"]
    assert total["efc"] == sum(r["efc"] for r in lines) and total["over_under"] == total["final_budget"] - total["efc"]
    written = (warehouse / "reports" / "project_EP-2601_cost_report.csv").read_text(encoding="utf-8").splitlines()
    assert len(written) == len(expected) + 1 and written[0].startswith("project_code,row_type,category")
    unknown = run_cli("report", "--warehouse", str(warehouse), "--project", "NOPE")
    assert unknown.returncode == 2 and "no project 'NOPE'" in unknown.stderr


def test_printed_transfers_section_is_the_report_model(sample_run: CliRun) -> None:
    """Pending first, then invalid with the reasons; the valid TR-008 moves a budget and is not listed."""
    expected = rows(
        sample_run.warehouse / "studio.duckdb",
        "SELECT transfer_id, status, invalid_reasons FROM marts.rpt_budget_transfers ORDER BY report_order",
    )
    assert [(r["transfer_id"], r["status"]) for r in expected] == [("TR-007", "pending")] + [
        (f"TR-00{n}", "invalid") for n in (6, 5, 4, 3, 2, 1)
    ]
    flat = " ".join(sample_run.stdout.split())
    assert "Budget transfers not applied (1 pending, 6 invalid)" in flat
    lines = sample_run.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Budget transfers not applied"))
    listed = [line.split()[0] for line in lines[start + 1 :] if line.strip().startswith("TR-")]
    assert listed == [r["transfer_id"] for r in expected]
    assert "TR-008" not in sample_run.stdout
    section = " ".join(" ".join(lines[start:]).split())
    assert "into a line already over budget" in section and "out of a line under 80% utilised" in section


def test_transfer_reasons_write_amounts_as_the_report_does(sample_run: CliRun) -> None:
    """A transfer into a line already over budget names the line's actual and budget with thousands separators and
    two decimals (18,500.00), in the mart and in the printed report; the figures are the mart's own columns."""
    over = rows(
        sample_run.warehouse / "studio.duckdb",
        "SELECT transfer_id, to_actual_at_request, to_budget_at_request, invalid_reasons "
        "FROM marts.mart_budget_transfers WHERE NOT passes_to_line_within_budget ORDER BY transfer_id",
    )
    # the sample's receiving lines over budget hold thousands (TR-007's actual 18,500.00 against no budget)
    assert len(over) > 1 and all(r["to_actual_at_request"] >= 1000 for r in over)
    lines = sample_run.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Budget transfers not applied"))
    section = " ".join(" ".join(lines[start:]).split())
    for row in over:
        said = (
            f"into a line already over budget (actual {row['to_actual_at_request']:,.2f} "
            f"> budget {row['to_budget_at_request']:,.2f})"
        )
        assert said in row["invalid_reasons"], row
        assert said in section, row["transfer_id"]
