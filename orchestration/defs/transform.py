"""dbt models as Dagster assets: staging → intermediate → marts, dbt tests as asset checks."""

from collections.abc import Iterator
from functools import cache

from dagster import AssetExecutionContext, AssetsDefinition, Config, Failure
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.resources import StudioSettings
from orchestration.lib.dbt import (
    INCREMENTAL_THREADS,
    StudioDbtTranslator,
    dbt_build_args,
    dbt_environment,
    dbt_project,
    incremental_inputs,
    incremental_rebuild_reasons,
    read_incremental_state,
    record_build_attempt,
    tested_marks,
    write_incremental_state,
)
from orchestration.lib.faults import pause_point
from orchestration.lib.lake import prepare_build_database
from orchestration.lib.spark import DBT_TARGETS, prepare_spark_build

DBT_OP = "studio_dbt_models"


class DbtBuildConfig(Config):
    """Run config of the dbt step: `full_refresh` rebuilds the build database from the lake; `scoped`: the run
    builds only the models its scope names (`orchestration/lib/scope.py`), which the refresh planned on the
    ground that the incremental models need no rebuild."""

    full_refresh: bool = False
    scoped: bool = False


@cache
def dbt_models() -> AssetsDefinition:
    """The dbt project's models as assets; read from the manifest, which must be prepared before this is called."""

    @dbt_assets(
        name=DBT_OP,
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        dagster_dbt_translator=StudioDbtTranslator(),
    )
    def studio_dbt_models(
        context: AssetExecutionContext, dbt: DbtCliResource, settings: StudioSettings, config: DbtBuildConfig
    ) -> Iterator:
        layout = settings.layout
        dbt_vars = settings.dbt_vars()
        # the fact's database and the ledger's staging one (made below if missing): without either, the
        # incremental models there are built whole, and their tests must read every row
        built_before = layout.build_db.exists() and layout.work_db.exists()
        if settings.engine == "spark":
            dbt_vars |= prepare_spark_build(layout)  # the project makes its source views over the lake itself
        inputs = incremental_inputs(layout, dbt_vars)
        previous = read_incremental_state(layout, settings.engine)
        reasons = incremental_rebuild_reasons(previous, inputs)
        if settings.engine != "spark" and not built_before:
            reasons.append("no build or work database")
        if reasons and config.scoped and not config.full_refresh:
            # the plan found no reason to rebuild (plan_refresh): a rebuild of the scope's models alone would leave
            # the others' rows made otherwise. Nothing is built; the next run's plan finds the reason and builds all
            raise Failure(
                "this run was to build only what its new files reach, but the incremental models must be rebuilt "
                f"from the lake ({'; '.join(reasons)}); nothing was built or published: run again, and every model "
                "is built"
            )
        if reasons and not config.full_refresh:
            context.log.info(f"incremental models rebuilt from the lake: {'; '.join(reasons)}")
        full = config.full_refresh or bool(reasons)
        if settings.engine != "spark" and full and not context.is_subset:
            # a rebuild of every model starts from new database files: DuckDB never gives back a dropped table's
            # blocks, and the old fact's would stay in the build file, which every publication copies (10M rows:
            # 768 MiB, half of it free, against 429 MiB). A run of some models only (the Dagster UI) rebuilds
            # them in the files as they are: the others' tables stay for the publication.
            for database in (layout.build_db, layout.work_db):
                database.unlink(missing_ok=True)
                database.with_name(database.name + ".wal").unlink(missing_ok=True)
        if settings.engine != "spark":
            # the lake's views, and what the incremental models' grain tests may take as tested already
            prepare_build_database(layout, None if full else previous)
        pause_point("dbt")
        record_build_attempt(layout, previous, inputs, full, settings.engine)
        # a day the plan scoped (new ledger lines onto the tables there; never on Spark, whose plan builds every
        # model): two dbt nodes at once; any other build (every model, a rebuild, a Dagster UI selection) the
        # profile's
        threads = INCREMENTAL_THREADS if config.scoped and not full else None
        args = dbt_build_args(dbt_vars, full, DBT_TARGETS[settings.engine], threads)
        with dbt_environment(dbt_vars, layout.internal):  # dbt starts here: it takes a copy of the environment
            invocation = dbt.cli(args, context=context, target_path=layout.dbt_target)
        yield from invocation.stream()
        built = {key.path[-1] for key in context.selected_asset_keys}
        # only once the build and its tests passed
        write_incremental_state(layout, {**inputs, **tested_marks(inputs, previous, built)}, settings.engine)

    return studio_dbt_models
