"""`studio-budget`: run the pipeline through Dagster and print the report (SPEC §3).

Exit codes: 0 all loads accepted and published; 3 published, but one or more loads were
rejected; 1 nothing published (the previous publication is untouched); 2 usage error.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from orchestration.lib.config import SAMPLE_LANDING_DIR, WarehouseLayout

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3


def _iso_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from error


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="studio-budget", description="Studio budget vs actual warehouse.")
    commands = main.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="ingest new landing files, validate, build, test, publish, report")
    run.add_argument("--landing", type=Path, default=SAMPLE_LANDING_DIR, help="landing folder (default: the sample)")
    run.add_argument(
        "--warehouse", type=Path, default=Path("warehouse"), help="warehouse folder (default: ./warehouse)"
    )
    run.add_argument("--as-of", type=_iso_date, default=None, help="YYYY-MM-DD (default: sample's date, else today)")
    run.add_argument("--full-refresh", action="store_true", help="rebuild every model from the lake")
    run.add_argument("--config", type=Path, default=None, help="a studio.toml (default: ./studio.toml if present)")
    report = commands.add_parser("report", help="print the studio report from the published warehouse")
    report.add_argument("--warehouse", type=Path, default=Path("warehouse"))
    report.add_argument("--write", action="store_true", help="also write text and CSV under <warehouse>/reports/")
    report.add_argument(
        "--project", metavar="CODE", help="the project's cost report instead (printed, and written as CSV)"
    )
    email = commands.add_parser("email", help="e-mail each department owner the week's report (SPEC §8)")
    email.add_argument("--warehouse", type=Path, default=Path("warehouse"))
    email.add_argument("--config", type=Path, default=None, help="a studio.toml (default: ./studio.toml if present)")
    email.add_argument("--week", type=_iso_date, default=None, help="a day of the week to send (default: this week)")
    email.add_argument("--dry-run", action="store_true", help="say whom it would send to; send nothing")
    generate = commands.add_parser("generate", help="write the sample studio at a chosen scale of ledger rows")
    generate.add_argument(
        "--actual-rows", type=_positive_int, required=True, metavar="N", help="actual-cost rows in all"
    )
    generate.add_argument("--out", type=Path, required=True, help="folder to write the studio to")
    generate.add_argument("--format", choices=("csv", "parquet"), default="csv", help="generated ledger file format")
    generate.add_argument("--seed", type=int, default=7, help="the same seed writes the same files (default 7)")
    return main


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from error
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "run":
        return run(args)
    if args.command == "generate":
        return generate(args)
    if args.command == "email":
        return email(args)
    return report(args)


def generate(args: argparse.Namespace) -> int:
    from orchestration.sample.scale import generate_scaled, sample_actual_rows

    counts = generate_scaled(args.out, args.actual_rows, args.format, args.seed)
    actual = sample_actual_rows(counts)
    print(f"wrote {len(counts)} landing files and AS_OF to {args.out}: {actual} actual-cost rows")
    return EXIT_OK


def email(args: argparse.Namespace) -> int:
    """The weekly department e-mail by hand: the same code as the schedule's job, the same ledger."""
    from orchestration.lib.config import StudioConfig
    from orchestration.lib.department_email import send_department_reports, week_of

    err = Console(stderr=True)
    config_path = args.config if args.config is not None else Path("studio.toml")
    if args.config is not None and not args.config.is_file():
        err.print(f"[red]config file not found: {escape(str(args.config))}[/red]")
        return EXIT_USAGE
    try:
        config = StudioConfig.load(config_path)
    except (ValueError, TypeError) as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        return EXIT_USAGE
    if config.smtp is None:
        err.print(f"[red]no [smtp] section in {escape(str(config_path))}: nothing to send through[/red]")
        return EXIT_USAGE
    layout = WarehouseLayout(args.warehouse.resolve())
    if not layout.published_db.exists():
        err.print(f"[red]no published warehouse at {escape(str(layout.published_db))}; run `studio-budget run`[/red]")
        return EXIT_USAGE
    week = week_of(date.fromisoformat(args.week) if args.week else date.today())
    summary = send_department_reports(layout, config.smtp, week, dry_run=args.dry_run)
    err.print(escape(summary.line()))
    return EXIT_FAILED if summary.failed else EXIT_OK


def run(args: argparse.Namespace) -> int:
    err = Console(stderr=True)
    if not args.landing.is_dir():
        err.print(f"[red]landing folder not found: {escape(str(args.landing))}[/red]")
        return EXIT_USAGE
    if args.config is not None and not args.config.is_file():
        err.print(f"[red]config file not found: {escape(str(args.config))}[/red]")
        return EXIT_USAGE
    from orchestration.lib.mappings import MappingError, load_mappings

    try:
        load_mappings()  # every mapping checked before anything runs: an error names its file and key
    except MappingError as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        return EXIT_USAGE
    # imported here: Dagster and dbt take seconds to import, a usage error should not wait for them
    from orchestration.defs.resources import StudioSettings
    from orchestration.lib.report import print_report, read_report, report_console
    from orchestration.refresh import RefreshRunning, refresh, refresh_lock

    settings = StudioSettings.for_run(args.landing, args.warehouse, args.as_of, args.config)
    try:
        settings.studio_config  # noqa: B018 - fail early on a bad studio.toml
    except (ValueError, TypeError) as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        return EXIT_USAGE
    layout = settings.layout
    layout.ensure()
    try:
        with (
            refresh_lock(layout),  # before the log is opened: a refused run leaves the running one's log alone
            err.status(
                f"Refreshing the warehouse from {escape(str(args.landing))} (as of {settings.as_of_date})…"
            ) as status,
            (layout.internal / "dbt_output.log").open("w", encoding="utf-8") as dbt_log,
        ):
            result = refresh(settings, ProgressLog(dbt_log, status), locked=True, full_refresh=args.full_refresh)
    except RefreshRunning as error:
        err.print(f"[red]{escape(str(error))}; nothing was done[/red]")
        return EXIT_FAILED
    err.print(
        f"loaded {result.number('lake/', 'rows_loaded'):,} rows from {result.number('lake/', 'files_accepted')} "
        f"new file(s); {result.number('lake/', 'files_skipped')} already loaded; {result.models_built} models built"
    )
    for item in result.rejected:
        err.print(f"[yellow]REJECTED[/yellow] {escape(item['file'])}: {escape('; '.join(item['reasons']))}")
        err.print(f"         report: {escape(item['report'])}")
    if not result.success:
        for failure in result.failures:
            err.print(f"[red]FAILED[/red] {escape(failure)}")
        err.print("[red]Nothing was published; the previous published warehouse is untouched.[/red]")
        err.print(f"dbt output: {layout.internal / 'dbt_output.log'}")
        return EXIT_FAILED
    print_report(read_report(layout.published_db), report_console())
    from orchestration.lib.notify import deliver_alerts

    # the same code as the alert_delivery sensor
    err.print(escape(deliver_alerts(layout, settings.studio_config.alert_webhook_env)))
    return EXIT_REJECTED if result.rejected else EXIT_OK


class ProgressLog(io.TextIOBase):
    """Takes the dbt output a run writes: keeps it in a log and shows its latest line as progress."""

    def __init__(self, log: TextIO, status: Status) -> None:
        self.log = log
        self.status = status

    def write(self, text: str) -> int:
        self.log.write(text)
        lines = [line for line in text.splitlines() if line.strip()]
        if lines:
            self.status.update(escape(lines[-1][:100]))
        return len(text)

    def flush(self) -> None:
        self.log.flush()


def report(args: argparse.Namespace) -> int:
    from orchestration.lib.report import print_report, read_report, report_console, write_reports

    layout = WarehouseLayout(args.warehouse.resolve())
    if not layout.published_db.exists():
        Console(stderr=True).print(
            f"[red]no published warehouse at {layout.published_db}; run `studio-budget run`[/red]"
        )
        return EXIT_USAGE
    if args.project:
        return project_report(layout, args.project)
    print_report(read_report(layout.published_db), report_console())
    if args.write:
        for path in write_reports(layout.published_db, layout.reports):
            Console(stderr=True).print(f"wrote {path}")
    return EXIT_OK


def project_report(layout: WarehouseLayout, project_code: str) -> int:
    import duckdb

    from orchestration.lib.report_production import print_project_production
    from orchestration.lib.report_project import (
        UnknownProject,
        print_project_cost_report,
        project_console,
        read_project_cost_report,
        write_project_cost_report_csv,
    )

    console = project_console()
    with duckdb.connect(str(layout.published_db), read_only=True) as con:
        try:
            cost_report = read_project_cost_report(con, project_code)
        except UnknownProject as error:
            Console(stderr=True).print(f"[red]{escape(str(error))}[/red]")
            return EXIT_USAGE
        print_project_cost_report(cost_report, console)
        console.print()
        print_project_production(con, console, project_code)  # the production summary under the cost report
    path = write_project_cost_report_csv(cost_report, layout.reports)
    Console(stderr=True).print(f"wrote {path}")
    return EXIT_OK


def entry_point() -> None:
    """The `studio-budget` command. Once its output is flushed, the interpreter's teardown writes to
    /dev/null: the duckdb binding reports reference leaks there that GX's SQLAlchemy engines cause."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    sys.exit(code)


if __name__ == "__main__":
    entry_point()
