"""Alert delivery to the outbox (SPEC §7): each new alert episode once, nothing twice, a torn line survived."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.alerts import ALERT_FIELDS, merge_alert_history
from orchestration.lib.config import WarehouseLayout
from orchestration.lib.notify import deliver_to_outbox, outbox_file

T1 = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
T2 = datetime(2025, 3, 2, 6, 0, tzinfo=UTC)


def publish_alerts(layout: WarehouseLayout, keys: list[str], publication_id: str, now: datetime) -> None:
    """Stand-in for a publication: audit.alert_history of a studio.duckdb, merged with the previous one."""
    layout.root.mkdir(parents=True, exist_ok=True)
    draft = layout.root / "draft.duckdb"
    with duckdb.connect(str(draft)) as con:
        con.execute("CREATE SCHEMA audit")
        columns = ", ".join(f'"{n}" {k}' for n, k in ALERT_FIELDS.items())
        con.execute(f"CREATE TABLE fresh ({columns})")
        for key in keys:
            con.execute(
                "INSERT INTO fresh (alert_key, alert_type, level, scope, scope_key, budget, actual, message) "
                "VALUES (?, 'overspend_breach', 'project', 'month', ?, 1000, 1200.50, ?)",
                [key, key, f"{key} over"],
            )
        previous = None
        if layout.published_db.exists():
            con.execute(f"ATTACH '{layout.published_db}' AS previous (READ_ONLY)")
            con.execute("CREATE TABLE prev AS SELECT * FROM previous.audit.alert_history")
            con.execute("DETACH previous")
            previous = "prev"
        merge_alert_history(con, "fresh", previous, "audit.alert_history", publication_id, now)
    draft.replace(layout.published_db)


def outbox_lines(layout: WarehouseLayout) -> list[dict]:
    return [json.loads(line) for line in outbox_file(layout).read_text(encoding="utf-8").splitlines()]


def test_each_new_alert_once_and_a_rerun_delivers_nothing(tmp_path: Path) -> None:
    layout = WarehouseLayout(tmp_path / "wh")
    publish_alerts(layout, ["A", "B"], "p1", T1)
    assert [a["alert_key"] for a in deliver_to_outbox(layout)] == ["A", "B"]
    assert deliver_to_outbox(layout) == []  # the sensor looking again after the run delivered
    publish_alerts(layout, ["A", "B"], "p2", T2)  # a rerun: the same alerts still hold
    assert deliver_to_outbox(layout) == []
    publish_alerts(layout, ["A", "C"], "p3", T2)  # B clears, C is new
    assert [a["alert_key"] for a in deliver_to_outbox(layout)] == ["C"]
    publish_alerts(layout, ["A", "B", "C"], "p4", T2)  # B holds again: its second episode is new
    assert [(a["alert_key"], a["episode"]) for a in deliver_to_outbox(layout)] == [("B", 2)]
    lines = outbox_lines(layout)
    assert [(r["alert_key"], r["episode"]) for r in lines] == [("A", 1), ("B", 1), ("C", 1), ("B", 2)]
    assert lines[0]["budget"] == "1000.00" and lines[0]["actual"] == "1200.50" and lines[0]["opened_in"] == "p1"


def test_a_line_cut_short_is_delivered_again_whole(tmp_path: Path) -> None:
    layout = WarehouseLayout(tmp_path / "wh")
    publish_alerts(layout, ["A"], "p1", T1)
    outbox = outbox_file(layout)
    outbox.parent.mkdir(parents=True)
    outbox.write_text('{"alert_key": "A", "epis', encoding="utf-8")  # a crash in the middle of a write
    assert [a["alert_key"] for a in deliver_to_outbox(layout)] == ["A"]
    text = outbox.read_text(encoding="utf-8").splitlines()
    assert text[0] == '{"alert_key": "A", "epis' and json.loads(text[1])["alert_key"] == "A"
    assert deliver_to_outbox(layout) == []
