"""`studio-budget generate`: the sample studio at a chosen scale, deterministic by seed, accepted by the gate."""

from __future__ import annotations

import csv
import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from orchestration.cli import main
from orchestration.lib.config import SAMPLE_LANDING_DIR, WarehouseLayout
from orchestration.lib.contract import SOURCES
from orchestration.lib.gate.context import RunContext, referenced_sources
from orchestration.lib.loads import ingest_source
from orchestration.sample.money import AS_OF
from orchestration.sample.scale import generate_scaled, sample_actual_rows
from orchestration.sample.writer import generate

SAMPLE_GL_ROWS = 650 + 1384  # gl_actuals_2025.parquet + gl_actuals_2026.csv of the sample at its seed, 7


def _load_order(name: str, done: list[str]) -> None:
    """Depth first through `referenced_sources`: every source a rule reads is loaded before it."""
    for needed in referenced_sources(SOURCES[name]):
        if needed not in done:
            _load_order(needed, done)
    if name not in done:
        done.append(name)


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated") / "studio"
    counts = generate_scaled(out, SAMPLE_GL_ROWS + 2000, "csv", seed=7)
    assert counts["gl_actuals_generated.csv"] == 2000
    assert sample_actual_rows(counts) == SAMPLE_GL_ROWS + 2000
    return out


def test_same_seed_same_bytes_other_seed_other_bytes(studio: Path, tmp_path: Path) -> None:
    generate_scaled(tmp_path / "again", SAMPLE_GL_ROWS + 2000, "csv", seed=7)
    generate_scaled(tmp_path / "other", SAMPLE_GL_ROWS + 2000, "csv", seed=8)
    for path in sorted(studio.iterdir()):
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes(), path.name
    generated = (studio / "gl_actuals_generated.csv").read_bytes()
    assert (tmp_path / "other" / "gl_actuals_generated.csv").read_bytes() != generated
    assert (studio / "AS_OF").read_text(encoding="utf-8").strip() == AS_OF.isoformat()


def test_generated_ledger_passes_the_gate(studio: Path, tmp_path: Path) -> None:
    order: list[str] = []
    _load_order("gl_actuals", order)
    assert order[-1] == "gl_actuals"
    layout = WarehouseLayout(tmp_path / "warehouse")
    run = RunContext(base_currency="USD", as_of=date.fromisoformat(AS_OF.isoformat()))
    for name in order[:-1]:
        for outcome in ingest_source(SOURCES[name], studio, layout, "test", run):
            assert outcome.status == "accepted", (outcome.file_name, outcome.reasons)
    landing = tmp_path / "landing"  # the generated file alone, without the sample's own ledger files
    landing.mkdir()
    shutil.copy(studio / "gl_actuals_generated.csv", landing)
    [outcome] = ingest_source(SOURCES["gl_actuals"], landing, layout, "test", run)
    assert (outcome.file_name, outcome.status, outcome.rows) == ("gl_actuals_generated.csv", "accepted", 2000), (
        outcome.reasons
    )


def test_parquet_format(tmp_path: Path) -> None:
    counts = generate_scaled(tmp_path, 5000, "parquet", seed=3)
    assert sample_actual_rows(counts) == 5000  # the sample's own ledger varies with the seed; the total does not
    assert not (tmp_path / "gl_actuals_generated.csv").exists()


def test_cli_generate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--actual-rows", str(SAMPLE_GL_ROWS + 5), "--out", str(tmp_path / "s")]) == 0
    assert (tmp_path / "s" / "gl_actuals_generated.csv").exists()
    assert f"{SAMPLE_GL_ROWS + 5:,} actual-cost rows" in capsys.readouterr().out
    # never over a folder's own files: a landing folder with a file waiting to be loaded stays as it was
    landing = tmp_path / "landing"
    landing.mkdir()
    waiting = landing / "gl_actuals_2026_11.csv"
    waiting.write_text("txn_id,posted_date\n", encoding="utf-8")
    assert main(["generate", "--actual-rows", "5000", "--out", str(landing)]) == 2
    assert "is not empty (gl_actuals_2026_11.csv)" in capsys.readouterr().err
    assert sorted(p.name for p in landing.iterdir()) == [waiting.name]
    assert waiting.read_text(encoding="utf-8") == "txn_id,posted_date\n"
    assert main(["generate", "--actual-rows", "5000", "--out", str(waiting)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    for bad in (["--actual-rows", "many"], ["--actual-rows", "0"], ["--actual-rows", "5", "--format", "xlsx"]):
        with pytest.raises(SystemExit) as exit_:
            main(["generate", "--out", str(tmp_path / "x"), *bad])
        assert exit_.value.code == 2


def test_the_sample_generator_writes_over_no_folder_s_own_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`python -m orchestration.sample OUT_DIR` rewrites the bundled sample in place, never another folder's files."""
    from orchestration.sample.writer import main as sample_main

    kept = tmp_path / "gl_actuals_x.csv"
    kept.write_text("keep\n", encoding="utf-8")
    assert sample_main([str(tmp_path)]) == 2
    assert "is not empty (gl_actuals_x.csv)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [kept.name] and kept.read_text(encoding="utf-8") == "keep\n"


PLAN_MONEY = {  # the plan's columns that grow with the ledger, by landing file prefix (README "generate")
    "budgets_": ("amount", "quantity"),
    "budget_transfers": ("amount",),
    "change_orders": ("revenue_amount", "budget_amount"),
    "estimates_to_complete": ("etc_amount",),
    "projects": ("contract_value",),
}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _ledger(folder: Path) -> list[dict[str, str]]:
    """The sample's ledger lines, both files, every value as text."""
    table = pq.read_table(folder / "gl_actuals_2025.parquet").to_pylist()
    return _csv_rows(folder / "gl_actuals_2026.csv") + [
        {k: "" if v is None else str(v) for k, v in row.items()} for row in table
    ]


def test_the_plan_grows_with_the_ledger_and_the_lines_take_their_budget_s_share(studio: Path, tmp_path: Path) -> None:
    """The generated studio's plan is the sample's times the ledger's growth, rounded to a whole number (here 2),
    every other file the sample's own; its generated rows post to budgeted expense lines only, within the project's
    days, each line's share of them its budget's share of the days to AS_OF; and the scaled plan passes the gate."""
    sample = tmp_path / "sample"
    generate(sample, 7)
    kinds = {row["account_code"]: row["account_type"] for row in _csv_rows(sample / "accounts.csv")}
    ledger = _ledger(sample)
    # the generated rows are costs: the plan grows with the cost ledger (2,000 amounts of 2,500.005 on average)
    costs = sum((Decimal(row["amount"]) for row in ledger if kinds[row["account_code"]] == "expense"), Decimal(0))
    factor = round((costs + 2000 * Decimal("2500.005")) / costs)
    assert factor == 2
    # and the revenue with it: each revenue posting of the sample again × (factor − 1), in pieces under a million
    generated = _csv_rows(studio / "gl_actuals_generated.csv")
    pieces: dict[str, list[dict[str, str]]] = {}
    for row in generated:
        if row["txn_id"].startswith("GEN-REV-"):
            pieces.setdefault(row["txn_id"][len("GEN-REV-") : -len("-000000")], []).append(row)
    sample_revenue = {row["txn_id"]: row for row in ledger if kinds[row["account_code"]] == "revenue"}
    assert sample_revenue and set(pieces) == set(sample_revenue)
    for txn_id, parts in pieces.items():
        posting = sample_revenue[txn_id]
        assert sum(Decimal(r["amount"]) for r in parts) == Decimal(posting["amount"]) * (factor - 1), txn_id
        assert all(abs(Decimal(r["amount"])) < 1_000_000 for r in parts), txn_id
        assert {(r["posted_date"], r["project_code"], r["account_code"], r["currency"]) for r in parts} == {
            (posting["posted_date"][:10], posting["project_code"], posting["account_code"], posting["currency"])
        }
    assert len(generated) == 2000  # the costs make up the rest of the rows asked for
    for path in sorted(sample.iterdir()):
        grown = [columns for prefix, columns in PLAN_MONEY.items() if path.name.startswith(prefix)]
        if not grown:
            assert (studio / path.name).read_bytes() == path.read_bytes(), path.name
            continue
        expected = _csv_rows(path)
        for row in expected:
            for column in grown[0]:
                row[column] = str(Decimal(row[column]) * factor) if row[column] else ""
        assert _csv_rows(studio / path.name) == expected, path.name

    projects = {row["project_code"]: row for row in _csv_rows(studio / "projects.csv")}
    budgets: dict[tuple[str, str], Decimal] = {}
    for path in studio.glob("budgets_*.csv"):
        for row in _csv_rows(path):
            key = (row["project_code"], row["account_code"])
            budgets[key] = budgets.get(key, Decimal(0)) + Decimal(row["amount"])
    expense = {row["account_code"] for row in _csv_rows(studio / "accounts.csv") if row["account_type"] == "expense"}
    weights = {}
    for (project, account), budget in budgets.items():
        start, end = (date.fromisoformat(projects[project][k]) for k in ("start_date", "end_date"))
        if projects[project]["status"] != "bidding" and start <= AS_OF and budget > 0 and account in expense:
            elapsed = (min(end, AS_OF) - start).days + 1
            weights[(project, account)] = float(budget) * elapsed / ((end - start).days + 1)
    rows = [row for row in generated if not row["txn_id"].startswith("GEN-REV-")]
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["project_code"], row["account_code"])
        assert key in weights, f"{key} has no budget to date"
        project = projects[row["project_code"]]
        assert project["start_date"] <= row["posted_date"] <= min(project["end_date"], AS_OF.isoformat()), row
        counts[key] = counts.get(key, 0) + 1
    total = sum(weights.values())
    for key, weight in weights.items():
        expected_rows = len(rows) * weight / total
        spread = 5 * (expected_rows * (1 - weight / total)) ** 0.5 + 1  # five standard deviations, and a slot
        assert abs(counts.get(key, 0) - expected_rows) <= spread, (key, counts.get(key, 0), expected_rows)

    order: list[str] = []
    for name in ("budgets", "budget_transfers", "change_orders", "estimates_to_complete"):
        _load_order(name, order)
    layout = WarehouseLayout(tmp_path / "warehouse")
    run = RunContext(base_currency="USD", as_of=AS_OF)
    for name in order:
        for outcome in ingest_source(SOURCES[name], studio, layout, "test", run):
            assert outcome.status == "accepted", (outcome.file_name, outcome.reasons)


def test_a_next_day_after_the_studios_last_project_is_refused_with_a_reason(
    studio: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "studio"
    shutil.copytree(studio, out)
    with (out / "projects.csv").open(encoding="utf-8", newline="") as file:
        last = max(date.fromisoformat(p["end_date"]) for p in csv.DictReader(file) if p["status"] != "bidding")
    (out / "AS_OF").write_text(f"{last.isoformat()}\n", encoding="utf-8")  # the next day is after every project
    before = sorted(p.name for p in out.iterdir())
    assert main(["generate", "--next-day", "--out", str(out)]) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert f"no project of the studio in {out} runs through {last + timedelta(days=1)}" in said
    assert f"its last one ends on {last}" in said and "generate a new studio" in said
    assert sorted(p.name for p in out.iterdir()) == before  # no file written, AS_OF left as it was
    assert (out / "AS_OF").read_text(encoding="utf-8") == f"{last.isoformat()}\n"


def test_a_next_day_into_the_bundled_sample_itself_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    before = {p.name: p.read_bytes() for p in SAMPLE_LANDING_DIR.iterdir() if p.is_file()}
    # the folder as a user may name it: relative to the repository, with a detour
    named = SAMPLE_LANDING_DIR.parent / ".." / SAMPLE_LANDING_DIR.parent.name / SAMPLE_LANDING_DIR.name
    assert main(["generate", "--next-day", "--out", str(named)]) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert "is the bundled sample" in said and "generate a studio of your own first" in said
    assert {p.name: p.read_bytes() for p in SAMPLE_LANDING_DIR.iterdir() if p.is_file()} == before


def test_a_next_day_spends_at_the_studio_s_own_pace_by_default(
    studio: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --actual-rows, a day holds the rows an average day of the studio's ledger held (its rows over the
    days from its first posting to AS_OF), not the benchmark's 15,000: a small studio is not swamped."""
    out = tmp_path / "studio"
    shutil.copytree(studio, out)
    rows: list[dict[str, str]] = []
    for path in sorted(out.glob("gl_actuals*")):
        if path.suffix == ".csv":
            rows += _csv_rows(path)
        else:
            rows += [{"posted_date": str(r["posted_date"])} for r in pq.read_table(path).to_pylist()]
    as_of = date.fromisoformat((out / "AS_OF").read_text(encoding="utf-8").strip())
    first = min(date.fromisoformat(r["posted_date"][:10]) for r in rows)
    per_day = round(len(rows) / ((as_of - first).days + 1))
    assert 1 < per_day < 100  # a studio of a few thousand rows over about two years
    assert main(["generate", "--next-day", "--out", str(out)]) == 0
    day = as_of + timedelta(days=1)
    written = _csv_rows(out / f"gl_actuals_next_{day:%Y%m%d}.csv")
    # the day's postings, the late posting and the reversal
    assert len(written) == per_day + 2
    assert sum(r["posted_date"] == day.isoformat() and r["txn_id"].startswith("GEN-") for r in written) == per_day
    assert f"added {per_day + 2:,} ledger rows for {day}" in capsys.readouterr().out
