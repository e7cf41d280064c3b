"""Where things live and the settings a studio may change (SPEC §3)."""

from __future__ import annotations

import contextlib
import re
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    def departments(self) -> Path:
        """Each department's own published files (`departments/<CODE>/`), when `[departments] publish` is on."""
        return self.root / "departments"

    @property
    def build_db(self) -> Path:
        return self.internal / "build.duckdb"

    @property
    def work_db(self) -> Path:
        """The staging and intermediate models, in a file of their own beside the build database (which holds
        the marts and seeds): publishing copies the build file whole."""
        return self.internal / "work.duckdb"

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


MEMORY_LIMIT = re.compile(r"^(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
# as DuckDB reads them: KB, MB, ... in powers of 1000; KiB, MiB, ... in powers of 1024
_UNIT_BYTES = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNIT_BYTES |= {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def in_process_memory_limit(limit: str) -> str:
    """The memory limit of a DuckDB database opened inside the refresh's own Python process (publishing): half of
    `duckdb_memory_limit`, since that process also holds Dagster, Great Expectations and dbt's manifest (about
    0.45 GB). dbt builds in its own process with the whole limit. Measured at 10M rows: with the whole 1GB the
    refresh's process peaked at 1,657 MB; publishing alone at 1GB took 1,262 MB, at 512MB 596 MB."""
    match = MEMORY_LIMIT.match(limit)
    if match is None:
        raise ValueError(f"not a memory amount: {limit!r}")
    mib = float(match.group(1)) * _UNIT_BYTES[match.group(2)] / 2 / 2**20
    return f"{max(int(mib), 64)}MiB"


@dataclass(frozen=True)
class DepartmentDelivery:
    """`[departments]`: each department's own files at every publish, and when its weekly e-mail goes (SPEC §8)."""

    publish: bool = False  # write departments/<CODE>/ (studio.duckdb, exports, reports) at every publish
    email_schedule: str = "0 7 * * 1"  # cron: Monday 07:00
    email_timezone: str = "UTC"
    email_retries: int = 3  # a run that could not send every report runs again, up to this many times
    email_retry_minutes: float = 10


SMTP_SECURITY = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpSettings:
    """`[smtp]`: the server the department reports are sent through. The password is never here: `password_env`
    names the environment variable holding it."""

    host: str
    from_address: str
    port: int = 587
    username: str | None = None
    password_env: str | None = None
    security: str = "starttls"  # starttls (port 587), ssl (implicit TLS, port 465) or none
    timeout_seconds: float = 30.0


def _section(path: Path, data: dict, name: str, kind: type) -> dict:
    """A TOML table's keys, checked against the dataclass it fills: a misspelt key is an error, not ignored."""
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise ValueError(f"{path}: [{name}] must be a table")
    if name == "smtp" and "password" in section:
        # the value is not echoed: it is the secret
        raise ValueError(f"{path}: [smtp] takes no password; name the environment variable holding it in password_env")
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ValueError(
            f"{path}: unknown key(s) in [{name}]: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    return section


def _departments(path: Path, data: dict) -> DepartmentDelivery:
    delivery = DepartmentDelivery(**_section(path, data, "departments", DepartmentDelivery))
    if not isinstance(delivery.publish, bool):
        raise ValueError(f"{path}: [departments] publish must be true or false, got {delivery.publish!r}")
    if not (isinstance(delivery.email_schedule, str) and len(delivery.email_schedule.split()) == 5):
        raise ValueError(
            f"{path}: [departments] email_schedule must be cron (five fields), got {delivery.email_schedule!r}"
        )
    retries, minutes = delivery.email_retries, delivery.email_retry_minutes
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"{path}: [departments] email_retries must be a whole number, 0 or more, got {retries!r}")
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes < 0:
        raise ValueError(f"{path}: [departments] email_retry_minutes must be a number, 0 or more, got {minutes!r}")
    try:
        ZoneInfo(str(delivery.email_timezone))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"{path}: [departments] email_timezone is not a time zone: {delivery.email_timezone!r}"
        ) from error
    return delivery


def _smtp(path: Path, data: dict) -> SmtpSettings | None:
    if "smtp" not in data:
        return None
    section = _section(path, data, "smtp", SmtpSettings)
    for required in ("host", "from_address"):
        if not isinstance(section.get(required), str) or not section[required].strip():
            raise ValueError(f"{path}: [smtp] needs {required}")
    smtp = SmtpSettings(**section)
    if isinstance(smtp.port, bool) or not isinstance(smtp.port, int) or not 0 < smtp.port < 65536:
        raise ValueError(f"{path}: [smtp] port must be a port number, got {smtp.port!r}")
    if smtp.security not in SMTP_SECURITY:
        raise ValueError(f"{path}: [smtp] security must be one of {', '.join(SMTP_SECURITY)}, got {smtp.security!r}")
    if smtp.password_env is not None and not (isinstance(smtp.password_env, str) and smtp.password_env.isidentifier()):
        # the value is not echoed: it may be the password itself
        raise ValueError(
            f"{path}: [smtp] password_env must name an environment variable (such as STUDIO_SMTP_PASSWORD) "
            "that holds the password, not the password itself"
        )
    if smtp.username and not smtp.password_env:
        raise ValueError(f"{path}: [smtp] has a username but no password_env")
    if "@" not in smtp.from_address:
        raise ValueError(f"{path}: [smtp] from_address must be an e-mail address, got {smtp.from_address!r}")
    timeout = smtp.timeout_seconds
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ValueError(f"{path}: [smtp] timeout_seconds must be a positive number, got {timeout!r}")
    return smtp


@dataclass(frozen=True)
class StudioConfig:
    """Settings a studio changes, read from a `studio.toml` (all optional)."""

    base_currency: str = "USD"
    fiscal_year_start_month: int = 1
    # how far (in percent) a purchase order's invoices may run above its amount before a load is rejected
    invoice_po_tolerance_pct: float = 10.0
    # the name of the environment variable holding the alert webhook's URL (a secret: never the URL itself)
    alert_webhook_env: str | None = None
    # the most memory DuckDB may take while dbt builds, and half of it while publishing (the gate's check databases
    # and alert delivery keep 476 MiB whatever this says: README "Settings"); beyond it, DuckDB spills to disk.
    # Sized for a laptop: at 10M cost rows the whole run (the refresh's process and dbt's) then peaks at
    # 1,263 MiB, against 1,722 MiB with 1GB, for a full refresh about 7% slower (README "Memory"). A server can
    # give it more.
    duckdb_memory_limit: str = "512MB"
    departments: DepartmentDelivery = field(default_factory=DepartmentDelivery)
    smtp: SmtpSettings | None = None

    @classmethod
    def load(cls, path: Path | None) -> StudioConfig:
        if path is None or not path.exists():
            return cls()
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        settings = (
            "base_currency",
            "fiscal_year_start_month",
            "invoice_po_tolerance_pct",
            "alert_webhook_env",
            "duckdb_memory_limit",
        )
        unknown = sorted(set(data) - {*settings, "departments", "smtp"})
        if unknown:  # a misspelt setting would otherwise run silently on its default
            raise ValueError(
                f"{path}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                f"the settings are {', '.join(settings)} and the sections [departments] and [smtp]"
            )
        known = {k: data[k] for k in settings if k in data}
        config = cls(**known, departments=_departments(path, data), smtp=_smtp(path, data))
        month = config.fiscal_year_start_month
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise ValueError(f"{path}: fiscal_year_start_month must be a month number 1..12, got {month!r}")
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
        written = as_of_file.read_text(encoding="utf-8", errors="replace").strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", written):
            with contextlib.suppress(ValueError):  # a day that does not exist (2026-02-30) falls through
                return date.fromisoformat(written)
        raise ValueError(
            f"{as_of_file} says {written[:40]!r}: the landing folder's as-of date must be YYYY-MM-DD "
            "(or remove the file, or give --as-of)"
        )
    return date.today()
