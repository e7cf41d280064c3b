"""The dbt docs site of the published warehouse: one self-contained page, `<warehouse>/docs/index.html`.

After a publication, `dbt docs generate --static` runs on the build database the marts were just copied from
(so its catalog holds the published tables and columns), in the build's own target folder with the build's vars:
dbt's partial parse is reused and the compiled SQL of the build is kept (`--no-compile`: nothing is compiled
again). `--static` writes `static_index.html` with the manifest and the catalog inlined, a page that opens from
the file system without a server. It replaces `docs/index.html` with one rename: a reader never sees half a page,
and a failed generate leaves the previous page in place.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from dagster_dbt import DbtCliResource

from orchestration.lib.config import WarehouseLayout

STATIC_PAGE = "static_index.html"


def dbt_docs_args(dbt_vars: Mapping[str, object]) -> list[str]:
    """`dbt docs generate` as the pipeline runs it: one static page, the build's vars, nothing compiled again."""
    return ["docs", "generate", "--static", "--no-compile", "--vars", json.dumps(dict(dbt_vars))]


def publish_dbt_docs(dbt: DbtCliResource, layout: WarehouseLayout, dbt_vars: Mapping[str, object]) -> Path:
    """Generate the docs of the build database and put them in place as `docs/index.html`; return that path.

    Raises when dbt fails (the previous page stays)."""
    generated = layout.dbt_target / STATIC_PAGE
    generated.unlink(missing_ok=True)  # never publish a page an earlier run left
    dbt.cli(dbt_docs_args(dbt_vars), target_path=layout.dbt_target).wait()
    if not generated.is_file():
        raise RuntimeError(f"dbt docs generate wrote no {generated}")
    layout.docs.mkdir(parents=True, exist_ok=True)
    for leftover in layout.docs.glob(".index-*.html"):  # a killed run's draft
        leftover.unlink(missing_ok=True)
    draft = layout.docs / f".index-{os.getpid()}.html"
    shutil.copyfile(generated, draft)
    page = layout.docs / "index.html"
    os.replace(draft, page)
    return page
