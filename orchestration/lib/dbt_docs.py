"""The dbt docs site of the published warehouse: one self-contained page, `<warehouse>/docs/index.html`.

After a publication, `dbt docs generate --static` runs on the build database the marts were just copied from
(so its catalog holds the published tables and columns), in the build's own target folder with the build's vars:
dbt's partial parse is reused and the compiled SQL of the build is kept (`--no-compile`: nothing is compiled
again). `--static` writes `static_index.html` with the manifest and the catalog inlined, a page that opens from
the file system without a server. It replaces `docs/index.html` with one rename: a reader never sees half a page,
and a failed generate leaves the previous page in place.

The page changes only with the project's code (models, descriptions, tests, exposures) and the published tables'
columns: a publication that changes neither (a daily delivery of new ledger lines) keeps the page it has, and
dbt is not started (`docs/.inputs` holds what the page was made from). Its compiled SQL is then that of the
publication that last changed them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import duckdb
from dagster_dbt import DbtCliResource

from orchestration.lib.config import WarehouseLayout
from orchestration.lib.dbt import dbt_environment
from orchestration.lib.dbt_vars import dbt_command_vars
from orchestration.lib.freshness import code_fingerprint, stamp_docs_code
from orchestration.lib.spark import DBT_TARGETS

STATIC_PAGE = "static_index.html"


def dbt_docs_args(dbt_vars: Mapping[str, object]) -> list[str]:
    """`dbt docs generate` as the pipeline runs it: one static page, the build's vars and DuckDB target, nothing
    compiled again. The target is named as the build names it: dbt keeps one partial-parse state per target
    folder and parses the whole project again when an invocation's vars or target differ from the last one's
    (9 s instead of 3.7 s here), so a docs run without it cost this run's docs and the next build a full parse."""
    return [
        "docs", "generate", "--static", "--no-compile", "--target", DBT_TARGETS["duckdb"],
        "--vars", dbt_command_vars(dbt_vars),
    ]  # fmt: skip


def publish_dbt_docs(dbt: DbtCliResource, layout: WarehouseLayout, dbt_vars: Mapping[str, object]) -> Path:
    """Generate the docs of the build database and put them in place as `docs/index.html`; return that path.

    Raises when dbt fails (the previous page stays)."""
    page, code = layout.docs / "index.html", code_fingerprint()
    inputs, stamp = docs_inputs(layout, code), layout.docs / ".inputs"
    if page.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8") == inputs:
        stamp_docs_code(layout, code)
        return page  # neither the code nor the published columns changed: the page is this publication's
    generated = layout.dbt_target / STATIC_PAGE
    generated.unlink(missing_ok=True)  # never publish a page an earlier run left
    with dbt_environment(dbt_vars, layout.internal):
        invocation = dbt.cli(dbt_docs_args(dbt_vars), target_path=layout.dbt_target)
    invocation.wait()
    if not generated.is_file():
        raise RuntimeError(f"dbt docs generate wrote no {generated}")
    layout.docs.mkdir(parents=True, exist_ok=True)
    for leftover in layout.docs.glob(".index-*.html"):  # a killed run's draft
        leftover.unlink(missing_ok=True)
    draft = layout.docs / f".index-{os.getpid()}.html"
    shutil.copyfile(generated, draft)
    os.replace(draft, page)
    stamp.write_text(inputs, encoding="utf-8")
    stamp_docs_code(layout, code)
    return page


def docs_inputs(layout: WarehouseLayout, code: str) -> str:
    """What the docs page is made from: the project's code (`code`: `freshness.code_fingerprint()`) and the published
    tables' columns (one sha256)."""
    with duckdb.connect(str(layout.published_db), read_only=True) as con:
        columns = con.execute(
            "SELECT string_agg(schema_name || '.' || table_name || '.' || column_name || ' ' || data_type, ', ' "
            "ORDER BY schema_name, table_name, column_index) FROM duckdb_columns() "
            "WHERE schema_name IN ('marts', 'reference')"
        ).fetchone()[0]
    return hashlib.sha256(f"{code}\n{columns}".encode()).hexdigest()
