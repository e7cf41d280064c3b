"""`studio-budget`: run the pipeline through Dagster and print the report (SPEC §3).

Exit codes: 0 all loads accepted and published; 3 published, but one or more loads were
rejected; 1 nothing published (the previous publication is untouched); 2 usage error.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import io
import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.markup import escape

from orchestration.lib.config import SAMPLE_LANDING_DIR, WarehouseLayout, default_as_of
from orchestration.lib.spark import ENGINES
from orchestration.lib.terminal import Progress, counted, progress_status, terminal_console

if TYPE_CHECKING:
    from orchestration.lib.freshness import RunInputs

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3
NAMED_FILES = 3  # the run's summary names up to this many new files


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
    run.add_argument(
        "--as-of",
        type=_iso_date,
        default=None,
        help="YYYY-MM-DD (default: the landing folder's AS_OF file, else today)",
    )
    run.add_argument("--full-refresh", action="store_true", help="rebuild every model from the lake")
    run.add_argument("--config", type=Path, default=None, help="a studio.toml (default: ./studio.toml if present)")
    run.add_argument(
        "--engine",
        choices=ENGINES,
        default="duckdb",
        help="what builds the dbt models: duckdb (default) or spark (a local PySpark session; README 'Scaling out')",
    )
    report = commands.add_parser("report", help="print a report (studio, department, project) from the warehouse")
    report.add_argument("--warehouse", type=Path, default=Path("warehouse"))
    report.add_argument(
        "--level",
        choices=("studio", "department", "project"),
        default=None,
        help="studio (default), department (needs --department) or project (needs --project)",
    )
    report.add_argument("--department", metavar="CODE", help="the department's report: its own figures only")
    report.add_argument("--project", metavar="CODE", help="the project's cost report (implies --level project)")
    report.add_argument(
        "--period", metavar="YYYY-MM", help="the reporting month (default: the publication's as-of month)"
    )
    report.add_argument("--format", choices=("text", "html", "csv", "json"), default="text", help="default text")
    report.add_argument(
        "--write",
        action="store_true",
        help="also write it under <warehouse>/reports/ (the studio's text and CSV, a project's CSV, or this format)",
    )
    email = commands.add_parser("email", help="e-mail each department owner the week's report (SPEC §8)")
    email.add_argument("--warehouse", type=Path, default=Path("warehouse"))
    email.add_argument("--config", type=Path, default=None, help="a studio.toml (default: ./studio.toml if present)")
    email.add_argument("--week", type=_iso_date, default=None, help="a day of the week to send (default: this week)")
    email.add_argument("--dry-run", action="store_true", help="say whom it would send to; send nothing")
    generate = commands.add_parser("generate", help="write the sample studio at a chosen scale of ledger rows")
    generate.add_argument(
        "--actual-rows",
        type=_positive_int,
        metavar="N",
        help="actual-cost rows in all (with --next-day: the day's new postings, default the studio's own rows per day)",
    )
    generate.add_argument(
        "--next-day",
        action="store_true",
        help="add the next day's ledger file (new postings, a reversal, a late posting) to OUT and move AS_OF on",
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
    from orchestration.sample.scale import (
        BundledSampleRefused,
        NoRunningProject,
        generate_next_day,
        generate_scaled,
        sample_actual_rows,
    )
    from orchestration.sample.writer import new_studio_folder_problem

    if args.next_day:
        try:
            day, rows = generate_next_day(args.out, args.actual_rows, args.format, args.seed)
        except (FileNotFoundError, NoRunningProject, BundledSampleRefused) as error:
            terminal_console(stderr=True).print(f"[red]{escape(str(error))}[/red]")
            return EXIT_USAGE
        print(f"added {rows:,} ledger rows for {day} to {args.out}; AS_OF is now {day}")
        return EXIT_OK
    if args.actual_rows is None:
        terminal_console(stderr=True).print("[red]--actual-rows N is required (unless --next-day)[/red]")
        return EXIT_USAGE
    refusal = new_studio_folder_problem(args.out)
    if refusal:
        terminal_console(stderr=True).print(f"[red]--out {escape(refusal)}[/red]")
        return EXIT_USAGE
    counts = generate_scaled(args.out, args.actual_rows, args.format, args.seed)
    actual = sample_actual_rows(counts)
    print(f"wrote {len(counts)} landing files and AS_OF to {args.out}: {actual:,} actual-cost rows")
    return EXIT_OK


def email(args: argparse.Namespace) -> int:
    """The weekly department e-mail by hand: the same code as the schedule's job, the same ledger."""
    from orchestration.lib.config import StudioConfig
    from orchestration.lib.department_email import send_department_reports, week_of

    err = terminal_console(stderr=True)
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
        where = str(config_path) if config_path.is_file() else f"{config_path} (there is none here; or give --config)"
        err.print(f"[red]no {escape('[smtp]')} section in {escape(where)}: nothing to send through[/red]")
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
    err = terminal_console(stderr=True)
    if not args.landing.is_dir():
        err.print(f"[red]landing folder not found: {escape(str(args.landing))}[/red]")
        return EXIT_USAGE
    if args.config is not None and not args.config.is_file():
        err.print(f"[red]config file not found: {escape(str(args.config))}[/red]")
        return EXIT_USAGE
    from orchestration.lib.freshness import docs_to_be_made, is_current, loaded_before, run_inputs

    layout = WarehouseLayout(args.warehouse.resolve())
    config_file = args.config or (Path("studio.toml") if Path("studio.toml").is_file() else None)
    try:
        as_of = args.as_of or default_as_of(args.landing).isoformat()
    except ValueError as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        return EXIT_USAGE
    from orchestration.lib.mappings import MappingError, load_mappings

    try:
        mappings = load_mappings()  # every mapping checked before anything runs: an error names its file and key
    except MappingError as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        return EXIT_USAGE
    inputs = run_inputs(args.landing, layout, as_of, config_file, mappings)
    if not args.full_refresh and is_current(layout, inputs):
        return nothing_new(layout, inputs, config_file, err, args.landing, mappings)
    warn_unread_landing_files(args.landing, mappings, err)
    from orchestration.dbt_child import PREPARED_RECORD, warm_dbt
    from orchestration.lib.collector import collector_paused
    from orchestration.lib.config import DBT_PROJECT_DIR, StudioConfig
    from orchestration.lib.dbt_vars import parse_in_advance
    from orchestration.lib.refresh_lock import RefreshRunning, refresh_lock

    try:  # a bad studio.toml is told before anything is created, locked or imported
        config = StudioConfig.load(config_file)
    except (ValueError, TypeError) as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        return EXIT_USAGE
    layout.ensure()
    # the DuckDB build's parse, made by the waiting dbt while this process imports Dagster and checks the loads;
    # whether the build ran on it is recorded anew (dbt_child.PREPARED_RECORD)
    parse = parse_in_advance(config, date.fromisoformat(as_of), layout) if args.engine == "duckdb" else None
    try:
        # the lock before the log is opened (a refused run leaves the running one's log alone) and before Dagster
        # and dbt are imported (a refused run ends at once)
        with (
            refresh_lock(layout),
            removed(layout.dbt_target / PREPARED_RECORD),
            # and, when the docs page is to be made again (a new warehouse, other code), one for the docs after it
            warm_dbt(DBT_PROJECT_DIR, parse, successor=docs_to_be_made(layout, inputs.code_sha256)),
        ):
            # imported here: Dagster and dbt take seconds to import, a usage error or a run with nothing new should
            # not wait for them; meanwhile the run's dbt is imported in a process of its own (dbt_child.warm_dbt).
            # The garbage collector waits for the imports (lib/collector.py)
            with collector_paused():
                from orchestration.defs.resources import StudioSettings
                from orchestration.refresh import refresh

            settings = StudioSettings.for_run(args.landing, args.warehouse, as_of, config_file, args.engine)
            with (
                progress_status(
                    err, f"Refreshing the warehouse from {escape(str(args.landing))} (as of {settings.as_of_date})…"
                ) as status,
                (layout.internal / "dbt_output.log").open("w", encoding="utf-8") as dbt_log,
            ):
                before = file_identity(layout.published_db)
                result = refresh(
                    settings, ProgressLog(dbt_log, status), locked=True, full_refresh=args.full_refresh, inputs=inputs
                )
                # another published file is in place (one rename), whether or not the publish step ended
                replaced = file_identity(layout.published_db) not in (None, before)
    except RefreshRunning as error:
        err.print(f"[red]{escape(str(error))}; nothing was done[/red]")
        return EXIT_FAILED
    from orchestration.defs.plan import load_warnings
    from orchestration.lib.report import print_report, read_report, report_console

    loaded = result.names("lake/", "files_loaded")
    # a day's delivery or two is named; the first run's twenty files are counted
    named = f" ({escape(', '.join(loaded))})" if 0 < len(loaded) <= NAMED_FILES else ""
    err.print(
        f"loaded {counted(result.number('lake/', 'rows_loaded'), 'row')} from {counted(len(loaded), 'new file')}"
        f"{named}; "
        f"{loaded_before(layout, inputs, loaded):,} already loaded; "
        + (f"{len(result.rejected)} rejected; " if result.rejected else "")
        + f"{result.models_built} models built"
        + (f", {result.seeds_built} seeds loaded" if result.seeds_built else "")
    )
    kept = "" if result.scope.everything else "; the other models' tables are kept, their inputs unchanged"
    err.print(f"refreshed {escape(result.scope.describe())}{kept}")
    print_rejections(result.rejected, err)
    for item in load_warnings(result.metadata):
        for warning in item["warnings"]:
            err.print(f"[yellow]WARNING[/yellow] {escape(item['file'])}: {escape(warning)}")
    for failure in result.failures:
        err.print(f"[red]FAILED[/red] {escape(failure)}")
    from orchestration.defs.publish import PUBLISHED

    # the publish step ended: the file and its exports are the new publication (other steps may have failed)
    published = PUBLISHED.to_user_string() in result.metadata
    if not result.success and not published and replaced:  # the file renamed in, the exports not switched after it
        err.print(
            f"[red]{escape(str(layout.published_db))} was replaced but its Parquet exports were not switched "
            "(exports/ is still the previous publication's); run again to publish whole.[/red]"
        )
        return EXIT_FAILED
    if not result.success and not published:
        err.print("[red]Nothing was published; the previous published warehouse is untouched.[/red]")
        err.print(f"dbt output: {escape(str(layout.internal / 'dbt_output.log'))}")
        err.print(f"the failure in full: {escape(str(result.log_path))}")
        return EXIT_FAILED
    from orchestration.refresh import record_if_clean, stale_sites

    for key in stale_sites(result.metadata):
        error = str(getattr(result.metadata[key]["error"], "value", result.metadata[key]["error"]))
        err.print(f"[yellow]{key} not refreshed[/yellow] (its previous pages stay): {escape(error)}")
    if result.success:
        record_if_clean(settings, inputs, result.metadata)  # the same as a run Dagster starts (defs/guard.py)
    else:  # published, and a step failed: not a publication to stand on, the next run does it again
        err.print(
            f"[yellow]Published {escape(str(layout.published_db))}; the step(s) above failed and left their "
            "outputs as the last run did. The next run does them again.[/yellow]"
        )
        err.print(f"the failure in full: {escape(str(result.log_path))}")
    print_report(read_report(layout.published_db), report_console())
    from orchestration.lib.notify import deliver_alerts

    # the same code as the alert_delivery sensor
    err.print(escape(deliver_alerts(layout, settings.studio_config.alert_webhook_env)))
    return EXIT_REJECTED if result.rejected else EXIT_OK


@contextlib.contextmanager
def removed(path: Path) -> Iterator[None]:
    """A block that starts with `path` gone (a record the block writes anew, or not at all)."""
    path.unlink(missing_ok=True)
    yield


def file_identity(path: Path) -> tuple[int, int, int] | None:
    """What tells one file at a path from the next put there by a rename (its inode, change time and size)."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


def warn_unread_landing_files(landing: Path, mappings: dict, err: Console) -> None:
    """Name the landing folder's files no refresh reads (a misspelt name would otherwise sit there unseen)."""
    from orchestration.lib.mappings import unread_landing_files, unread_landing_files_message

    unread = unread_landing_files(landing, mappings)
    if unread:
        err.print(f"[yellow]NOT READ[/yellow] {escape(unread_landing_files_message(unread, mappings))}")


def print_rejections(rejected: list[dict], err: Console) -> None:
    """Each rejected landing file with its reasons, its quarantine report and its Data Docs page."""
    for item in rejected:
        err.print(f"[yellow]REJECTED[/yellow] {escape(item['file'])}: {escape('; '.join(item['reasons']))}")
        err.print(f"         report: {escape(item['report'])}")
        if item.get("data_docs"):
            err.print(f"         data docs: {escape(item['data_docs'])}")


def nothing_new(
    layout: WarehouseLayout, inputs: RunInputs, config_file: Path | None, err: Console, landing: Path, mappings: dict
) -> int:
    """The published warehouse is the clean publication of these very inputs: say so, name again the files its run
    rejected that are still in landing (the gate would reject them again), print its report and retry any alert
    delivery still pending, without starting Dagster or dbt. Exits 3 while a rejected file is still there."""
    from orchestration.lib.config import StudioConfig
    from orchestration.lib.freshness import recorded_rejections
    from orchestration.lib.notify import deliver_alerts
    from orchestration.lib.report import print_report, read_report, report_console

    err.print(
        f"nothing new: no new or changed landing file, the same as-of ({inputs.as_of}), config and code as the last "
        f"publication; {escape(str(layout.published_db))} is current"
    )
    present = {name for name, _ in inputs.landing}
    rejected = [item for item in recorded_rejections(layout) if item["file"] in present]
    print_rejections(rejected, err)
    warn_unread_landing_files(landing, mappings, err)
    print_report(read_report(layout.published_db), report_console())
    err.print(escape(deliver_alerts(layout, StudioConfig.load(config_file).alert_webhook_env)))
    return EXIT_REJECTED if rejected else EXIT_OK


class ProgressLog(io.TextIOBase):
    """Takes the dbt output a run writes: keeps it in a log and shows its latest line as progress."""

    def __init__(self, log: TextIO, status: Progress) -> None:
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
    err = terminal_console(stderr=True)
    level = args.level or ("project" if args.project else "department" if args.department else "studio")
    if (args.project and level != "project") or (args.department and level != "department"):
        err.print(f"[red]--project and --department go with their own level, not --level {level}[/red]")
        return EXIT_USAGE
    if level == "department" and not args.department:
        err.print("[red]--level department needs --department CODE[/red]")
        return EXIT_USAGE
    if level == "project" and not args.project:
        err.print("[red]--level project needs --project CODE[/red]")
        return EXIT_USAGE
    layout = WarehouseLayout(args.warehouse.resolve())
    if not layout.published_db.exists():
        err.print(f"[red]no published warehouse at {escape(str(layout.published_db))}; run `studio-budget run`[/red]")
        return EXIT_USAGE
    from orchestration.lib.report import atomic_write, report_console, write_reports
    from orchestration.lib.report_project import project_console
    from orchestration.lib.report_render import ReportRequestError, load_report, print_text, render, report_file_name

    key = args.project if level == "project" else args.department
    try:
        loaded = load_report(layout.published_db, level, key, args.period)
    except ReportRequestError as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        return EXIT_USAGE
    if args.format == "text":
        console = project_console() if level == "project" else report_console()
        print_text(loaded, console)
    else:
        sys.stdout.write(render(loaded, args.format))
    written: list[Path] = []

    def write(name: str, format_: str) -> None:
        path = layout.reports / report_file_name(level, name, format_)
        if path not in written:
            layout.reports.mkdir(parents=True, exist_ok=True)
            atomic_write(path, render(loaded, format_))
            written.append(path)

    if level == "project" and loaded.project is not None:
        try:  # as always; a reader who may not write into the warehouse still gets the report printed
            write(loaded.project.cost.project_code, "csv")
        except OSError as error:
            err.print(f"[yellow]the project's CSV was not written: {escape(str(error))}[/yellow]")
    elif level == "studio" and args.write:
        written.extend(write_reports(layout.published_db, layout.reports))
    if args.write and not (level == "studio" and args.format == "text"):  # the studio's text: write_reports
        write(key, args.format)
    for path in written:
        err.print(f"wrote {escape(str(path))}")
    return EXIT_OK


def entry_point() -> None:
    """The `studio-budget` command. It ends once its output is flushed, without the interpreter's teardown: the
    teardown frees every object the run's libraries left (Dagster's definitions, dbt's manifest, Great
    Expectations, whose SQLAlchemy engines also make the duckdb binding report reference leaks), which took about
    2 s of a 22 s day's refresh (measured). Nothing of the command's is left to it: its files are written through
    `with` blocks, its DuckDB connections closed, its Dagster instance disposed (refresh.refresh). What the
    libraries registered to run at exit still runs (logging's flush, temporary folders' finalizers): only the
    freeing of objects is skipped."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # the command's output ends here, libraries' last words aside
    atexit._run_exitfuncs()  # what sys.exit would run first
    os._exit(code)


if __name__ == "__main__":
    entry_point()
