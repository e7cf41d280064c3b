"""The vars and environment of the pipeline's dbt commands, and the parse a refresh's waiting dbt makes in advance
(`orchestration/dbt_child.py`). Light: imported by `studio-budget run` before Dagster and dbt are."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from orchestration.lib.config import DBT_PROJECT_DIR, StudioConfig, WarehouseLayout
from orchestration.lib.spark import DBT_TARGETS

PARTIAL_PARSE = "partial_parse.msgpack"  # dbt's saved parse, in a target folder

# The as-of date reaches dbt in the environment, not as a var (macros/as_of.sql): dbt parses the whole project
# again when a var changes (about 4 s here), and the as-of date changes every day; a changed environment variable
# makes it re-parse only the files that read it. The same variable sets the as-of of `dagster dev` (StudioSettings).
AS_OF_ENV = "STUDIO_AS_OF"


def dbt_command_vars(dbt_vars: Mapping[str, object]) -> str:
    """The `--vars` of a dbt command: the run's vars but the as-of date (see AS_OF_ENV)."""
    return json.dumps({k: v for k, v in dbt_vars.items() if k != "as_of"})


# The folder the pipeline's dbt runs in (orchestration/dbt_child.py): the warehouse's `_internal`, where the build and
# work databases are, named relative to it (`pipeline_dbt_vars`).
DBT_WORKDIR_ENV = "STUDIO_DBT_WORKDIR"


def pipeline_dbt_vars(
    config: StudioConfig, as_of: date, layout: WarehouseLayout, build_db: Path | None = None
) -> dict[str, object]:
    """The vars of the pipeline's dbt commands: the studio's settings, and the build database (default: the
    warehouse's; a Spark build's staged one) and the work database, named relative to the warehouse's `_internal`,
    where the pipeline's dbt runs (`dbt_environment`). dbt parses the whole project again when its vars or its
    profile's database path differ from the last parse's (about 5 s here): with the same names in every warehouse,
    a new warehouse keeps the project's parse (`prepare_manifest`), a copied one the parse it was copied with."""
    return {
        **config.as_dbt_vars(as_of),
        "build_db": os.path.relpath(build_db or layout.build_db, layout.internal),
        "work_db": os.path.relpath(layout.work_db, layout.internal),
    }


def default_pipeline_vars() -> dict[str, object]:
    """The vars of a refresh of a studio with the default settings (any warehouse, any as-of)."""
    return pipeline_dbt_vars(StudioConfig(), date.today(), WarehouseLayout(Path("warehouse")))


def parse_in_advance(config: StudioConfig, as_of: date, layout: WarehouseLayout) -> dict[str, object]:
    """The parse a DuckDB refresh's build will need, as the waiting dbt makes it while the run imports Dagster and
    checks its loads (`dbt_child.prepare`): the build's vars and target, in the folder and environment the build's
    dbt will run in (`dbt_environment`, dagster-dbt's target path, `dbt_child.main`). The build uses this parse only
    when its own arguments, folder and environment would give the same one (`dbt_child.Prepared.differences`)."""
    dbt_vars = pipeline_dbt_vars(config, as_of, layout)
    project = str(DBT_PROJECT_DIR)
    return {
        "args": ["parse", "--vars", dbt_command_vars(dbt_vars), "--target", DBT_TARGETS["duckdb"]],
        "cwd": str(layout.internal),
        # a target folder without a parse of its own (a new warehouse) starts from the project's, as dagster-dbt
        # starts the build there (`prepare_manifest` makes it; the default target folder of dagster-dbt's DbtProject)
        "start_from": str(DBT_PROJECT_DIR / "target" / PARTIAL_PARSE),
        "env": {
            AS_OF_ENV: str(dbt_vars["as_of"]),
            DBT_WORKDIR_ENV: str(layout.internal),
            "DBT_PROJECT_DIR": project,
            "DBT_PROFILES_DIR": project,
            "DBT_TARGET_PATH": str(layout.dbt_target),
        },
    }
