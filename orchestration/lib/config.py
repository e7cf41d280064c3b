"""Where things live and the settings a studio may change (SPEC §3)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
SAMPLE_LANDING_DIR = REPO_ROOT / "seeds" / "sample_studio"
SAMPLE_AS_OF_FILE = SAMPLE_LANDING_DIR / "AS_OF"


@dataclass(frozen=True)
class WarehouseLayout:
    """The warehouse folder: what readers open, and beside it what only the pipeline touches."""

    root: Path

    @property
    def published_db(self) -> Path:
        return self.root / "studio.duckdb"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def quality(self) -> Path:
        """Great Expectations Data Docs: a page for every load's validation, accepted or rejected."""
        return self.root / "quality"

    @property
    def docs(self) -> Path:
        """The dbt docs site of the published warehouse (`docs/index.html`, one self-contained page)."""
        return self.root / "docs"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def internal(self) -> Path:
        """Build database, dbt target and logs: never mistaken for the published warehouse."""
        return self.root / "_internal"

    @property
    def check_dbs(self) -> Path:
        """Where each load is read and checked in its own small database before it may reach the lake."""
        return self.internal / "validation"

    @property
    def build_db(self) -> Path:
        return self.internal / "build.duckdb"

    @property
    def dbt_target(self) -> Path:
        return self.internal / "dbt_target"

    @property
    def validation_results(self) -> Path:
        """GX's validation results store: the JSON every Data Docs page is rendered from."""
        return self.internal / "gx_validation_results"

    @property
    def dbt_logs(self) -> Path:
        return self.internal / "dbt_logs"

    def ensure(self) -> None:
        for folder in (self.root, self.reports, self.quarantine, self.lake, self.internal):
            folder.mkdir(parents=True, exist_ok=True)


MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


@dataclass(frozen=True)
class StudioConfig:
    """Settings a studio changes, read from a `studio.toml` (all optional)."""

    base_currency: str = "USD"
    fiscal_year_start_month: int = 1
    # how far (in percent) a purchase order's invoices may run above its amount before a load is rejected
    invoice_po_tolerance_pct: float = 10.0
    # the name of the environment variable holding the alert webhook's URL (a secret: never the URL itself)
    alert_webhook_env: str | None = None
    # the most memory DuckDB may take in each process of a refresh (dbt, the gate, publishing); beyond it, it
    # spills to disk. Sized for a laptop; a server can give it more.
    duckdb_memory_limit: str = "1GB"

    @classmethod
    def load(cls, path: Path | None) -> StudioConfig:
        if path is None or not path.exists():
            return cls()
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        known = {
            k: data[k]
            for k in (
                "base_currency",
                "fiscal_year_start_month",
                "invoice_po_tolerance_pct",
                "alert_webhook_env",
                "duckdb_memory_limit",
            )
            if k in data
        }
        config = cls(**known)
        if not 1 <= config.fiscal_year_start_month <= 12:
            raise ValueError(f"{path}: fiscal_year_start_month must be 1..12, got {config.fiscal_year_start_month}")
        tolerance = config.invoice_po_tolerance_pct
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0:
            raise ValueError(
                f"{path}: invoice_po_tolerance_pct must be a number of percent, 0 or more, got {tolerance!r}"
            )
        webhook_env = config.alert_webhook_env
        if webhook_env is not None and not (isinstance(webhook_env, str) and webhook_env.isidentifier()):
            # the value is not echoed: it may be the secret URL itself
            raise ValueError(
                f"{path}: alert_webhook_env must name an environment variable (such as STUDIO_ALERT_WEBHOOK) "
                "that holds the webhook URL, not the URL itself"
            )
        limit = config.duckdb_memory_limit
        if not (isinstance(limit, str) and MEMORY_LIMIT.match(limit)):
            raise ValueError(f"{path}: duckdb_memory_limit must be an amount such as '1GB' or '512MB', got {limit!r}")
        return config

    def as_dbt_vars(self, as_of: date) -> dict[str, object]:
        return {
            "as_of": as_of.isoformat(),
            "base_currency": self.base_currency,
            "fiscal_year_start_month": self.fiscal_year_start_month,
            "invoice_po_tolerance_pct": self.invoice_po_tolerance_pct,
            "duckdb_memory_limit": self.duckdb_memory_limit,
        }


def default_as_of(landing_dir: Path) -> date:
    """The landing folder's own date when it has an `AS_OF` file (the sample, a generated studio), else today
    (SPEC §3)."""
    as_of_file = landing_dir / "AS_OF"
    if as_of_file.is_file():
        return date.fromisoformat(as_of_file.read_text(encoding="utf-8").strip())
    return date.today()
