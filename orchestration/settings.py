"""The run's settings as a Dagster resource: one place every asset reads them from."""

import os
from datetime import date
from pathlib import Path

from dagster import ConfigurableResource

from orchestration.lib.config import SAMPLE_LANDING_DIR, StudioConfig, WarehouseLayout, default_as_of


class StudioSettings(ConfigurableResource):
    """Landing folder, warehouse folder, as-of date and the studio's config file."""

    landing_dir: str
    warehouse_dir: str
    as_of: str = ""  # YYYY-MM-DD; empty: the sample's own date when running the sample, else today
    full_refresh: bool = False
    config_file: str = ""  # a studio.toml; empty: ./studio.toml when there is one

    @classmethod
    def from_environment(cls) -> "StudioSettings":
        """Settings for `dagster dev`: STUDIO_LANDING, STUDIO_WAREHOUSE, STUDIO_AS_OF, STUDIO_CONFIG."""
        return cls(
            landing_dir=os.environ.get("STUDIO_LANDING", str(SAMPLE_LANDING_DIR)),
            warehouse_dir=os.environ.get("STUDIO_WAREHOUSE", str(Path("warehouse").resolve())),
            as_of=os.environ.get("STUDIO_AS_OF", ""),
            config_file=os.environ.get("STUDIO_CONFIG", ""),
        )

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def layout(self) -> WarehouseLayout:
        return WarehouseLayout(Path(self.warehouse_dir))

    @property
    def as_of_date(self) -> date:
        return date.fromisoformat(self.as_of) if self.as_of else default_as_of(self.landing)

    @property
    def studio_config(self) -> StudioConfig:
        path = Path(self.config_file) if self.config_file else Path("studio.toml")
        return StudioConfig.load(path)

    def dbt_vars(self) -> dict[str, object]:
        return {**self.studio_config.as_dbt_vars(self.as_of_date), "build_db": str(self.layout.build_db)}
