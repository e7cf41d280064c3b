"""The weekly department e-mail (SPEC §8) against a real SMTP server on 127.0.0.1 (aiosmtpd, with AUTH).

Each owner of the sample studio gets exactly one message a week: their department's report as the HTML body,
its figures as a CSV attachment, no other department's code in it; a second run sends nothing; a run while the
server is down records each report pending, and the run after the server is back sends each exactly once. The
password, given through an environment variable, appears in no ledger, log, output or error.
"""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import logging
import os
import re
import shutil
import socket
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from orchestration.lib.config import DepartmentDelivery, SmtpSettings, StudioConfig, WarehouseLayout
from orchestration.lib.department_email import ledger_file, send_department_reports, week_of
from tests.conftest import CliRun, query

PASSWORD = "s3cret-Pa55word-for-the-test"
USERNAME = "reports@northlight.example"
PASSWORD_ENV = "STUDIO_TEST_SMTP_PASSWORD"
WEEK = date(2026, 10, 12)  # a Monday
# a loopback test server takes AUTH without TLS (it warns so)
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
OWNERS = dict(
    duckdb.sql(
        "SELECT department_code, owner_email FROM "
        f"read_csv('{Path(__file__).parents[1] / 'seeds' / 'sample_studio' / 'departments.csv'}')"
    ).fetchall()
)


class Mailbox:
    """What the SMTP server accepted: (from, recipients, the message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # the name aiosmtpd calls
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


def authenticate(server: object, session: object, envelope: object, mechanism: str, auth_data: object) -> AuthResult:
    accepted = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=accepted, handled=False)  # not handled: the server answers 535 itself


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that requires AUTH (plain text: no TLS on a loopback test). Until it starts,
    its port is held by a socket bound but not listening: a client is refused, and no other process takes it."""

    def __init__(self) -> None:
        self.reserved: socket.socket | None = socket.socket()
        self.reserved.bind(("127.0.0.1", 0))
        self.port = self.reserved.getsockname()[1]
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def _release_port(self) -> None:
        if self.reserved is not None:
            self.reserved.close()
            self.reserved = None

    def start(self) -> None:
        self._release_port()
        self.controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticate,
            auth_required=True,
            auth_require_tls=False,
            auth_exclude_mechanism=["LOGIN"],  # PLAIN only: a wrong password is one 535, not a second try
        )
        self.controller.start()

    def stop(self) -> None:
        self._release_port()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def published(sample_run: CliRun, tmp_path: Path) -> WarehouseLayout:
    """A warehouse holding a copy of the sample's published file (delivery reads nothing else)."""
    assert sample_run.exit_code == 0, sample_run.stderr
    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.root.mkdir()
    shutil.copy2(sample_run.warehouse / "studio.duckdb", layout.published_db)
    return layout


def settings_for(port: int) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1",
        port=port,
        username=USERNAME,
        password_env=PASSWORD_ENV,
        from_address="Northlight reports <reports@northlight.example>",
        security="none",
        timeout_seconds=5,
    )


def ledger(layout: WarehouseLayout) -> list[dict]:
    return [json.loads(line) for line in ledger_file(layout).read_text(encoding="utf-8").splitlines()]


def attachment_rows(message: email.message.EmailMessage) -> list[dict]:
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/csv"
    return list(csv.DictReader(io.StringIO(attachment.get_content())))


def test_each_owner_gets_their_report_once_and_a_failed_send_is_retried_once(
    published: WarehouseLayout, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    smtp = settings_for(smtp_server.port)
    environ = {PASSWORD_ENV: PASSWORD}

    down = send_department_reports(published, smtp, WEEK, environ)  # nothing listens on the port yet
    assert sorted(down.failed) == sorted(OWNERS) and down.sent == []
    assert {r["status"] for r in ledger(published)} == {"sending", "failed"}
    assert {r["error"] for r in ledger(published) if r["status"] == "failed"} == {"ConnectionRefusedError"}

    smtp_server.start()
    retried = send_department_reports(published, smtp, WEEK, environ)
    assert sorted(retried.sent) == sorted(OWNERS) and retried.failed == []
    again = send_department_reports(published, smtp, WEEK, environ)
    assert again.sent == [] and sorted(again.already_sent) == sorted(OWNERS)

    received = smtp_server.mailbox.messages
    assert sorted(to for _, tos, _ in received for to in tos) == sorted(OWNERS.values())  # one each, no more
    for department, owner in OWNERS.items():
        (message,) = [m for _, tos, m in received if tos == [owner]]
        assert message["To"] == owner
        html = message.get_body(("html",)).get_content()
        rows = attachment_rows(message)
        # the department's total, fiscal year to date at as-of, from the published mart (a second source)
        ytd_actual = query(
            published.published_db,
            "SELECT ytd_actual FROM marts.mart_department_variance WHERE department_code = ? "
            "ORDER BY period DESC LIMIT 1",
            [department],
        )[0][0]
        (total,) = [r for r in rows if r["row_type"] == "department"]
        assert (total["department_code"], Decimal(total["actual"])) == (department, ytd_actual)
        assert f"{ytd_actual:,.0f}" in html  # the page shows whole units; the CSV above has the cents
        accounts = {r["department_code"] for r in rows if r["row_type"] == "account" and r["account_type"] != "revenue"}
        assert accounts <= {department}  # its own accounts (if any this fiscal year), none of another department's
        others = [d for d in OWNERS if d != department]
        for part in (html, message.get_body(("plain",)).get_content(), json.dumps(rows)):
            assert not [d for d in others if re.search(rf"(?<![A-Za-z0-9_-]){d}(?![A-Za-z0-9_-])", part)]

    # the password is in no ledger line, no file of the warehouse, no log record, no output
    out, err = capfd.readouterr()
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    texts = [out, err, *ours, down.line(), retried.line()]
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in published.root.rglob("*.jsonl")]
    assert not [t for t in texts if PASSWORD in t]
    assert not [p for p in published.root.rglob("*") if p.is_file() and PASSWORD.encode() in p.read_bytes()]


def test_a_wrong_password_stays_pending_and_names_no_secret(
    published: WarehouseLayout, smtp_server: SmtpServer
) -> None:
    smtp_server.start()
    wrong = "not-the-password-" + PASSWORD[::-1]
    summary = send_department_reports(published, settings_for(smtp_server.port), WEEK, {PASSWORD_ENV: wrong})
    assert sorted(summary.failed) == sorted(OWNERS) and smtp_server.mailbox.messages == []
    errors = {r["error"] for r in ledger(published) if r["status"] == "failed"}
    assert errors == {"SMTPAuthenticationError (SMTP 535)"}
    assert wrong not in ledger_file(published).read_text(encoding="utf-8")
    # the variable unset: recorded by its name, never a value
    unset = send_department_reports(published, settings_for(smtp_server.port), WEEK, {})
    assert sorted(unset.failed) == sorted(OWNERS)
    assert ledger(published)[-1]["error"] == f"environment variable {PASSWORD_ENV} is not set"


def test_a_send_cut_short_by_a_crash_is_not_sent_again(published: WarehouseLayout, smtp_server: SmtpServer) -> None:
    """`sending` with no outcome: the server may have the message, so it is left for a person (at most once)."""
    smtp_server.start()
    ledger_file(published).parent.mkdir(parents=True)
    ledger_file(published).write_text(
        json.dumps({"department_code": "AUDIO", "week": WEEK.isoformat(), "status": "sending"}) + "\n" + '{"depa',
        encoding="utf-8",
    )
    summary = send_department_reports(published, settings_for(smtp_server.port), WEEK, {PASSWORD_ENV: PASSWORD})
    assert summary.uncertain == ["AUDIO"]
    assert sorted(summary.sent) == sorted(d for d in OWNERS if d != "AUDIO")
    assert OWNERS["AUDIO"] not in [to for _, tos, _ in smtp_server.mailbox.messages for to in tos]
    assert "interrupted while sending" in summary.line()
    # the next week is a new report: AUDIO gets it
    assert (
        "AUDIO"
        in send_department_reports(
            published, settings_for(smtp_server.port), week_of(date(2026, 10, 21)), {PASSWORD_ENV: PASSWORD}
        ).sent
    )


def test_the_weekly_job_sends_through_dagster_and_its_retry_sends_nothing_twice(
    published: WarehouseLayout, smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.defs.departments import SEND_OP, department_email_job
    from orchestration.defs.resources import StudioSettings

    config = tmp_path / "studio.toml"
    config.write_text(
        "[departments]\nemail_retries = 0\n"  # the test plays the retry itself, at once
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nusername = "{USERNAME}"\n'
        f'password_env = "{PASSWORD_ENV}"\nfrom_address = "reports@northlight.example"\nsecurity = "none"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    settings = StudioSettings.for_run(tmp_path, published.root, "2026-10-15", config)
    email_job = department_email_job(settings.studio_config.departments)
    run_config = {"ops": {SEND_OP: {"config": {"week": "2026-10-14"}}}}  # a Wednesday: the week of the 12th

    down = email_job.execute_in_process(resources={"settings": settings}, run_config=run_config, raise_on_error=False)
    assert not down.success  # the op fails so that Dagster's retry policy runs it again
    smtp_server.start()
    for _ in range(2):  # the retry, then a rerun of the same week
        assert email_job.execute_in_process(resources={"settings": settings}, run_config=run_config).success
    assert len(smtp_server.mailbox.messages) == len(OWNERS)
    assert {r["week"] for r in ledger(published)} == {"2026-10-12"}
    logged = [str(event) for event in down.all_events]
    assert logged and not [e for e in logged if PASSWORD in e]


def test_the_schedule_asks_for_one_run_per_week() -> None:
    from dagster import RetryPolicy, build_schedule_context

    from orchestration.defs.departments import (
        SEND_OP,
        department_email_job,
        department_email_schedule,
        send_reports_op,
    )

    delivery = DepartmentDelivery(email_schedule="0 7 * * 1", email_timezone="Europe/London")
    schedule = department_email_schedule(delivery, department_email_job(delivery), enabled=True)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 7 * * 1", "Europe/London")
    monday = datetime(2026, 10, 12, 7, 0, tzinfo=ZoneInfo("Europe/London"))
    (request,) = schedule.evaluate_tick(build_schedule_context(scheduled_execution_time=monday)).run_requests
    assert request.run_key == "department-reports-2026-10-12"
    assert request.run_config == {"ops": {SEND_OP: {"config": {"week": "2026-10-12"}}}}
    # a run that could not send everything runs again: by default 3 times, 10 minutes apart
    assert send_reports_op(DepartmentDelivery()).retry_policy == RetryPolicy(max_retries=3, delay=600)


def test_smtp_settings_are_checked_and_never_take_the_password(tmp_path: Path) -> None:
    config = tmp_path / "studio.toml"
    config.write_text(
        '[departments]\npublish = true\nemail_timezone = "Europe/London"\n'
        '[smtp]\nhost = "smtp.example.com"\nport = 465\nusername = "u"\npassword_env = "SMTP_PASSWORD"\n'
        'from_address = "reports@example.com"\nsecurity = "ssl"\n',
        encoding="utf-8",
    )
    loaded = StudioConfig.load(config)
    assert loaded.departments == DepartmentDelivery(publish=True, email_timezone="Europe/London")
    assert loaded.smtp == SmtpSettings("smtp.example.com", "reports@example.com", 465, "u", "SMTP_PASSWORD", "ssl")
    assert StudioConfig.load(None).departments.publish is False and StudioConfig.load(None).smtp is None
    for bad, message in (
        ('[smtp]\nhost = "h"\nfrom_address = "a@b"\npassword = "hunter2"\n', "takes no password"),
        ('[smtp]\nhost = "h"\nfrom_address = "a@b"\nusername = "u"\npassword_env = "hunter2!"\n', "must name an"),
        ('[smtp]\nhost = "h"\nfrom_address = "a@b"\nsecurity = "tls"\n', "security must be one of"),
        ('[smtp]\nhost = "h"\nfrom_address = "a@b"\nusername = "u"\n', "no password_env"),
        ("[departments]\npublsh = true\n", "unknown key"),
        ('[departments]\nemail_timezone = "Mars/Olympus"\n', "not a time zone"),
    ):
        config.write_text(bad, encoding="utf-8")
        with pytest.raises(ValueError, match=message) as raised:
            StudioConfig.load(config)
        assert "hunter2" not in str(raised.value)


def test_no_smtp_section_sends_nothing_and_says_so(
    published: WarehouseLayout, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.cli import EXIT_USAGE, main

    config = tmp_path / "studio.toml"
    config.write_text("[departments]\npublish = true\n", encoding="utf-8")
    assert main(["email", "--warehouse", str(published.root), "--config", str(config)]) == EXIT_USAGE
    assert f"no [smtp] section in {config}: nothing to send through" in capsys.readouterr().err
    # no settings file at all: the message says there is none where it looked
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["email", "--warehouse", str(published.root)]) == EXIT_USAGE
    assert "no [smtp] section in studio.toml (there is none here; or give --config)" in capsys.readouterr().err
    assert not ledger_file(published).exists()
    assert os.environ.get(PASSWORD_ENV) is None


def test_a_dry_run_names_whom_it_would_send_to_and_sends_nothing(
    published: WarehouseLayout, smtp_server: SmtpServer, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from orchestration.cli import EXIT_OK, main

    smtp_server.start()
    config = tmp_path / "studio.toml"
    config.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nfrom_address = "r@northlight.example"\n'
        'security = "none"\n',
        encoding="utf-8",
    )
    code = main(["email", "--warehouse", str(published.root), "--config", str(config), "--dry-run"])
    assert code == EXIT_OK and smtp_server.mailbox.messages == []
    assert f"{len(OWNERS)} would send (dry run)" in capsys.readouterr().err
    assert not ledger_file(published).exists()
