"""dbt's debug events dropped when nothing takes them (orchestration/lib/dbt_events.py): what a logger or a callback
takes is what dbt's own event manager gives it, line for line; only the events none of them would take are dropped
before dbt makes them into messages. These fail if a dbt upgrade moves what the module relies on."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import dbt_common.events.event_manager as event_manager
import dbt_common.events.event_manager_client as event_manager_client
import pytest
from dbt.tracking import track_behavior_change_warn
from dbt_common.events.base_types import BaseEvent, EventLevel
from dbt_common.events.event_manager import EventManager
from dbt_common.events.logger import LineFormat, LoggerConfig
from dbt_common.events.types import Note, SystemExecutingCmd, SystemReportReturnCode

from orchestration.lib.dbt_events import drop_debug_events_nobody_takes


def manager(level: EventLevel, callbacks: tuple = (track_behavior_change_warn,)) -> tuple[EventManager, io.StringIO]:
    """An event manager as dbt sets one up for the pipeline: JSON lines to a stream at `level`, dbt's tracking
    callback (and any other given)."""
    events, stream = EventManager(), io.StringIO()
    events.add_logger(
        LoggerConfig(name=f"test_{level.value}", level=level, line_format=LineFormat.Json, output_stream=stream)
    )
    for callback in callbacks:
        events.add_callback(callback)
    return events, stream


def fire_each(events: EventManager) -> None:
    events.fire_event(SystemExecutingCmd(cmd=["debug", "event"]))  # dbt's debug level
    events.fire_event(Note(msg="an info event"))
    events.fire_event(Note(msg="an info event fired as debug"), level=EventLevel.DEBUG)
    events.fire_event(SystemExecutingCmd(cmd=["debug", "event", "fired", "as", "info"]), level=EventLevel.INFO)


def said(stream: io.StringIO) -> list[tuple[str, str, str]]:
    return [
        (line["info"]["name"], line["info"]["level"], line["info"]["msg"])
        for line in map(json.loads, stream.getvalue().splitlines())
    ]


@pytest.fixture
def dbt_as_it_was(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list]]:
    """What dbt's own event manager gives its loggers and callbacks in each case, before the module's is put in
    place (and dbt's given back after the test): [lines written, events another callback took]."""
    cases: dict[str, list] = {}
    for name, level, other in (
        ("info", EventLevel.INFO, False),
        ("debug", EventLevel.DEBUG, False),
        ("callback", EventLevel.INFO, True),
    ):
        taken: list[str] = []
        callbacks = (
            track_behavior_change_warn,
            *([lambda msg, taken=taken: taken.append(msg.info.name)] if other else []),
        )
        events, stream = manager(level, callbacks)
        fire_each(events)
        cases[name] = [said(stream), taken]
    monkeypatch.setattr(EventManager, "fire_event", EventManager.fire_event)
    for name in ("__init__", "__getattr__", "__setattr__"):
        monkeypatch.setattr(BaseEvent, name, getattr(BaseEvent, name))
    yield cases


def test_only_debug_events_nothing_takes_are_dropped(
    dbt_as_it_was: dict[str, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    original = event_manager.msg_from_base_event

    def counted(event: object, level: EventLevel | None = None) -> object:
        made.append(type(event).__name__)
        return original(event, level=level)

    monkeypatch.setattr(event_manager, "msg_from_base_event", counted)
    # dbt's own manager, which events are made under, takes no debug lines: they are made without their messages
    monkeypatch.setattr(event_manager_client, "_EVENT_MANAGER", manager(EventLevel.INFO)[0])
    assert drop_debug_events_nobody_takes()
    fire = EventManager.fire_event
    assert drop_debug_events_nobody_takes() and EventManager.fire_event is fire  # a second call does not wrap again
    # info-level output and dbt's tracking alone: the two debug-level events are never made into messages
    events, stream = manager(EventLevel.INFO)
    fire_each(events)
    assert said(stream) == dbt_as_it_was["info"][0]
    assert [name for name, _, _ in said(stream)] == ["Note", "SystemExecutingCmd"]  # by hand: the two at info
    assert made == ["Note", "SystemExecutingCmd"]
    # a logger at debug level takes them: every line as dbt wrote it (their messages built when it writes them)
    events, stream = manager(EventLevel.DEBUG)
    fire_each(events)
    assert said(stream) == dbt_as_it_was["debug"][0] and len(said(stream)) == 4
    # another callback takes every event, as dbt gave them
    taken: list[str] = []
    events, stream = manager(EventLevel.INFO, (track_behavior_change_warn, lambda msg: taken.append(msg.info.name)))
    fire_each(events)
    assert (said(stream), taken) == tuple(dbt_as_it_was["callback"])
    assert taken == ["SystemExecutingCmd", "Note", "Note", "SystemExecutingCmd"]


def test_a_debug_event_nobody_takes_builds_its_message_only_when_read(
    dbt_as_it_was: dict[str, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    built = SystemExecutingCmd(cmd=["dbt", "build"]).to_dict()  # as dbt builds it
    events, _ = manager(EventLevel.INFO)
    monkeypatch.setattr(event_manager_client, "_EVENT_MANAGER", events)  # the manager dbt's events are made under
    assert drop_debug_events_nobody_takes()
    event = SystemExecutingCmd(cmd=["dbt", "build"])
    assert "pb_msg" not in event.__dict__
    assert event.cmd == ["dbt", "build"] and "pb_msg" in event.__dict__  # read: built, as dbt builds it
    assert event.to_dict() == built
    code = SystemReportReturnCode(returncode=1)
    code.returncode = 3  # a field set: the message is built first, then set
    assert code.to_dict() == {"returncode": 3}
    assert "pb_msg" in Note(msg="info").__dict__  # another level: built at once
    events, _ = manager(EventLevel.DEBUG)
    monkeypatch.setattr(event_manager_client, "_EVENT_MANAGER", events)
    assert "pb_msg" in SystemExecutingCmd(cmd=["dbt"]).__dict__  # a logger takes debug lines: built at once
