"""dbt models as Dagster assets: staging → intermediate → marts, dbt tests as asset checks."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.faults import pause_point
from orchestration.ingest import register_lake_views
from orchestration.lib.config import DBT_PROJECT_DIR
from orchestration.settings import StudioSettings

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """dbt as run by the pipeline: the dbt installed beside this Python, started so that it dies with the run."""
    os.environ.setdefault("STUDIO_DBT_PYTHON", sys.executable)
    return str(Path(__file__).with_name("bin") / "dbt")


def manifest_is_stale(project_dir: Path, manifest: Path) -> bool:
    """True when the manifest is missing or older than any file of the dbt project."""
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    watched = ("models", "macros", "seeds", "tests", "snapshots")
    files = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    files += [p for folder in watched for p in (project_dir / folder).rglob("*") if p.is_file()]
    return any(p.stat().st_mtime > built for p in files)


def ensure_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or stale (a fresh clone has none)."""
    manifest = dbt_project.manifest_path
    if manifest_is_stale(DBT_PROJECT_DIR, manifest):
        command = [str(Path(sys.executable).with_name("dbt")), "parse", "--quiet"]
        command += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
        subprocess.run(command, check=True, cwd=DBT_PROJECT_DIR)
    return manifest


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


def dbt_build_args(settings: StudioSettings) -> list[str]:
    """`dbt build` with the run's vars: the build database, as-of, base currency, fiscal year start."""
    args = ["build", "--vars", json.dumps(settings.dbt_vars())]
    if settings.full_refresh:
        args.append("--full-refresh")
    return args


ensure_manifest()


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=StudioDbtTranslator())
def studio_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, settings: StudioSettings) -> Iterator:
    layout = settings.layout
    if settings.full_refresh and layout.build_db.exists():
        layout.build_db.unlink()
    register_lake_views(layout)  # every source has its view, even one no asset loaded this run
    pause_point("dbt")
    yield from dbt.cli(dbt_build_args(settings), context=context, target_path=layout.dbt_target).stream()
