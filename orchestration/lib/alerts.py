"""Alert state across refreshes (SPEC §7): when each alert was first raised, and when it cleared.

dbt rebuilds `marts.mart_variance_alerts` from scratch at every refresh and cannot see earlier
publications, so the state lives in the published warehouse's `audit.alert_history`, carried from one
publication to the next like `audit.publications`. An alert's identity is its `alert_key` (type, level,
scope, scope key, period); each time it starts to hold it opens an episode:
- an alert still holding keeps its episode and `first_raised_at` (its figures are refreshed);
- an open episode whose alert no longer holds is closed with `cleared_at`;
- an alert holding again after it cleared opens the next episode, raised anew.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.lib.lake import empty_select
from orchestration.lib.sql import literal

HISTORY = "audit.alert_history"

# the columns of marts.mart_variance_alerts an episode keeps (its latest figures)
ALERT_FIELDS = {
    "alert_key": "VARCHAR",
    "alert_type": "VARCHAR",
    "level": "VARCHAR",
    "scope": "VARCHAR",
    "scope_key": "VARCHAR",
    "project_code": "VARCHAR",
    "department_code": "VARCHAR",
    "account_code": "VARCHAR",
    "period": "DATE",
    "budget": "DECIMAL(38,2)",
    "actual": "DECIMAL(38,2)",
    "metric_name": "VARCHAR",
    "metric_value": "DOUBLE",
    "threshold_value": "DOUBLE",
    "severity": "VARCHAR",
    "notify_role": "VARCHAR",
    "notify_email": "VARCHAR",
    "message": "VARCHAR",
}
STATE_FIELDS = {
    "episode": "INTEGER",
    "first_raised_at": "TIMESTAMPTZ",
    "last_seen_at": "TIMESTAMPTZ",
    "cleared_at": "TIMESTAMPTZ",
    "opened_in": "VARCHAR",
    "cleared_in": "VARCHAR",
}
HISTORY_FIELDS = {**ALERT_FIELDS, **STATE_FIELDS}


def merge_alert_history(
    con: duckdb.DuckDBPyConnection,
    current: str,
    previous: str | None,
    target: str,
    publication_id: str,
    now: datetime,
) -> None:
    """Create `target` (the new history) from the alerts holding now (`current`) and the previous history.

    `current` holds the columns of ALERT_FIELDS; `previous` those of HISTORY_FIELDS, or is None (first run)."""
    fresh = ", ".join(f'c."{name}"' for name in ALERT_FIELDS)
    kept = ", ".join(f'o."{name}"' for name in ALERT_FIELDS)
    columns = ", ".join(f'"{name}"' for name in HISTORY_FIELDS)
    prev = previous or f"({empty_select(HISTORY_FIELDS)})"
    con.execute(
        f"""
        CREATE TABLE {target} AS
        WITH prev AS (SELECT {columns} FROM {prev}),
        open_prev AS (SELECT * FROM prev WHERE cleared_at IS NULL),
        cur AS (SELECT {", ".join(f'"{n}"' for n in ALERT_FIELDS)} FROM {current})
        -- episodes closed earlier stay as they were
        SELECT {columns} FROM prev WHERE cleared_at IS NOT NULL
        UNION ALL
        -- still holding: the episode and when it was first raised are kept
        SELECT {fresh}, o.episode, o.first_raised_at, $now, NULL, o.opened_in, NULL
        FROM cur AS c JOIN open_prev AS o ON o.alert_key = c.alert_key
        UNION ALL
        -- no longer holding: closed now
        SELECT {kept}, o.episode, o.first_raised_at, o.last_seen_at, $now, o.opened_in, $publication
        FROM open_prev AS o WHERE o.alert_key NOT IN (SELECT alert_key FROM cur)
        UNION ALL
        -- holding and not open: a new episode, raised now
        SELECT {fresh},
            coalesce((SELECT max(p.episode) FROM prev AS p WHERE p.alert_key = c.alert_key), 0) + 1,
            $now, $now, NULL, $publication, NULL
        FROM cur AS c WHERE c.alert_key NOT IN (SELECT alert_key FROM open_prev)
        """,
        {"now": now, "publication": publication_id},
    )


def carry_alert_history(
    con: duckdb.DuckDBPyConnection, previous_db: Path | None, publication_id: str, now: datetime
) -> int:
    """In a publication being written: audit.alert_history from its marts and the previous publication's history.

    Returns how many episodes this publication opens."""
    has_alerts = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'marts' AND table_name = 'mart_variance_alerts'"
    ).fetchone()[0]
    current = "marts.mart_variance_alerts" if has_alerts else f"({empty_select(HISTORY_FIELDS)})"
    previous = None
    if previous_db is not None:
        con.execute(f"ATTACH '{literal(previous_db)}' AS previous_alerts (READ_ONLY)")
        found = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'previous_alerts' "
            "AND schema_name = 'audit' AND table_name = 'alert_history'"
        ).fetchone()[0]
        previous = "previous_alerts.audit.alert_history" if found else None
    try:
        merge_alert_history(con, current, previous, HISTORY, publication_id, now)
    finally:
        if previous_db is not None:
            con.execute("DETACH previous_alerts")
    return int(con.execute(f"SELECT count(*) FROM {HISTORY} WHERE opened_in = ?", [publication_id]).fetchone()[0])
