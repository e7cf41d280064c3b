"""dbt's `lake` sources, written from the landing contract (SPEC §4, §5).

`dbt_project/models/staging/_sources.yml` is generated, never edited by hand: the columns and
types of every source live once, in `orchestration.lib.contract.SOURCES`. After a contract
change, rewrite the file with `python -m orchestration.lib.dbt_sources`; a test fails while the
committed file and the contract disagree.
"""

from __future__ import annotations

from pathlib import Path

from orchestration.lib.config import DBT_PROJECT_DIR
from orchestration.lib.contract import SOURCES, Source

SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "_sources.yml"

_HEADER = """\
# Generated from orchestration/lib/contract.py by `python -m orchestration.lib.dbt_sources`: do not edit.
version: 2

sources:
  - name: lake
    description: >
      Accepted loads, one view per landing source over its immutable Parquet loads in
      warehouse/lake/<source>/load_id=<id>/ (SPEC §5). Another engine reads the same files.
    schema: lake
    tables:
"""

# the columns every load adds to a landing file's own (ingest writes them)
_LOAD_COLUMNS = (
    ("_load_id", "the load this row came from"),
    ("_row_number", "the row's number in its landing file (1 = first data row)"),
)

_LOAD_LEDGER = """\
      - name: load_ledger
        description: one row per accepted load, from the lake's load manifests
"""


def _table(source: Source) -> str:
    lines = [
        f"      - name: {source.name}",
        f"        description: Accepted loads of `{source.name}*` landing files ({source.kind}).",
        "        columns:",
    ]
    for column in source.columns:
        lines += [f"          - name: {column.name}", f"            data_type: {column.type.lower()}"]
    for name, description in _LOAD_COLUMNS:
        lines += [f"          - name: {name}", f"            description: {description}"]
    return "\n".join(lines) + "\n"


def sources_yml() -> str:
    """The text of `_sources.yml`: one table per landing source in contract order, then the load ledger."""
    return _HEADER + "".join(_table(source) for source in SOURCES.values()) + _LOAD_LEDGER


def write_sources_yml(path: Path = SOURCES_YML) -> bool:
    """Rewrite the file from the contract; True when its content changed."""
    text = sources_yml()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


if __name__ == "__main__":
    changed = write_sources_yml()
    print(f"{SOURCES_YML.relative_to(DBT_PROJECT_DIR.parent)} {'rewritten' if changed else 'unchanged'}")
