"""The weekly e-mail to each department owner (SPEC §8): their own report, through the studio's SMTP server.

Each owner gets one message a week: an HTML body (and a plain-text part) with the department's report and its
figures attached as CSV, read from the published warehouse when the message is sent. A ledger,
`<warehouse>/outbox/department_reports.jsonl`, records every attempt keyed by (department, week):

- `sending` is written before the message goes and `sent` or `failed` after it; a (department, week) with a
  `sent` line is never sent again, so a rerun, a retried run or a second runner sends nothing twice;
- a `failed` send (server down, refused, an SMTP error) stays pending and is sent by the next run;
- a `sending` line with no outcome means the process died while the server had the message: it may have gone,
  so it is not sent again by itself (at most once); the summary names it for someone to check.

The password comes from the environment variable `[smtp] password_env` names, when the send happens; it is never
written to the ledger, a log or an error message (errors are recorded by kind and SMTP code only).
"""

from __future__ import annotations

import hashlib
import json
import os
import smtplib
import ssl
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import duckdb

from orchestration.lib.config import SmtpSettings, WarehouseLayout
from orchestration.lib.departments import CSV_NAME, published_departments
from orchestration.lib.notify import exclusive_lock
from orchestration.lib.report_render import load_report, render


def ledger_file(layout: WarehouseLayout) -> Path:
    return layout.root / "outbox" / "department_reports.jsonl"


def week_of(day: date) -> date:
    """The Monday of the day's week: one report per department per week."""
    return day - timedelta(days=day.weekday())


@dataclass
class DeliverySummary:
    week: date
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)  # a `sending` with no outcome: not sent again by itself
    without_owner: list[str] = field(default_factory=list)
    would_send: list[str] = field(default_factory=list)  # a dry run

    def line(self) -> str:
        """One line for the log: department codes and counts, never an address's password or the server's reply."""
        parts = [f"department reports for the week of {self.week}: {len(self.sent)} sent"]
        for label, codes in (
            ("failed (retried next run)", self.failed),
            ("already sent", self.already_sent),
            ("interrupted while sending (not resent; check and remove its `sending` line to resend)", self.uncertain),
            ("no owner e-mail", self.without_owner),
            ("would send (dry run)", self.would_send),
        ):
            if codes:
                parts.append(f"{len(codes)} {label}: {', '.join(codes)}")
        return "; ".join(parts)


def ledger_state(layout: WarehouseLayout, week: date) -> dict[str, str]:
    """Each department's last recorded state for the week: `sent`, `failed` or `sending` (a torn line is skipped)."""
    ledger = ledger_file(layout)
    state: dict[str, str] = {}
    if not ledger.exists():
        return state
    for line in ledger.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("week") != week.isoformat():
            continue
        code = record["department_code"]
        if state.get(code) != "sent":  # once sent, always sent
            state[code] = record["status"]
    return state


def _ledger_lock(ledger: Path) -> AbstractContextManager[None]:
    return exclusive_lock(ledger.parent / ".department_reports.lock")


def _record(ledger: Path, record: dict) -> None:
    with ledger.open("a", encoding="utf-8") as handle:
        # a line a crash cut short stays unreadable on its own line
        if handle.tell() > 0 and not ledger.read_bytes().endswith(b"\n"):
            handle.write("\n")
        handle.write(json.dumps(record, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _failure(error: BaseException) -> str:
    """What went wrong, by kind and SMTP code only: a server's reply or an error's text is never recorded."""
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({c for c, _ in error.recipients.values()})
        code = codes[0] if codes else None
    return type(error).__name__ + (f" (SMTP {code})" if isinstance(code, int) else "")


def message_id(department_code: str, week: date, from_address: str) -> str:
    """The same Message-ID for a department's week, so a mail client shows a duplicate once if one ever arrives."""
    digest = hashlib.sha256(f"{department_code}\x00{week.isoformat()}".encode()).hexdigest()[:20]
    domain = from_address.rsplit("@", 1)[-1].strip(" >") or "studio-budget"
    return f"<department-report.{week.isoformat()}.{digest}@{domain}>"


def department_message(
    published_db: Path, department: dict, week: date, smtp: SmtpSettings, as_of: str
) -> EmailMessage:
    """The department's report: a plain-text part, the HTML body, and its figures as a CSV attachment (the same
    report as `studio-budget report --level department`, in three formats)."""
    code = department["department_code"]
    report = load_report(published_db, "department", code)
    message = EmailMessage()
    message["Subject"] = f"{department['department_name']} ({code}): budget vs actual at {as_of}, week of {week}"
    message["From"] = smtp.from_address
    message["To"] = department["owner_email"]
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id(code, week, smtp.from_address)
    message.set_content(render(report, "text"))
    message.add_alternative(render(report, "html"), subtype="html")
    message.add_attachment(
        render(report, "csv").encode("utf-8"), maintype="text", subtype="csv", filename=CSV_NAME.format(code=code)
    )
    return message


class _Connection:
    """One SMTP session for a run, opened at the first message; a failure to open it fails every message."""

    def __init__(self, smtp: SmtpSettings, password: str | None) -> None:
        self.smtp = smtp
        self.password = password
        self.session: smtplib.SMTP | None = None
        self.refused: BaseException | None = None  # the server could not be reached: not tried again this run

    def send(self, message: EmailMessage) -> None:
        if self.refused is not None:
            raise self.refused
        if self.session is None:
            try:
                self.session = self._open()
            except Exception as error:
                self.refused = error
                raise
        try:
            self.session.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self.session = None  # the next message opens a new session
            raise

    def _open(self) -> smtplib.SMTP:
        smtp = self.smtp
        if smtp.security == "ssl":
            session: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout_seconds, context=ssl.create_default_context()
            )
        else:
            session = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
        try:
            if smtp.security == "starttls":
                session.starttls(context=ssl.create_default_context())
            if smtp.username:
                session.login(smtp.username, self.password or "")
        except BaseException:
            session.close()
            raise
        return session

    def close(self) -> None:
        if self.session is not None:
            try:
                self.session.quit()
            except (smtplib.SMTPException, OSError):
                self.session.close()
            self.session = None


def send_department_reports(
    layout: WarehouseLayout,
    smtp: SmtpSettings,
    week: date,
    environ: dict[str, str] | None = None,
    dry_run: bool = False,
) -> DeliverySummary:
    """Send the week's report to every department owner who has not had it; never raises for a failed send."""
    summary = DeliverySummary(week)
    if not layout.published_db.exists():
        return summary
    ledger = ledger_file(layout)
    environment = os.environ if environ is None else environ
    password = environment.get(smtp.password_env) if smtp.password_env else None
    with _ledger_lock(ledger), duckdb.connect(str(layout.published_db), read_only=True) as con:
        publication_id, as_of = con.execute(
            "SELECT publication_id, as_of::VARCHAR FROM audit.publications ORDER BY published_at DESC LIMIT 1"
        ).fetchone()
        state = ledger_state(layout, week)
        connection = _Connection(smtp, password)
        try:
            for department in published_departments(con):
                code = department["department_code"]
                if not department["owner_email"]:
                    summary.without_owner.append(code)
                    continue
                if state.get(code) == "sent":
                    summary.already_sent.append(code)
                    continue
                if state.get(code) == "sending":
                    summary.uncertain.append(code)
                    continue
                if dry_run:
                    summary.would_send.append(code)
                    continue
                record = {
                    "department_code": code,
                    "week": week.isoformat(),
                    "to": department["owner_email"],
                    "publication_id": publication_id,
                    "as_of": as_of,
                }
                message = department_message(layout.published_db, department, week, smtp, as_of)
                record["message_id"] = message["Message-ID"]
                _record(ledger, {**record, "status": "sending", "at": datetime.now(UTC).isoformat()})
                try:
                    if smtp.username and password is None:
                        raise LookupError(f"environment variable {smtp.password_env} is not set")
                    connection.send(message)
                except Exception as caught:  # any failure leaves the report pending for the next run
                    error = str(caught) if isinstance(caught, LookupError) else _failure(caught)
                    _record(ledger, {**record, "status": "failed", "error": error, "at": datetime.now(UTC).isoformat()})
                    summary.failed.append(code)
                    continue
                _record(ledger, {**record, "status": "sent", "at": datetime.now(UTC).isoformat()})
                summary.sent.append(code)
        finally:
            connection.close()
    return summary
