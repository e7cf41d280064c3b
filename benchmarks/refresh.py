"""Refresh benchmark: the pipeline against the engine's own limit and against a DataFrame analyst, in one run.

    python benchmarks/refresh.py [--rows 1000000 10000000] [--days 3] [--huge 100000000] [--out benchmarks/RESULTS.md]

For each row count N, on a studio written by `studio-budget generate --actual-rows N --format parquet`:

(a) full pipeline: `studio-budget run` from the landing files to the published warehouse (a new warehouse);
(b) the same work as plain SQL in one DuckDB process: every landing file loaded into a Parquet lake, the gate's
    row rules of the ledger files as plain `count(*)` queries (the gate's own context relations, no Great
    Expectations), then the compiled SQL of every dbt model of run (a), in dependency order, without dbt's
    tests: the engine's limit;
(c) the posted side of the line-item mart in pandas and in polars, as an analyst would otherwise compute it
    (ledger rows deduplicated by txn_id keeping the first file's, up to as-of, converted at each month's rate,
    summed per project × account × month); each result is checked against the published mart to the cent;
(d) next day: `generate --next-day` (15,000 postings, a reversal, a late posting), then `studio-budget run`; as
    many days in a row as --days says, each onto the one before, and the day of the median wall clock is the one
    shown (a single day's run varies by a fifth or more on a shared machine);
(e) nothing new: `studio-budget run` once more;
(f) with --huge, one full pipeline run at that many rows (its time and peak memory).

Each step is its own process, timed by /usr/bin/time (wall clock and peak RSS). Timings are wall clock on a shared
2-core machine: the script prints them and their ratios; it asserts only that (c) agrees with the marts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

DEFAULT_OUT = REPO_ROOT / "benchmarks" / "RESULTS.md"
NEXT_DAY_ROWS = 15_000


# ---------------------------------------------------------------------------------------------------- measuring


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants now (MB), from /proc."""
    pids, total = [pid], 0
    while pids:
        current = pids.pop()
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    pids += [int(child) for child in handle.read().split()]
            with open(f"/proc/{current}/statm", encoding="ascii") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            continue  # the process ended while being read
    return total / 2**20


def timed(command: list[str], scratch: Path, cwd: Path = REPO_ROOT) -> dict:
    """Run a command; its wall time, peak RSS (MB) and exit code. `peak_mb` is /usr/bin/time's: the largest single
    process (the pipeline's own, or the dbt it starts); `tree_peak_mb` is the most the whole process tree held
    at once, sampled from /proc every 0.1 s."""
    report = scratch / f"time-{time.monotonic_ns()}.txt"
    started = time.perf_counter()
    tree_peak = 0.0
    with (scratch / f"out-{time.monotonic_ns()}.txt").open("w+") as out, (
        scratch / f"err-{time.monotonic_ns()}.txt"
    ).open("w+") as err:
        process = subprocess.Popen(
            ["/usr/bin/time", "-f", "%e %M", "-o", str(report), *command], cwd=cwd, stdout=out, stderr=err, text=True
        )
        while process.poll() is None:
            tree_peak = max(tree_peak, _tree_rss_mb(process.pid))
            time.sleep(0.1)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    fields = report.read_text(encoding="utf-8").split()[-2:]
    return {
        "wall_s": wall,
        "peak_mb": int(fields[1]) / 1024,
        "tree_peak_mb": tree_peak,
        "exit_code": process.returncode,
        "stderr": stderr[-3000:],
        "stdout": stdout[-3000:],
    }


def step_seconds(warehouse: Path) -> dict[str, float]:
    """How long each Dagster step of the warehouse's last run took (`_internal/step_seconds.json`)."""
    path = warehouse / "_internal" / "step_seconds.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def where_time_goes(steps: dict[str, float]) -> str:
    """The steps that took 1 s or more, largest first, and the rest together."""
    named = {
        "studio_dbt_models": "dbt",
        "published__studio_duckdb": "publish",
        "docs__dbt_docs": "dbt docs",
        "lake__gl_actuals": "ledger ingest",
        "reports__studio_budget_vs_actual": "reports",
    }
    big = sorted(((v, named.get(k, k)) for k, v in steps.items() if v >= 1), reverse=True)
    rest = sum(v for v in steps.values() if v < 1)
    return ", ".join([f"{name} {v:.1f}" for v, name in big] + [f"other steps {rest:.1f}"])


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "orchestration.cli", *args]


def worker(kind: str, spec: dict, scratch: Path) -> dict:
    """One of this script's workers in its own process; its result as JSON."""
    spec_file = scratch / f"spec-{kind}-{time.monotonic_ns()}.json"
    result_file = spec_file.with_suffix(".result.json")
    spec_file.write_text(json.dumps({**spec, "result": str(result_file)}), encoding="utf-8")
    run = timed([sys.executable, str(Path(__file__).resolve()), "--worker", kind, str(spec_file)], scratch)
    if run["exit_code"] != 0:
        raise SystemExit(f"worker {kind} failed:\n{run['stderr']}")
    return {**run, **json.loads(result_file.read_text(encoding="utf-8"))}


# ------------------------------------------------------------------------------------------ (b) plain DuckDB SQL


def worker_plain_sql(spec: dict) -> dict:
    """Load, the ledger's gate rules and every model's compiled SQL, in this one process."""
    import duckdb

    from benchmarks.validation import plain_sql_plan
    from orchestration.lib.config import WarehouseLayout
    from orchestration.lib.contract import SOURCES, source_for_file
    from orchestration.lib.gate.context import RunContext, prepare_context
    from orchestration.lib.gate.landed import read_landed
    from orchestration.lib.lake import lake_select, ledger_select, typed_select
    from orchestration.lib.sql import literal

    landing, work = Path(spec["landing"]), Path(spec["work"])
    layout = WarehouseLayout(work)
    layout.ensure()
    as_of = datetime.fromisoformat(spec["as_of"]).date()
    timings: dict[str, float] = {}

    started = time.perf_counter()
    files = sorted((p for p in landing.iterdir() if source_for_file(p.name)), key=lambda p: p.name)
    ledger = [p for p in files if source_for_file(p.name).name == "gl_actuals"]
    con = duckdb.connect(str(work / "build.duckdb"))  # the catalog the compiled SQL names: "build"
    con.execute(f"ATTACH '{literal(work / 'work.duckdb')}' AS work")  # and the staging and intermediate models'
    for number, path in enumerate([p for p in files if p not in ledger] + ledger):
        source = source_for_file(path.name)
        if path.suffix == ".csv":
            read = f"read_csv('{literal(path)}', header = true, all_varchar = true)"
        else:
            read = f"read_parquet('{literal(path)}')"
        present = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {read}").fetchall()]
        folder = layout.lake / source.name / f"load_id={number:06d}"
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT {typed_select(source, present)}, '{number:06d}' AS _load_id, "
            f"row_number() OVER () AS _row_number FROM {read}) TO '{literal(folder / 'data.parquet')}' "
            "(FORMAT parquet)"
        )
        manifest = {"load_id": f"{number:06d}", "source": source.name, "file_name": path.name, "status": "accepted"}
        manifest["loaded_at"] = datetime.now().astimezone().isoformat()
        (folder / "_load.json").write_text(json.dumps(manifest), encoding="utf-8")  # the load ledger's entry
    timings["load"] = time.perf_counter() - started

    started = time.perf_counter()
    plan = plain_sql_plan()
    bad_rows = 0
    for path in ledger:  # the rules that read the loaded context, on each ledger file
        with duckdb.connect() as rules:
            if (problem := read_landed(rules, path, SOURCES["gl_actuals"])) is not None:
                raise SystemExit(problem.message)
            prepare_context(rules, layout, SOURCES["gl_actuals"], RunContext(as_of=as_of))
            for rule in plan["rules"]:
                bad_rows += int(rules.execute(rule["lean_sql"]).fetchone()[0]) if rule["blocking"] else 0
    timings["gate_rules"] = time.perf_counter() - started

    started = time.perf_counter()
    target = Path(spec["dbt_target"])
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    con.execute("CREATE SCHEMA IF NOT EXISTS lake")
    for source in SOURCES.values():
        con.execute(f"CREATE OR REPLACE VIEW lake.{source.name} AS {lake_select(layout, source)}")
    con.execute(f"CREATE OR REPLACE VIEW lake.load_ledger AS {ledger_select(layout)}")
    for node in manifest["nodes"].values():
        if node["resource_type"] == "seed":
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {node['schema']}")
            seed = REPO_ROOT / "dbt_project" / node["original_file_path"]
            con.execute(f"CREATE TABLE {node['relation_name']} AS SELECT * FROM read_csv('{literal(seed)}')")
    models = 0
    for unique_id in _model_order(manifest):
        node = manifest["nodes"][unique_id]
        sql = Path(node["compiled_path"]).read_text(encoding="utf-8")
        kind = "VIEW" if node["config"]["materialized"] == "view" else "TABLE"
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {node['database']}.{node['schema']}")
        con.execute(f"CREATE OR REPLACE {kind} {node['relation_name']} AS {sql}")
        models += 1
    con.execute("CHECKPOINT")
    con.close()
    timings["models"] = time.perf_counter() - started
    return {"timings": timings, "models": models, "blocking_bad_rows": bad_rows}


def _model_order(manifest: dict) -> list[str]:
    """Models in dependency order."""
    models = {u: n for u, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    done: list[str] = []

    def visit(unique_id: str) -> None:
        if unique_id in done or unique_id not in models:
            return
        for parent in models[unique_id]["depends_on"]["nodes"]:
            visit(parent)
        done.append(unique_id)

    for unique_id in sorted(models):
        visit(unique_id)
    return done


# ------------------------------------------------------------------------------------- (c) pandas and polars


def _ledger_files(landing: Path) -> list[Path]:
    from orchestration.lib.contract import source_for_file

    found = [p for p in landing.iterdir() if (s := source_for_file(p.name)) is not None and s.name == "gl_actuals"]
    return sorted(found, key=lambda p: p.name)


AMOUNT_UNITS, RATE_UNITS = 10**4, 10**8  # amounts land with 4 decimals, rates with 8: exact integers in int64
HALF_CENT = AMOUNT_UNITS * RATE_UNITS // 200  # the product's units in half a cent


def worker_pandas(spec: dict) -> dict:
    import numpy as np
    import pandas as pd

    started = time.perf_counter()
    columns = ["txn_id", "posted_date", "project_code", "account_code", "amount", "currency"]
    frames = [
        pd.read_csv(path, usecols=columns, dtype=str)
        if path.suffix == ".csv"
        else pd.read_parquet(path, columns=columns)
        for path in _ledger_files(Path(spec["landing"]))
    ]
    ledger = pd.concat(frames, ignore_index=True).drop_duplicates("txn_id", keep="first")  # the first load's row
    ledger["posted_date"] = pd.to_datetime(ledger["posted_date"])
    ledger = ledger[ledger["posted_date"] <= pd.Timestamp(spec["as_of"])]
    ledger["period"] = ledger["posted_date"].dt.strftime("%Y-%m")
    fx = pd.read_csv(Path(spec["landing"]) / "fx_rates.csv", dtype=str)
    rates = ledger[["currency", "period"]].drop_duplicates().merge(fx, on="currency", how="left")
    rates = rates[rates["period_y"] <= rates["period_x"]].sort_values("period_y")
    rates = rates.groupby(["currency", "period_x"]).tail(1).rename(columns={"period_x": "period"})
    ledger = ledger.merge(rates[["currency", "period", "rate_to_base"]], on=["currency", "period"], how="left")
    base = ledger["currency"] == spec["base_currency"]
    rate = np.where(base, RATE_UNITS, np.rint(pd.to_numeric(ledger["rate_to_base"]) * RATE_UNITS)).astype(np.int64)
    amount = np.rint(pd.to_numeric(ledger["amount"].astype(str)) * AMOUNT_UNITS).astype(np.int64)
    product = amount * rate
    # a half cent rounds away from zero, as the models do
    ledger["cents"] = np.sign(product) * ((np.abs(product) + HALF_CENT) // (2 * HALF_CENT))
    mart = ledger.groupby(["project_code", "account_code", "period"], as_index=False)["cents"].sum()
    wall = time.perf_counter() - started
    result = {(r.project_code, r.account_code, r.period): int(r.cents) for r in mart.itertuples()}
    return {"wall_s_inner": wall, "line_months": len(result), "checksum": _check(spec, result)}


def worker_polars(spec: dict) -> dict:
    import polars as pl

    started = time.perf_counter()
    frames = []
    for path in _ledger_files(Path(spec["landing"])):
        frame = pl.read_csv(path, infer_schema=False) if path.suffix == ".csv" else pl.read_parquet(path)
        frames.append(
            frame.select(
                pl.col("txn_id").cast(pl.String),
                pl.col("posted_date").cast(pl.String).str.to_date("%Y-%m-%d"),
                pl.col("project_code").cast(pl.String),
                pl.col("account_code").cast(pl.String),
                (pl.col("amount").cast(pl.String).cast(pl.Float64) * AMOUNT_UNITS)
                .round(0)
                .cast(pl.Int64)
                .alias("amount"),
                pl.col("currency").cast(pl.String),
            )
        )
    as_of = datetime.fromisoformat(spec["as_of"]).date()
    ledger = (
        pl.concat(frames)
        .unique("txn_id", keep="first", maintain_order=True)
        .filter(pl.col("posted_date") <= as_of)
        .with_columns(pl.col("posted_date").dt.strftime("%Y-%m").alias("period"))
    )
    fx = pl.read_csv(Path(spec["landing"]) / "fx_rates.csv", infer_schema=False)
    rates = (
        ledger.select("currency", "period")
        .unique()
        .join(fx, on="currency", how="left")
        .filter(pl.col("period_right") <= pl.col("period"))
        .sort("period_right")
        .group_by("currency", "period")
        .last()
        .select(
            "currency",
            "period",
            (pl.col("rate_to_base").cast(pl.Float64) * RATE_UNITS).round(0).cast(pl.Int64).alias("rate"),
        )
    )
    product = pl.col("amount") * pl.col("rate")
    mart = (
        ledger.join(rates, on=["currency", "period"], how="left")
        .with_columns(
            pl.when(pl.col("currency") == spec["base_currency"])
            .then(RATE_UNITS)
            .otherwise(pl.col("rate"))
            .alias("rate")
        )
        # a half cent rounds away from zero, as the models do
        .with_columns((product.sign() * ((product.abs() + HALF_CENT) // (2 * HALF_CENT))).alias("cents"))
        .group_by("project_code", "account_code", "period")
        .agg(pl.col("cents").sum())
    )
    wall = time.perf_counter() - started
    result = {(r[0], r[1], r[2]): int(r[3]) for r in mart.iter_rows()}
    return {"wall_s_inner": wall, "line_months": len(result), "checksum": _check(spec, result)}


def _check(spec: dict, result: dict[tuple[str, str, str], int]) -> str:
    """The DataFrame's posted cents per line item × month against the published mart's posted_actual."""
    import duckdb

    with duckdb.connect(spec["published_db"], read_only=True) as con:
        expected = {
            (p, a, m): int(c)
            for p, a, m, c in con.execute(
                "SELECT project_code, account_code, strftime(period, '%Y-%m'), "
                "CAST(sum(amount_base) * 100 AS BIGINT) FROM marts.fct_actual_costs WHERE source = 'gl' "
                "GROUP BY ALL"
            ).fetchall()
        }
    nonzero = {k: v for k, v in result.items() if v != 0 or k in expected}
    if nonzero != expected:
        differing = sorted(k for k in set(nonzero) | set(expected) if nonzero.get(k) != expected.get(k))[:5]
        raise SystemExit(f"the DataFrame result differs from the mart at {differing}")
    return f"{len(expected)} line-months equal to the mart, {sum(expected.values()) / 100:,.2f} posted"


# ------------------------------------------------------------------------------------------------------ the run


def measure(rows: int, scratch: Path, seed: int, log, days: int = 1) -> dict:
    from orchestration.sample.scale import generate_next_day, generate_scaled

    studio, warehouse = scratch / f"studio-{rows}", scratch / f"warehouse-{rows}"
    generate_scaled(studio, rows, "parquet", seed)
    as_of = (studio / "AS_OF").read_text(encoding="utf-8").strip()
    log(f"{rows:,} rows: (a) full pipeline")
    full = timed(cli("run", "--landing", str(studio), "--warehouse", str(warehouse)), scratch)
    if full["exit_code"] != 0:
        raise SystemExit(f"the full run failed ({full['exit_code']}):\n{full['stderr']}")
    full["steps"] = step_seconds(warehouse)
    log(f"{rows:,} rows: (b) plain SQL")
    spec = {
        "landing": str(studio),
        "work": str(scratch / f"plain-{rows}"),
        "dbt_target": str(warehouse / "_internal" / "dbt_target"),
        "as_of": as_of,
        "base_currency": "USD",
        "published_db": str(warehouse / "studio.duckdb"),
    }
    plain = worker("plain", spec, scratch)
    log(f"{rows:,} rows: (c) pandas, polars")
    pandas = worker("pandas", spec, scratch)
    polars = worker("polars", spec, scratch)
    runs = []
    for number in range(1, days + 1):
        log(f"{rows:,} rows: (d) next day, {number} of {days}")
        generate_next_day(studio, NEXT_DAY_ROWS, "parquet", seed)
        day = timed(cli("run", "--landing", str(studio), "--warehouse", str(warehouse)), scratch)
        if day["exit_code"] != 0:
            raise SystemExit(f"the next-day run failed ({day['exit_code']}):\n{day['stderr']}")
        day["steps"] = step_seconds(warehouse)
        day["dbt_s"] = _dbt_seconds(warehouse)
        runs.append(day)
    next_day = median_run(runs)
    log(f"{rows:,} rows: (e) nothing new")
    nothing = timed(cli("run", "--landing", str(studio), "--warehouse", str(warehouse)), scratch)
    if nothing["exit_code"] != 0 or "nothing new" not in nothing["stderr"]:
        raise SystemExit(f"the nothing-new run did not say so ({nothing['exit_code']}):\n{nothing['stderr']}")
    shutil.rmtree(warehouse, ignore_errors=True)
    shutil.rmtree(scratch / f"plain-{rows}", ignore_errors=True)
    shutil.rmtree(studio, ignore_errors=True)
    return {
        "rows": rows,
        "full": full,
        "plain": plain,
        "pandas": pandas,
        "polars": polars,
        "next_day": next_day,
        "next_day_walls": [day["wall_s"] for day in runs],
        "nothing_new": nothing,
        "next_day_dbt_s": next_day["dbt_s"],
    }


def median_run(runs: list[dict]) -> dict:
    """The run of the median wall clock (of an even count, the lower of the two middle ones): a real run, so that
    its memory, steps and dbt time go with its wall clock."""
    ordered = sorted(runs, key=lambda run: run["wall_s"])
    return ordered[(len(ordered) - 1) // 2]


def _dbt_seconds(warehouse: Path) -> float:
    results = warehouse / "_internal" / "dbt_target" / "run_results.json"
    return float(json.loads(results.read_text(encoding="utf-8"))["elapsed_time"]) if results.exists() else 0.0


def measure_huge(rows: int, scratch: Path, seed: int, log) -> dict:
    from orchestration.sample.scale import generate_scaled

    studio, warehouse = scratch / f"studio-{rows}", scratch / f"warehouse-{rows}"
    generate_scaled(studio, rows, "parquet", seed)
    log(f"{rows:,} rows: (f) full pipeline")
    full = timed(cli("run", "--landing", str(studio), "--warehouse", str(warehouse)), scratch)
    full["steps"] = step_seconds(warehouse)
    shutil.rmtree(warehouse, ignore_errors=True)
    shutil.rmtree(studio, ignore_errors=True)
    return {"rows": rows, "full": full}


def machine() -> dict:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cores": len(os.sched_getaffinity(0)),
        "ram_gib": round(ram, 1),
        "python": platform.python_version(),
        "duckdb": version("duckdb"),
        "dbt-core": version("dbt-core"),
        "dagster": version("dagster"),
        "pandas": version("pandas"),
        "polars": version("polars"),
        "date": datetime.now().astimezone().isoformat(timespec="minutes"),
        "load_average": os.getloadavg(),
    }


def _s(value: float) -> str:
    return f"{value:,.1f} s"


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


def render(results: list[dict], huge: dict | None, info: dict) -> str:
    lines = [
        "# Refresh benchmark",
        "",
        f"`python benchmarks/refresh.py --rows {' '.join(str(r['rows']) for r in results)}"
        + f" --days {len(results[0]['next_day_walls'])}"
        + (f" --huge {huge['rows']}" if huge else "")
        + "`, one run. Machine: "
        + f"{info['cores']} cores, {info['ram_gib']} GiB RAM; Python {info['python']}, DuckDB {info['duckdb']}, "
        f"dbt-core {info['dbt-core']}, Dagster {info['dagster']}, pandas {info['pandas']}, polars {info['polars']}; "
        f"{info['date']}, load average at the start {', '.join(f'{x:.1f}' for x in info['load_average'])}. "
        "Wall clock and peak RSS of each step's process (the pipeline: the whole `studio-budget run`; its peak is "
        "/usr/bin/time's, the largest single process: the pipeline's own or the dbt it starts); (b) is the "
        "time of its DuckDB statements (its process also imports Python code of the gate), and a/b divides by it.",
        "",
        "| rows | (a) full pipeline | (b) plain SQL | a/b | (c) pandas | a/pandas | (c) polars | a/polars "
        "| (d) next day (median) | (e) nothing new |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        a, b = r["full"]["wall_s"], sum(r["plain"]["timings"].values())
        pd_, pl_ = r["pandas"]["wall_s"], r["polars"]["wall_s"]
        lines.append(
            f"| {r['rows']:,} | {_s(a)}, {_mb(r['full']['peak_mb'])} | {_s(b)} ({_s(r['plain']['wall_s'])} with "
            f"Python), {_mb(r['plain']['peak_mb'])} "
            f"| {a / b:.2f} | {_s(pd_)}, {_mb(r['pandas']['peak_mb'])} | {a / pd_:.2f} "
            f"| {_s(pl_)}, {_mb(r['polars']['peak_mb'])} | {a / pl_:.2f} "
            f"| {_s(r['next_day']['wall_s'])}, {_mb(r['next_day']['peak_mb'])} (dbt {_s(r['next_day_dbt_s'])}) "
            f"| {_s(r['nothing_new']['wall_s'])}, {_mb(r['nothing_new']['peak_mb'])} |"
        )
    lines += ["", "Peak memory of the whole process tree at once (the pipeline's process and the dbt it starts):", ""]
    for r in results:
        lines.append(
            f"- {r['rows']:,} rows: (a) {_mb(r['full']['tree_peak_mb'])}, (d) {_mb(r['next_day']['tree_peak_mb'])}"
        )
    lines += ["", "Where the pipeline's time goes (Dagster's step statistics, seconds):", ""]
    for r in results:
        lines.append(f"- {r['rows']:,} rows, (a): {where_time_goes(r['full'].get('steps', {}))}")
        lines.append(f"- {r['rows']:,} rows, (d): {where_time_goes(r['next_day'].get('steps', {}))}")
    if len(results) > 1:
        small, large = results[0], results[-1]
        ratio = large["next_day"]["wall_s"] / small["next_day"]["wall_s"]
        lines += ["", f"Next day at {large['rows']:,} over next day at {small['rows']:,} rows of history: {ratio:.2f}."]
    lines += ["", "(d) each day in a row (wall clock; the median's is in the table):", ""]
    for r in results:
        lines.append(f"- {r['rows']:,} rows: {', '.join(_s(wall) for wall in r['next_day_walls'])}")
    if huge:
        f = huge["full"]
        lines += [
            "",
            f"(f) full pipeline at {huge['rows']:,} rows: {_s(f['wall_s'])}, peak {_mb(f['peak_mb'])} "
            f"(process tree {_mb(f['tree_peak_mb'])}), exit code {f['exit_code']}; "
            f"{where_time_goes(f.get('steps', {}))}.",
        ]
    lines += ["", "(b) in detail (seconds):", ""]
    for r in results:
        t = r["plain"]["timings"]
        lines.append(
            f"- {r['rows']:,} rows: load {t['load']:.1f}, the ledger's gate rules {t['gate_rules']:.1f}, "
            f"{r['plain']['models']} models {t['models']:.1f}"
        )
    lines += ["", "(c) checked against the published mart:", ""]
    for r in results:
        lines.append(f"- {r['rows']:,} rows: pandas {r['pandas']['checksum']}; polars {r['polars']['checksum']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--huge", type=int, default=None, help="also one full pipeline run at this many rows")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=3, help="(d): next-day deliveries in a row, each one run")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--scratch", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, spec_file = args.worker
        spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
        run = {"plain": worker_plain_sql, "pandas": worker_pandas, "polars": worker_polars}[kind]
        Path(spec["result"]).write_text(json.dumps(run(spec)), encoding="utf-8")
        return 0

    def log(message: str) -> None:
        print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)

    info = machine()
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="refresh-benchmark-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        results = [measure(rows, scratch, args.seed, log, args.days) for rows in args.rows]
        huge = measure_huge(args.huge, scratch, args.seed, log) if args.huge else None
    finally:
        if args.scratch is None:
            shutil.rmtree(scratch, ignore_errors=True)
    text = render(results, huge, info)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
