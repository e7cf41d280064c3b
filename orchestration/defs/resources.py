"""The run's settings as a Dagster resource: one place every asset reads them from, resolved when made."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from dagster import ConfigurableResource

from orchestration.lib.config import SAMPLE_LANDING_DIR, StudioConfig, WarehouseLayout, default_as_of
from orchestration.lib.dbt_vars import pipeline_dbt_vars
from orchestration.lib.spark import ENGINES, staged_build


class StudioSettings(ConfigurableResource):
    """Landing folder, warehouse folder, as-of date, the studio's config file (empty: defaults) and the engine
    that builds the dbt models (duckdb, or spark: README "Scaling out")."""

    landing_dir: str
    warehouse_dir: str
    as_of: str  # YYYY-MM-DD
    config_file: str = ""
    engine: str = "duckdb"
    # False: `as_of` is the default (the landing folder's AS_OF, else today) as it was when these settings were made;
    # `as_of_now` resolves it again
    as_of_given: bool = True

    @classmethod
    def for_run(
        cls,
        landing: Path,
        warehouse: Path,
        as_of: str | date | None = None,
        config: Path | None = None,
        engine: str = "duckdb",
    ) -> StudioSettings:
        """Settings with SPEC §3's defaults made explicit: as-of = the sample's own date when running the
        sample, else today; config = ./studio.toml when there is one."""
        if config is None and Path("studio.toml").is_file():
            config = Path("studio.toml")
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
        return cls(
            landing_dir=str(landing.resolve()),
            warehouse_dir=str(warehouse.resolve()),
            as_of=str(as_of) if as_of else default_as_of(landing).isoformat(),
            config_file=str(config.resolve()) if config else "",
            engine=engine,
        )

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> StudioSettings:
        """Settings for `dagster dev`: STUDIO_LANDING, STUDIO_WAREHOUSE, STUDIO_AS_OF, STUDIO_CONFIG, STUDIO_ENGINE."""
        environ = dict(os.environ if environ is None else environ)
        config = environ.get("STUDIO_CONFIG")
        settings = cls.for_run(
            Path(environ.get("STUDIO_LANDING", str(SAMPLE_LANDING_DIR))),
            Path(environ.get("STUDIO_WAREHOUSE", "warehouse")),
            environ.get("STUDIO_AS_OF") or None,
            Path(config) if config else None,
            environ.get("STUDIO_ENGINE") or "duckdb",
        )
        return settings if environ.get("STUDIO_AS_OF") else settings.with_as_of(settings.as_of, given=False)

    def with_as_of(self, as_of: str, given: bool = True) -> StudioSettings:
        return StudioSettings(
            landing_dir=self.landing_dir,
            warehouse_dir=self.warehouse_dir,
            as_of=as_of,
            config_file=self.config_file,
            engine=self.engine,
            as_of_given=given,
        )

    def as_of_now(self) -> StudioSettings:
        """The settings a run started now has. `dagster dev` loads the definitions once for the schedules and sensors
        but again for each run: a default as-of (the landing's AS_OF, else today) is resolved again here, so that a
        refresh is planned for the date its run will have."""
        if self.as_of_given:
            return self
        return self.with_as_of(default_as_of(self.landing).isoformat(), given=False)

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def layout(self) -> WarehouseLayout:
        return WarehouseLayout(Path(self.warehouse_dir))

    @property
    def as_of_date(self) -> date:
        return date.fromisoformat(self.as_of)

    @property
    def studio_config(self) -> StudioConfig:
        return StudioConfig.load(Path(self.config_file) if self.config_file else None)

    def dbt_vars(self) -> dict[str, object]:
        """The studio's settings, and the DuckDB databases holding this build's tables (a Spark build's, staged) and
        its staging and intermediate models, relative to the folder dbt runs in (`pipeline_dbt_vars`)."""
        build_db = staged_build(self.layout) if self.engine == "spark" else self.layout.build_db
        return pipeline_dbt_vars(self.studio_config, self.as_of_date, self.layout, build_db)
