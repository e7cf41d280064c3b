"""Alert state across refreshes (SPEC §7): raised, continuing, cleared, raised again; on small DuckDB tables."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from orchestration.lib.alerts import ALERT_FIELDS, HISTORY_FIELDS, merge_alert_history
from orchestration.lib.lake import empty_select

T1 = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
T2 = datetime(2025, 3, 2, 6, 0, tzinfo=UTC)
T3 = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
T4 = datetime(2025, 3, 4, 6, 0, tzinfo=UTC)


def alerts_table(con: duckdb.DuckDBPyConnection, name: str, keys: dict[str, float]) -> str:
    """A table shaped like marts.mart_variance_alerts: one alert per key, its metric as given."""
    columns = ", ".join(f'"{n}" {k}' for n, k in ALERT_FIELDS.items())
    con.execute(f"CREATE TABLE {name} ({columns})")
    for key, metric in keys.items():
        con.execute(
            f"INSERT INTO {name} (alert_key, alert_type, level, scope, scope_key, metric_value, message) "
            "VALUES (?, 'overspend_breach', 'project', 'month', ?, ?, 'm')",
            [key, key, metric],
        )
    return name


def episodes(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(
        f"SELECT alert_key, episode, first_raised_at, cleared_at, opened_in, cleared_in, metric_value "
        f"FROM {table} ORDER BY alert_key, episode"
    ).fetchall()


def test_raised_continuing_cleared_and_raised_again() -> None:
    con = duckdb.connect()
    # refresh 1: A and B hold → both raised at T1
    merge_alert_history(con, alerts_table(con, "now1", {"A": 110.0, "B": 120.0}), None, "h1", "p1", T1)
    assert episodes(con, "h1") == [("A", 1, T1, None, "p1", None, 110.0), ("B", 1, T1, None, "p1", None, 120.0)]
    # refresh 2: A still holds (its figure moved), B cleared, C new
    merge_alert_history(con, alerts_table(con, "now2", {"A": 115.0, "C": 130.0}), "h1", "h2", "p2", T2)
    assert episodes(con, "h2") == [
        ("A", 1, T1, None, "p1", None, 115.0),  # continuing: first raised at T1 still, figure refreshed
        ("B", 1, T1, T2, "p1", "p2", 120.0),  # cleared at T2 with its last figure
        ("C", 1, T2, None, "p2", None, 130.0),
    ]
    # refresh 3: the same alerts again → nothing opened, nothing cleared
    merge_alert_history(con, alerts_table(con, "now3", {"A": 115.0, "C": 130.0}), "h2", "h3", "p3", T3)
    assert episodes(con, "h3") == episodes(con, "h2")
    assert con.execute("SELECT count(*) FROM h3 WHERE opened_in = 'p3' OR cleared_in = 'p3'").fetchone()[0] == 0
    # refresh 4: B holds again → a second episode raised at T4; A and C clear
    merge_alert_history(con, alerts_table(con, "now4", {"B": 101.0}), "h3", "h4", "p4", T4)
    assert episodes(con, "h4") == [
        ("A", 1, T1, T4, "p1", "p4", 115.0),
        ("B", 1, T1, T2, "p1", "p2", 120.0),
        ("B", 2, T4, None, "p4", None, 101.0),
        ("C", 1, T2, T4, "p2", "p4", 130.0),
    ]


def test_a_previous_warehouse_without_history_raises_everything_once() -> None:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE empty_history AS {empty_select(HISTORY_FIELDS)}")
    merge_alert_history(con, alerts_table(con, "now1", {"A": 1.0}), "empty_history", "h1", "p1", T1)
    assert episodes(con, "h1") == [("A", 1, T1, None, "p1", None, 1.0)]
