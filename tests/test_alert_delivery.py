"""Alert delivery to the outbox (SPEC §7): each new alert episode once, nothing twice, a torn line survived."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.alerts import ALERT_FIELDS, merge_alert_history
from orchestration.lib.config import WarehouseLayout
from orchestration.lib.notify import (
    deliver_alerts,
    deliver_to_outbox,
    deliver_to_webhook,
    outbox_file,
    slack_payload,
    webhook_ledger,
    webhook_pending,
)

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


HANG_SECONDS = 5  # far beyond the 0.3 s timeout the test gives the client, well short of its 10 s default


class Hook:
    """A real HTTP server on 127.0.0.1 that answers each POST as told: 'fail' (500), 'hang' or 'ok'. A hanging
    answer holds the request (`held`) until the hook is closed, then lets go without answering; a client still
    waiting after HANG_SECONDS gets 200 and its alerts count as received. `hung_up` is set when it lets go."""

    def __init__(self, answers: list[str]) -> None:
        import http.server
        import threading

        self.answers = answers
        self.received: list[dict] = []
        self.release = threading.Event()
        self.held = threading.Event()
        self.hung_up = threading.Event()
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = hook.answers.pop(0) if hook.answers else "ok"
                if answer == "hang":
                    hook.held.set()
                    closed = hook.release.wait(timeout=HANG_SECONDS)
                    hook.hung_up.set()
                    if closed:
                        return
                    answer = "ok"  # the client waited this long: it did not keep to its timeout
                if answer == "ok":
                    hook.received.append(body)
                self.send_response(200 if answer == "ok" else 500)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/SECRET-TOKEN-42"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_webhook_failing_then_recovering_loses_nothing_and_sends_nothing_twice(tmp_path: Path) -> None:
    layout = WarehouseLayout(tmp_path / "wh")
    hook = Hook(["fail"])
    try:
        publish_alerts(layout, ["A", "B"], "p1", T1)
        environ = {"STUDIO_ALERT_WEBHOOK": hook.url}
        first = deliver_alerts(layout, "STUDIO_ALERT_WEBHOOK", environ)
        assert first.endswith("webhook: 0 sent, 2 pending (retried next run)")
        assert [(a["alert_key"], a["attempts"]) for a in webhook_pending(layout)] == [("A", 1), ("B", 1)]
        publish_alerts(layout, ["A", "B", "C"], "p2", T2)  # the next run: C is new, A and B are retried
        second = deliver_alerts(layout, "STUDIO_ALERT_WEBHOOK", environ)
        assert second.endswith("webhook: 3 sent")
        assert deliver_alerts(layout, "STUDIO_ALERT_WEBHOOK", environ).endswith("webhook: 0 sent")
    finally:
        hook.close()
    # one message reached the hook, holding each alert once
    assert len(hook.received) == 1
    text = hook.received[0]["text"]
    assert text.startswith("3 new budget alerts\n") and [text.count(f"{k} over") for k in "ABC"] == [1, 1, 1]
    assert webhook_pending(layout) == []
    # the URL is a secret: not in the outbox, the ledger or what the run prints
    for written in (outbox_file(layout), webhook_ledger(layout)):
        assert "SECRET-TOKEN" not in written.read_text(encoding="utf-8")
    assert "SECRET-TOKEN" not in first + second


def test_a_hanging_or_unreachable_webhook_leaves_the_alerts_pending(tmp_path: Path) -> None:
    layout = WarehouseLayout(tmp_path / "wh")
    publish_alerts(layout, ["A"], "p1", T1)
    deliver_to_outbox(layout)
    hook = Hook(["hang"])
    try:
        assert deliver_to_webhook(layout, hook.url, timeout=0.3) == (0, 1)
        # the request reached the server, and the client's timeout ended the wait while the server held it
        assert hook.held.is_set() and not hook.hung_up.is_set()
        [record] = [json.loads(line) for line in webhook_ledger(layout).read_text(encoding="utf-8").splitlines()]
        assert record["status"] == "failed" and record["error"] == "TimeoutError"
    finally:
        hook.close()
    # nothing listens on the port any more
    assert deliver_to_webhook(layout, hook.url, timeout=0.3) == (0, 1)
    assert [(a["alert_key"], a["attempts"]) for a in webhook_pending(layout)] == [("A", 2)]
    ledger = webhook_ledger(layout).read_text(encoding="utf-8")
    assert "SECRET-TOKEN" not in ledger and "127.0.0.1" not in ledger


def test_studio_toml_names_the_webhook_variable_never_the_url(tmp_path: Path) -> None:
    import pytest

    from orchestration.lib.config import StudioConfig

    config = tmp_path / "studio.toml"
    config.write_text('alert_webhook_env = "STUDIO_ALERT_WEBHOOK"\n', encoding="utf-8")
    assert StudioConfig.load(config).alert_webhook_env == "STUDIO_ALERT_WEBHOOK"
    config.write_text('alert_webhook_env = "https://hooks.example/T0/B0/x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="alert_webhook_env must name an environment variable") as refused:
        StudioConfig.load(config)
    assert "hooks.example" not in str(refused.value)


def test_alerts_are_appended_a_batch_at_a_time_in_order(tmp_path: Path, monkeypatch) -> None:
    from orchestration.lib import notify

    monkeypatch.setattr(notify, "ALERT_BATCH", 2)  # 5 alerts: batches of 2, 2 and 1
    layout = WarehouseLayout(tmp_path / "wh")
    publish_alerts(layout, ["A", "B", "C", "D", "E"], "p1", T1)
    batches = [[a["alert_key"] for a in batch] for batch in notify.open_alert_batches(layout.published_db)]
    assert batches == [["A", "B"], ["C", "D"], ["E"]]
    assert deliver_alerts(layout, None) == f"5 new alerts delivered to {outbox_file(layout)}"
    assert [r["alert_key"] for r in outbox_lines(layout)] == ["A", "B", "C", "D", "E"]
    assert deliver_alerts(layout, None) == f"no new alerts (outbox: {outbox_file(layout)})"
    publish_alerts(layout, ["A", "B", "C", "D", "E", "F"], "p2", T2)  # F is the one new alert
    assert deliver_alerts(layout, None) == f"1 new alert delivered to {outbox_file(layout)}"


def test_the_webhook_message_counts_its_alerts_in_words() -> None:
    alert = {"severity": "warning", "message": "m", "notify_role": "finance"}
    assert slack_payload([alert])["text"] == "1 new budget alert\n[warning] m → finance"
    assert slack_payload([alert] * 1200)["text"].startswith("1,200 new budget alerts\n")
