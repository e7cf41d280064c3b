"""Writing the landing files (CSV, typed Parquet) and the `python -m orchestration.sample` entry point."""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

import duckdb

from orchestration.lib.contract import DATE, MONEY, SOURCES, Source, source_for_file
from orchestration.lib.sql import literal
from orchestration.sample.money import AS_OF
from orchestration.sample.studio import tables

DEFAULT_OUT_DIR = Path(__file__).resolve().parents[2] / "seeds" / "sample_studio"
PARQUET_TYPES = {DATE: "DATE", MONEY: "DECIMAL(18,2)"}  # everything else lands as VARCHAR


def _write_csv(path: Path, source: Source, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(source.column_names)
        for row in rows:
            writer.writerow([row[name] for name in source.column_names])


def _write_parquet(path: Path, source: Source, rows: list[dict[str, str]]) -> None:
    """Typed Parquet (dates DATE, amounts DECIMAL(18,2), text VARCHAR) written by DuckDB."""
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "rows.csv"
        _write_csv(staged, source, rows)
        columns = ", ".join(
            f"CAST({c.name} AS {PARQUET_TYPES.get(c.type, 'VARCHAR')}) AS {c.name}" for c in source.columns
        )
        con = duckdb.connect()
        try:
            con.execute("SET threads TO 1")
            con.execute(
                f"COPY (SELECT {columns} FROM read_csv('{literal(staged)}', header = true, all_varchar = true, "
                f"delim = ',', quote = '\"', escape = '\"')) TO '{literal(path)}' (FORMAT parquet)"
            )
        finally:
            con.close()


def _clean(out_dir: Path) -> None:
    """Remove landing files (and AS_OF) a previous run left, so no stale load survives."""
    for path in sorted(out_dir.iterdir()):
        if path.is_file() and (path.name == "AS_OF" or source_for_file(path.name) is not None):
            path.unlink()


def new_studio_folder_problem(out: Path) -> str | None:
    """Why `generate` may not write a whole studio into `out`, or None: it writes into a new or empty folder only,
    so that it never replaces a landing folder's own files (a studio's ledgers, a file waiting to be loaded)."""
    if out.exists() and not out.is_dir():
        return f"{out} is a file, not a folder"
    held = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if held:
        shown = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
        return (
            f"{out} is not empty ({shown}): generate writes a whole studio into a new or empty folder, "
            "never over files already there; give another folder, or remove this one first"
        )
    return None


def generate(out_dir: Path, seed: int = 7) -> dict[str, int]:
    """Write the sample studio's landing files to out_dir; returns rows written per file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clean(out_dir)
    counts: dict[str, int] = {}
    for file_name, (source_name, rows) in tables(seed).items():
        writer = _write_parquet if file_name.endswith(".parquet") else _write_csv
        writer(out_dir / file_name, SOURCES[source_name], rows)
        counts[file_name] = len(rows)
    (out_dir / "AS_OF").write_text(AS_OF.isoformat() + "\n", encoding="utf-8")
    return counts


def main(argv: list[str] | None = None) -> int:
    """`python -m orchestration.sample [OUT_DIR]`: generate into OUT_DIR (default seeds/sample_studio/)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or any(a.startswith("-") for a in args):
        print("usage: python -m orchestration.sample [OUT_DIR]", file=sys.stderr)
        return 2
    out_dir = Path(args[0]) if args else DEFAULT_OUT_DIR
    refusal = new_studio_folder_problem(out_dir) if args else None  # the bundled sample is rewritten in place
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    counts = generate(out_dir)
    for file_name, rows in counts.items():
        print(f"{file_name:34} {rows:6d} rows")
    print(f"wrote {len(counts)} landing files and AS_OF ({AS_OF.isoformat()}) to {out_dir}")
    return 0
