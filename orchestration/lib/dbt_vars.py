"""The vars and environment of the pipeline's dbt commands, and the parse a refresh's waiting dbt makes in advance
(`orchestration/dbt_child.py`). Light: imported by `studio-budget run` before Dagster and dbt are."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date
from importlib.metadata import version as installed_version
from pathlib import Path

from orchestration.lib.config import DBT_PROJECT_DIR, StudioConfig, WarehouseLayout
from orchestration.lib.spark import DBT_TARGETS

PARTIAL_PARSE = "partial_parse.msgpack"  # dbt's saved parse, in a target folder
PROJECT_TARGET = "target"  # the project's own target folder (dagster-dbt's DbtProject's), where its manifest is
PARSE_STAMP = ".parse_args"  # in it: what the project's parse was made with (`project_parse_needed`)
PARSE_LOCK = ".parse.lock"  # in it: one process makes the project's parse at a time

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
        # the project's own parse first, when it is to be made (a fresh clone, other code): the build's starts from it
        "project": project_parse(),
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


def project_parse_args() -> list[str]:
    """The project's own parse (its manifest, for the Dagster definitions): as a refresh of a studio with the
    default settings parses (vars and target), so that a new warehouse's first refresh starts from it."""
    return ["parse", "--quiet", "--target", DBT_TARGETS["duckdb"], "--vars", dbt_command_vars(default_pipeline_vars())]


def project_parse_made_with(args: list[str]) -> str:
    """What the project's parse is made with, as its stamp records it (the dbt that made it too)."""
    return json.dumps({"args": args, "dbt-core": installed_version("dbt-core")})


def manifest_is_stale(project_dir: Path, manifest: Path) -> bool:
    """True when the manifest is missing or older than any file of the dbt project."""
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    watched = ("models", "macros", "seeds", "tests", "snapshots")
    files = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    files += [p for folder in watched for p in (project_dir / folder).rglob("*") if p.is_file()]
    return any(p.stat().st_mtime > built for p in files)


def parsed_since(target: Path, stamp: Path) -> bool:
    """True when a dbt command wrote its parse into `target` after the stamp of the pipeline's parse was written
    (a dbt run by hand in the project, with other vars or another target): the stamp no longer describes it."""
    if not stamp.is_file():
        return True
    stamped = stamp.stat().st_mtime
    written = [target / name for name in ("manifest.json", PARTIAL_PARSE)]
    return any(p.is_file() and p.stat().st_mtime > stamped for p in written)


def project_parse_needed(project_dir: Path, target: Path, made_with: str) -> bool:
    """Whether the project's parse in `target` is to be made (again): none, made with other arguments or another
    dbt, parsed over since by another command, or older than a file of the project (a fresh clone has none)."""
    stamp = target / PARSE_STAMP
    try:
        stamped = stamp.read_text(encoding="utf-8") if stamp.is_file() else None
    except OSError:
        stamped = None
    manifest = target / "manifest.json"
    return stamped != made_with or parsed_since(target, stamp) or manifest_is_stale(project_dir, manifest)


def project_parse(project_dir: Path = DBT_PROJECT_DIR) -> dict[str, object] | None:
    """The project's parse, for the waiting dbt to make first, when it is to be made (`dbt_child.make_project_parse`):
    its arguments, folder, target folder, stamp and environment, as `lib/dbt.prepare_manifest` has dagster-dbt make
    it; None when the project's parse stands."""
    args = project_parse_args()
    target = project_dir / PROJECT_TARGET
    made_with = project_parse_made_with(args)
    if not project_parse_needed(project_dir, target, made_with):
        return None
    return {
        "args": args,
        "cwd": str(project_dir),
        "target": str(target),
        "made_with": made_with,
        # dagster-dbt's environment for a command (DbtCliResource.cli), which `prepare_manifest` runs the parse with
        "env": {
            "DAGSTER_DBT_CLI": "true",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_TARGET_PATH": PROJECT_TARGET,
            "DBT_LOG_PATH": PROJECT_TARGET,
            "DBT_PROFILES_DIR": str(project_dir),
        },
    }
