"""The dbt project as the pipeline runs it: where it is, its manifest, how its models are keyed in Dagster,
and the arguments of one build. Pure functions, tested without running dbt."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject
from packaging.version import Version

from orchestration import PYSPARK_PANDAS_WARNING
from orchestration.lib.config import DBT_PROJECT_DIR, WarehouseLayout
from orchestration.lib.dbt_vars import (
    AS_OF_ENV,
    DBT_WORKDIR_ENV,
    PARSE_LOCK,
    PARSE_STAMP,
    dbt_command_vars,
    project_parse_args,
    project_parse_made_with,
    project_parse_needed,
)
from orchestration.lib.lake import accepted_manifests
from orchestration.lib.spark import SPARK_LOCATION_VARS, spark_dir

# dbt unit tests check formulas on hand-made rows: the test suite runs them, a refresh does not
BUILD_EXCLUDES = ("test_type:unit",)


def dbt_executable() -> str:
    """dbt as run by the pipeline: the dbt installed beside this Python, started so that it dies with the run."""
    os.environ.setdefault("STUDIO_DBT_PYTHON", sys.executable)
    quiet = f"ignore:{PYSPARK_PANDAS_WARNING}:FutureWarning"
    if quiet not in os.environ.get("PYTHONWARNINGS", ""):
        os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), quiet]))
    return str(Path(__file__).resolve().parents[1] / "bin" / "dbt")


class StudioDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource without two costs it pays before every dbt command (5.1 s of a 74 s refresh at
    10M rows, measured with cProfile): it runs `dbt --version` in a subprocess to learn the version of the dbt
    it starts, and opens a dbt adapter in this process to fetch row counts and column metadata when asked
    (`fetch_row_counts`, `fetch_column_metadata`), which the pipeline does not ask. The dbt it starts is the
    one installed beside this Python (`dbt_executable`), so its version is the installed dbt-core's.
    `tests/test_dbt_resource.py` fails if dagster-dbt renames what this overrides."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: object) -> None:  # type: ignore[override]
        return None


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare_manifest(project: DbtProject = dbt_project) -> Path:
    """The project's manifest, parsed first when missing, older than a file of the project (a fresh clone has none)
    or parsed with other arguments, as dagster-dbt's `DbtProject.prepare_if_dev` would under `dagster dev`, but cheap
    to call on every start and with the dbt beside this Python. One process parses at a time; the others wait and
    find it fresh. Called before the definitions are loaded (by `studio-budget`, the Dagster loader and the tests),
    never at import."""
    target = Path(project.project_dir) / project.target_path
    target.mkdir(parents=True, exist_ok=True)
    # as a refresh of a studio with the default settings parses (vars and target): a new warehouse's first refresh
    # starts from this parse (dagster-dbt copies it to the warehouse's target folder). A parse made otherwise (an
    # older checkout, a dbt run by hand in the project) is parsed again, or every new warehouse would parse in full
    # (and, measured, every refresh of one: each run's build and docs parsed the whole project again). A refresh's
    # waiting dbt makes it first when it is to be made (`dbt_vars.project_parse`), holding the lock: this then
    # finds it made.
    args = project_parse_args()
    made_with = project_parse_made_with(args)
    with (target / PARSE_LOCK).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if project_parse_needed(Path(project.project_dir), target, made_with):
            stamp = target / PARSE_STAMP
            stamp.unlink(missing_ok=True)
            dbt = StudioDbtCliResource(project_dir=project, dbt_executable=str(Path(sys.executable).with_name("dbt")))
            dbt.cli(args, target_path=project.target_path).wait()
            stamp.write_text(made_with, encoding="utf-8")
    return project.manifest_path


class StudioDbtTranslator(DagsterDbtTranslator):
    """Models keyed by schema (`marts/mart_studio_variance`) and grouped by their layer folder."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "transform"


@contextlib.contextmanager
def dbt_environment(dbt_vars: Mapping[str, object], workdir: Path | None = None) -> Iterator[None]:
    """While dbt is started (it takes a copy of this process's environment): the run's as-of date (see AS_OF_ENV)
    and the folder dbt runs in (DBT_WORKDIR_ENV); then the environment as before. Without an as-of date in the vars
    or a folder, that variable is left as it is."""
    values = {AS_OF_ENV: dbt_vars.get("as_of"), DBT_WORKDIR_ENV: workdir}
    before = {name: os.environ.get(name) for name, value in values.items() if value is not None}
    os.environ.update({name: str(value) for name, value in values.items() if value is not None})
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# dbt nodes at once in a DuckDB build of a day the refresh's plan scoped (the models new files and the as-of date
# reach, onto the tables the build database holds). Such a build is small nodes (44 models; 229 tests when measured):
# while one node's SQL runs in DuckDB, another is compiled in Python. Fourteen next days at 1M rows, alternating 2
# and 1 (3 December 2026): the dbt step 12.6 against 13.5 s on average, the whole run 23.9 against 24.8 s, ten of
# the fourteen pairs faster. Every other build keeps the profile's one: a build of every model may build large
# tables from the lake (the ledger's staging, the fact), which would share the two cores and DuckDB's one memory
# limit, and on full refreshes of the sample 2 threads gained no wall clock (RESULTS.md).
INCREMENTAL_THREADS = 2


def dbt_build_args(
    dbt_vars: Mapping[str, object], full_refresh: bool = False, target: str | None = None, threads: int | None = None
) -> list[str]:
    """`dbt build` with the run's vars (build database, base currency, fiscal year start; the as-of date goes in
    the environment, `dbt_environment`), without unit tests, on the profile's target (default: `local`, DuckDB),
    with the profile's threads unless `threads` says otherwise."""
    args = ["build", "--vars", dbt_command_vars(dbt_vars)]
    if target:
        args += ["--target", target]
    if threads:
        args += ["--threads", str(threads)]
    for selector in BUILD_EXCLUDES:
        args += ["--exclude", selector]
    if full_refresh:
        args.append("--full-refresh")
    return args


# what a posted cost line carries besides its own fields (its department, category, rate): when one of these
# sources gets a new load, the incremental models rebuild in full
REFERENCE_SOURCES_OF_POSTINGS = ("projects", "accounts", "fx_rates")
INCREMENTAL_STATE = "incremental_state.json"


def incremental_inputs(layout: WarehouseLayout, dbt_vars: Mapping[str, object]) -> dict[str, object]:
    """What the incremental models' rows were built from: the as-of date, the other settings, and the loads of
    the reference sources a posted line takes attributes from."""
    loads = sorted(m["load_id"] for s in REFERENCE_SOURCES_OF_POSTINGS for m in accepted_manifests(layout, s))
    settings = {k: v for k, v in dbt_vars.items() if k not in ("as_of", "build_db", "work_db", *SPARK_LOCATION_VARS)}
    return {
        "as_of": str(dbt_vars["as_of"]),
        "settings": json.dumps(settings, sort_keys=True),
        "reference_loads": hashlib.sha256("\n".join(loads).encode()).hexdigest(),
        "project": project_fingerprint(),
        # the newest load of any source (load ids sort by load time): what a next build's tests count as new
        # after, when this build tested the models that grow with the ledger (tested_marks); not a reason to rebuild
        "latest_load": max((m["load_id"] for m in accepted_manifests(layout)), default=""),
    }


# The models whose tests read only the rows added since the build that last tested them (their tests' `new_rows`,
# macros/tests/new_rows.sql)
TESTED_ON_NEW_ROWS = ("stg_gl_actuals", "fct_actual_costs")


def tested_marks(
    inputs: Mapping[str, object], previous: Mapping[str, object] | None, built: Iterable[str]
) -> dict[str, object]:
    """What the next build's tests of TESTED_ON_NEW_ROWS may take as tested (`lake.last_build`): the newest load
    and the as-of date of this build when it built and tested every one of them; otherwise those of the build that
    last did, since a build of other models only (a Dagster UI selection, a day without ledger files) leaves their
    rows as that build tested them, and a load or date this build saw may not be in them yet. None recorded: the
    next build's tests read every row."""
    if set(TESTED_ON_NEW_ROWS) <= set(built):
        return {"tested_load": inputs["latest_load"], "tested_as_of": inputs["as_of"]}
    return {key: previous[key] for key in ("tested_load", "tested_as_of") if previous and key in previous}


def project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """The dbt project's models, macros and seeds, and the dbt and dbt-duckdb versions, as one hash: rows an
    incremental model kept were made by the code of their day, so another version rebuilds them (once, at the
    first run after an upgrade; a changed description or test counts too: one rebuild too many, never too few)."""
    digest = hashlib.sha256(
        f"dbt-core {installed_version('dbt-core')}, dbt-duckdb {installed_version('dbt-duckdb')}".encode()
    )
    files = [project_dir / "dbt_project.yml"]
    for folder in ("models", "macros", "seeds"):
        files += [p for p in (project_dir / folder).rglob("*") if p.is_file()]
    for path in sorted(files):
        digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def incremental_rebuild_reasons(previous: Mapping[str, object] | None, current: Mapping[str, object]) -> list[str]:
    """Why the incremental models must be rebuilt from the lake this run (none: they take only what is new)."""
    if previous is None:
        return ["no record of the last build"]
    reasons = []
    if previous.get("reference_loads") != current["reference_loads"]:
        reasons.append("new projects, accounts or fx rates")
    if previous.get("settings") != current["settings"]:
        reasons.append("other settings (base currency, fiscal year, ...)")
    if previous.get("project") != current["project"]:
        reasons.append("another version of the models (an incremental model's rows may be made differently)")
    # the latest as-of any build since the last full one ran with, passed or not: a failed build may have appended
    # lines up to its own as-of, which an earlier as-of must not keep (record_build_attempt)
    latest = max(str(previous.get("as_of", "")), str(previous.get("attempted_as_of", "")))
    if str(current["as_of"]) < latest:
        reasons.append(f"an earlier as-of than a build since the last full one ({latest})")
    return reasons


def record_build_attempt(
    layout: WarehouseLayout,
    previous: Mapping[str, object] | None,
    current: Mapping[str, object],
    full: bool,
    engine: str = "duckdb",
) -> None:
    """Before dbt starts. A full build removes the record: if it fails, what its tables hold is known to nobody,
    and the next run builds in full again. An incremental one keeps the last passed build's record and adds the
    latest as-of attempted since (`attempted_as_of`), since a build that fails may already have appended lines."""
    path = incremental_state_path(layout, engine)
    if full or previous is None:
        path.unlink(missing_ok=True)
        return
    attempted = max(str(previous.get("attempted_as_of", "")), str(current["as_of"]))
    write_incremental_state(layout, {**previous, "attempted_as_of": attempted}, engine)


def incremental_state_path(layout: WarehouseLayout, engine: str = "duckdb") -> Path:
    """Each engine keeps its own incremental models (DuckDB's build database, Spark's catalog), so its own state:
    Spark's beside its catalog, which goes with it."""
    return (spark_dir(layout) if engine == "spark" else layout.internal) / INCREMENTAL_STATE


def read_incremental_state(layout: WarehouseLayout, engine: str = "duckdb") -> dict | None:
    try:
        return json.loads(incremental_state_path(layout, engine).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_incremental_state(layout: WarehouseLayout, inputs: Mapping[str, object], engine: str = "duckdb") -> None:
    """After a build that passed: what its incremental models hold."""
    path = incremental_state_path(layout, engine)
    path.parent.mkdir(parents=True, exist_ok=True)
    work = path.with_name(f".{path.name}.incoming")
    work.write_text(json.dumps(dict(inputs), indent=1), encoding="utf-8")
    os.replace(work, path)
