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
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.lib.alerts import ALERT_FIELDS, HISTORY
from orchestration.lib.config import WarehouseLayout


def outbox_file(layout: WarehouseLayout) -> Path:
    return layout.root / "outbox" / "alerts.jsonl"


def open_alerts(published_db: Path) -> list[dict]:
    """The open alert episodes of the published warehouse (none before the first publication with alerts)."""
    if not published_db.exists():
        return []
    with duckdb.connect(str(published_db), read_only=True) as con:
        found = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'audit' AND table_name = 'alert_history'"
        ).fetchone()[0]
        if not found:
            return []
        columns = [*ALERT_FIELDS, "episode", "first_raised_at", "opened_in"]
        cursor = con.execute(
            f"SELECT {', '.join(columns)} FROM {HISTORY} WHERE cleared_at IS NULL "
            "ORDER BY first_raised_at, severity, alert_key"
        )
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def delivered_episodes(outbox: Path) -> set[tuple[str, int]]:
    """(alert_key, episode) of every alert the outbox holds; a line cut short by a crash does not count."""
    if not outbox.exists():
        return set()
    found = set()
    for line in outbox.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        found.add((record["alert_key"], int(record["episode"])))
    return found


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@contextmanager
def _outbox_lock(outbox: Path) -> Iterator[None]:
    outbox.parent.mkdir(parents=True, exist_ok=True)
    with (outbox.parent / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def deliver_to_outbox(layout: WarehouseLayout, now: datetime | None = None) -> list[dict]:
    """Append the open alert episodes the outbox does not hold yet; return them."""
    outbox = outbox_file(layout)
    with _outbox_lock(outbox):
        done = delivered_episodes(outbox)
        pending = [a for a in open_alerts(layout.published_db) if (a["alert_key"], a["episode"]) not in done]
        if not pending:
            return []
        delivered_at = (now or datetime.now(UTC)).isoformat()
        lines = [
            json.dumps({**{k: _plain(v) for k, v in alert.items()}, "delivered_at": delivered_at}, sort_keys=True)
            for alert in pending
        ]
        with outbox.open("a", encoding="utf-8") as handle:
            # a line a crash cut short stays unreadable on its own line, and its alert is written again whole
            if handle.tell() > 0 and not outbox.read_bytes().endswith(b"\n"):
                handle.write("\n")
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return pending
