"""A studio's settings reach the models: studio.toml and the run's options become dbt vars (SPEC §3).

The formulas that read them (fiscal YTD from any start month, conversion to any base currency) are checked by the
dbt unit tests with `overrides: vars:`; these tests check the plumbing from the file to `dbt build`.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.resources import StudioSettings
from orchestration.lib.config import SAMPLE_LANDING_DIR, StudioConfig, in_process_memory_limit
from orchestration.lib.dbt import AS_OF_ENV, DBT_WORKDIR_ENV, dbt_build_args, dbt_environment


def test_studio_toml_reaches_dbt_build(tmp_path: Path) -> None:
    config = tmp_path / "studio.toml"
    config.write_text(
        'base_currency = "GBP"\nfiscal_year_start_month = 2\ninvoice_po_tolerance_pct = 7.5\n'
        'duckdb_memory_limit = "2GB"\n',
        encoding="utf-8",
    )
    settings = StudioSettings.for_run(tmp_path / "landing", tmp_path / "warehouse", "2025-03-15", config)
    args = dbt_build_args(settings.dbt_vars(), full_refresh=True)
    assert args[0] == "build" and args[-1] == "--full-refresh"
    assert args[3:5] == ["--exclude", "test_type:unit"]
    # the as-of date goes in dbt's environment (a var would make dbt parse the whole project again every day)
    assert json.loads(args[args.index("--vars") + 1]) == {
        "base_currency": "GBP",
        "fiscal_year_start_month": 2,
        "invoice_po_tolerance_pct": 7.5,
        "duckdb_memory_limit": "2GB",
        # relative to the warehouse's _internal, where the pipeline's dbt runs: the same in every warehouse
        "build_db": "build.duckdb",
        "work_db": "work.duckdb",
    }
    assert "--threads" not in args  # the profile's
    threaded = dbt_build_args(settings.dbt_vars(), threads=2)
    assert threaded[threaded.index("--threads") + 1] == "2" and "--full-refresh" not in threaded


def test_defaults_are_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no studio.toml here
    sample = StudioSettings.for_run(SAMPLE_LANDING_DIR, tmp_path / "warehouse")
    assert sample.as_of == (SAMPLE_LANDING_DIR / "AS_OF").read_text(encoding="utf-8").strip()
    assert sample.studio_config == StudioConfig("USD", 1, 10.0, None, "512MB")
    before = date.today()
    other = StudioSettings.for_run(tmp_path, tmp_path / "warehouse")
    assert before <= other.as_of_date <= date.today()  # today's date (a midnight may fall in between)
    (tmp_path / "AS_OF").write_text("2027-02-03\n", encoding="utf-8")  # a generated studio's own date
    assert StudioSettings.for_run(tmp_path, tmp_path / "warehouse").as_of == "2027-02-03"


@pytest.mark.parametrize("value", ["13", "0", '"April"', "true", "4.0"])
def test_a_fiscal_year_start_outside_1_to_12_is_refused(tmp_path: Path, value: str) -> None:
    config = tmp_path / "studio.toml"
    config.write_text(f"fiscal_year_start_month = {value}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"studio.toml: fiscal_year_start_month must be a month number 1\.\.12"):
        StudioConfig.load(config)


@pytest.mark.parametrize("value", ["-1", '"10%"', "true"])
def test_an_invoice_po_tolerance_that_is_not_a_percentage_is_refused(tmp_path: Path, value: str) -> None:
    config = tmp_path / "studio.toml"
    config.write_text(f"invoice_po_tolerance_pct = {value}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="invoice_po_tolerance_pct must be a number of percent, 0 or more"):
        StudioConfig.load(config)


def test_a_misspelt_setting_is_refused_before_a_refresh_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A setting the file misspells would otherwise leave its default in force without a word (exit 2, SPEC §3)."""
    from orchestration.cli import EXIT_USAGE, main

    config = tmp_path / "studio.toml"
    config.write_text('base_currenci = "EUR"\nfiscal_year_start_month = 4\n[alerts]\nwebhook = "x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"studio\.toml: unknown keys alerts, base_currenci; the settings are"):
        StudioConfig.load(config)
    warehouse = tmp_path / "warehouse"
    code = main(["run", "--landing", str(SAMPLE_LANDING_DIR), "--warehouse", str(warehouse), "--config", str(config)])
    assert code == EXIT_USAGE and "unknown keys alerts, base_currenci" in capsys.readouterr().err
    assert not (warehouse / "studio.duckdb").exists()


@pytest.mark.parametrize("value", ['"lots"', '"1 GB of RAM"', "1024"])
def test_a_memory_limit_that_is_not_an_amount_is_refused(tmp_path: Path, value: str) -> None:
    config = tmp_path / "studio.toml"
    config.write_text(f"duckdb_memory_limit = {value}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="duckdb_memory_limit must be an amount such as '1GB'"):
        StudioConfig.load(config)


def test_dagster_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = StudioSettings.from_environment(
        {"STUDIO_LANDING": str(tmp_path), "STUDIO_WAREHOUSE": str(tmp_path / "wh"), "STUDIO_AS_OF": "2025-01-31"}
    )
    assert (settings.landing, settings.layout.root, settings.as_of) == (tmp_path, tmp_path / "wh", "2025-01-31")


def test_the_as_of_date_and_folder_are_in_dbts_environment_while_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(AS_OF_ENV, "2024-12-31")  # a date `dagster dev` was started with
    monkeypatch.delenv(DBT_WORKDIR_ENV, raising=False)
    with dbt_environment({"as_of": "2025-03-15", "base_currency": "GBP"}, tmp_path):
        assert (os.environ[AS_OF_ENV], os.environ[DBT_WORKDIR_ENV]) == ("2025-03-15", str(tmp_path))
    assert os.environ[AS_OF_ENV] == "2024-12-31" and DBT_WORKDIR_ENV not in os.environ
    monkeypatch.delenv(AS_OF_ENV)
    with dbt_environment({"as_of": "2025-03-15"}):
        assert os.environ[AS_OF_ENV] == "2025-03-15" and DBT_WORKDIR_ENV not in os.environ
    assert AS_OF_ENV not in os.environ
    with dbt_environment({"base_currency": "GBP"}):  # no as-of date: nothing set
        assert AS_OF_ENV not in os.environ


def test_duckdb_inside_the_refresh_process_gets_half_the_memory_limit() -> None:
    # by hand: 1GB is 10**9 bytes (DuckDB's reading), half of it 476.8 MiB; 2GiB is 2**31 bytes, half 1024 MiB
    assert in_process_memory_limit("1GB") == "476MiB"
    assert in_process_memory_limit("2GiB") == "1024MiB"
    assert in_process_memory_limit("512MB") == "244MiB"
    assert in_process_memory_limit("100KB") == "64MiB"  # never below 64 MiB
    with duckdb.connect(config={"memory_limit": in_process_memory_limit("1GB")}) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "476.0 MiB"
