"""Delivery of new alerts (SPEC §7): appended once to `<warehouse>/outbox/alerts.jsonl`.

The outbox is its own record of what it delivered: an alert episode (`alert_key`, `episode`) already in
it is never written again, so a rerun, or the sensor and `studio-budget run` both looking, delivers
nothing twice. Delivery reads the published warehouse only; a lock keeps two deliverers apart.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.lib.alerts import ALERT_FIELDS, HISTORY
from orchestration.lib.config import WarehouseLayout, in_process_memory_limit
from orchestration.lib.sql import literal
from orchestration.lib.terminal import counted


def outbox_file(layout: WarehouseLayout) -> Path:
    return layout.root / "outbox" / "alerts.jsonl"


ALERT_BATCH = 10_000


def open_alert_batches(
    published_db: Path, batch: int | None = None, delivered: Path | None = None
) -> Iterator[list[dict]]:
    """The open alert episodes of the published warehouse, oldest first, a batch at a time (a studio with a
    million open alerts is read without holding them all; none before the first publication with alerts).
    With `delivered` (the outbox): only the episodes it does not hold, found by DuckDB, which reads the outbox
    (its JSON reader skips a line a crash cut short, whose alert then counts as not delivered): at 10M ledger
    rows, 103,302 open alerts, a delivery of nothing new took 1.9 s read into Python and takes 0.3 s."""
    if not published_db.exists():
        return
    config = {"memory_limit": in_process_memory_limit("1GB")}  # a million alerts are sorted within it
    with duckdb.connect(str(published_db), read_only=True, config=config) as con:
        found = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'audit' AND table_name = 'alert_history'"
        ).fetchone()[0]
        if not found:
            return
        columns = [*ALERT_FIELDS, "episode", "first_raised_at", "opened_in"]
        done = ""
        if delivered is not None and delivered.is_file() and delivered.stat().st_size:
            done = (
                "ANTI JOIN (SELECT alert_key, episode FROM read_json("
                f"'{literal(delivered)}', format = 'newline_delimited', ignore_errors = true, "
                "columns = {alert_key: 'VARCHAR', episode: 'INTEGER'}) WHERE alert_key IS NOT NULL) AS delivered "
                "USING (alert_key, episode) "
            )
        cursor = con.execute(
            f"SELECT {', '.join(columns)} FROM {HISTORY} {done}WHERE cleared_at IS NULL "
            "ORDER BY first_raised_at, severity, alert_key"
        )
        while rows := cursor.fetchmany(batch or ALERT_BATCH):
            yield [dict(zip(columns, row, strict=True)) for row in rows]


def _outbox_line(alert: dict, delivered_at: str) -> str:
    return json.dumps({**{k: _plain(v) for k, v in alert.items()}, "delivered_at": delivered_at}, sort_keys=True) + "\n"


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@contextmanager
def exclusive_lock(lock_file: Path) -> Iterator[None]:
    """One process at a time past this point (an outbox or ledger being read and appended to)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _outbox_lock(outbox: Path) -> AbstractContextManager[None]:
    return exclusive_lock(outbox.parent / ".lock")


def deliver_to_outbox(layout: WarehouseLayout, now: datetime | None = None) -> list[dict]:
    """Append the open alert episodes the outbox does not hold yet; return them."""
    delivered: list[dict] = []
    append_new_alerts(layout, now, delivered)
    return delivered


def append_new_alerts(layout: WarehouseLayout, now: datetime | None = None, collect: list[dict] | None = None) -> int:
    """Append the open alert episodes the outbox does not hold yet, a batch at a time; return how many. Each
    line is whole or unreadable: a run killed between batches leaves the rest for the next delivery."""
    outbox = outbox_file(layout)
    delivered_at = (now or datetime.now(UTC)).isoformat()
    count = 0
    with _outbox_lock(outbox):
        handle = None
        try:
            for new in open_alert_batches(layout.published_db, delivered=outbox):
                if handle is None:
                    handle = outbox.open("a", encoding="utf-8")
                    # a line a crash cut short stays unreadable on its own line, and its alert is written again whole
                    if handle.tell() > 0 and not _ends_with_newline(outbox):
                        handle.write("\n")
                handle.write("".join(_outbox_line(a, delivered_at) for a in new))
                count += len(new)
                if collect is not None:
                    collect.extend(new)
            if handle is not None:
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            if handle is not None:
                handle.close()
    return count


# --- the webhook (SPEC §7): Slack-compatible, from the outbox, retried until it answers 2xx ---

WEBHOOK_BATCH = 50


def webhook_ledger(layout: WarehouseLayout) -> Path:
    """What the webhook was sent: one line per attempt and alert (delivered or failed), never the URL."""
    return layout.root / "outbox" / "webhook.jsonl"


def webhook_pending(layout: WarehouseLayout) -> list[dict]:
    """Alerts of the outbox the webhook has not accepted yet, each with its failed attempts so far."""
    outbox = outbox_file(layout)
    if not outbox.exists():
        return []
    accepted: set[tuple[str, int]] = set()
    attempts: dict[tuple[str, int], int] = {}
    ledger = webhook_ledger(layout)
    if ledger.exists():
        for line in ledger.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            key = (record["alert_key"], int(record["episode"]))
            if record["status"] == "delivered":
                accepted.add(key)
            else:
                attempts[key] = attempts.get(key, 0) + 1
    pending, seen = [], set()
    for line in outbox.read_text(encoding="utf-8").splitlines():
        try:
            alert = json.loads(line)
        except json.JSONDecodeError:
            continue
        key = (alert["alert_key"], int(alert["episode"]))
        if key not in accepted and key not in seen:
            seen.add(key)
            pending.append({**alert, "attempts": attempts.get(key, 0)})
    return pending


def slack_payload(alerts: list[dict]) -> dict:
    """A Slack incoming-webhook message: one line of text per alert."""
    lines = [f"[{a['severity']}] {a['message']} → {a['notify_role']}" for a in alerts]
    return {"text": f"{counted(len(alerts), 'new budget alert')}\n" + "\n".join(lines)}


def _post(url: str, payload: dict, timeout: float) -> None:
    import urllib.request

    request = urllib.request.Request(
        url, data=json.dumps(payload).encode("utf-8"), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


def _failure(error: BaseException) -> str:
    """What went wrong, without the URL: an error's text may carry it, so only its kind and HTTP status."""
    status = getattr(error, "code", None)
    return f"{type(error).__name__}" + (f" (HTTP {status})" if isinstance(status, int) else "")


def deliver_to_webhook(layout: WarehouseLayout, url: str, timeout: float = 10.0) -> tuple[int, int]:
    """Post the pending alerts; return (delivered, still pending). A failure never raises: it is recorded
    against each alert of the batch, which stays pending for the next run."""
    ledger = webhook_ledger(layout)
    delivered = failed = 0
    with _outbox_lock(ledger):
        pending = webhook_pending(layout)
        for start in range(0, len(pending), WEBHOOK_BATCH):
            batch = pending[start : start + WEBHOOK_BATCH]
            at = datetime.now(UTC).isoformat()
            try:
                _post(url, slack_payload(batch), timeout)
                status, error = "delivered", None
                delivered += len(batch)
            except Exception as caught:  # any failure leaves the alerts pending
                status, error = "failed", _failure(caught)
                failed += len(batch)
            with ledger.open("a", encoding="utf-8") as handle:
                for alert in batch:
                    record = {"alert_key": alert["alert_key"], "episode": alert["episode"], "status": status, "at": at}
                    if error:
                        record["error"] = error
                    handle.write(json.dumps(record, sort_keys=True) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
    return delivered, failed


def delivered_line(new: int, outbox: Path) -> str:
    """How many new alerts went to the outbox, in words: "no new alerts", "1 new alert", "156 new alerts"."""
    if new == 0:
        return f"no new alerts (outbox: {outbox})"
    return f"{counted(new, 'new alert')} delivered to {outbox}"


def deliver_alerts(layout: WarehouseLayout, webhook_env: str | None, environ: dict[str, str] | None = None) -> str:
    """The delivery after a publish (the sensor and `studio-budget run`): the outbox always, the webhook when
    its environment variable is set. Returns one line for the log, which never holds the URL."""
    summary = delivered_line(append_new_alerts(layout), outbox_file(layout))
    url = (environ if environ is not None else os.environ).get(webhook_env or "", "") if webhook_env else ""
    if url:
        sent, pending = deliver_to_webhook(layout, url)
        summary += f"; webhook: {sent} sent" + (f", {pending} pending (retried next run)" if pending else "")
    return summary
