"""dbt's debug events, not made into log lines when nothing would take them (the dbt processes the pipeline starts).

dbt fires events as it works: one or more per SQL statement, per connection, per node's start and end, and most are
debug-level. dbt then makes each event into a message (its text, time, thread and the node it is about, as
protobuf) and each logger makes the message into its line (for dagster-dbt's JSON stdout: the message as a dict,
dumped to JSON, secrets scrubbed), and only then does the logger drop the line below its level. A refresh runs dbt
with info-level output and no debug file (`dbt_child.child_environment`), so all that work is done for nothing for
every debug event, in the Python dbt's threads share one core for (eight alternating days at 10M rows, whose
nodes are small: dbt's elapsed time 3.89 against 4.12 s on average).

`drop_debug_events_nobody_takes` makes dbt's event manager drop a debug (or test-level) event at once when no
logger takes that level and the only callback is dbt's own usage tracking, which reads one warn-level event
(`dbt.tracking.track_behavior_change_warn`). Any other case is left to dbt as it was: a logger at debug level
(`DBT_LOG_LEVEL_FILE=debug`, `--debug`), another callback (a programmatic caller's), an event fired at another level
than its own, or one dbt must check against its warn-error settings."""

from __future__ import annotations

from typing import Any


def drop_debug_events_nobody_takes() -> bool:
    """From now on in this process, dbt's event manager drops a debug event no logger or callback takes
    (module docstring). True once in place."""
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.events.base_types import BaseEvent, EventLevel
    from dbt_common.events.event_manager import EventManager

    fire = EventManager.fire_event
    if getattr(fire, "drops_untaken_debug", False):
        return True
    quiet = (EventLevel.DEBUG, EventLevel.TEST)

    def fire_event(
        self: EventManager,
        e: BaseEvent,
        level: EventLevel | None = None,
        node: Any = None,
        force_warn_or_error_handling: bool = False,
    ) -> None:
        if (
            not force_warn_or_error_handling
            and (level or e.level_tag()) in quiet
            and all(logger.level not in quiet for logger in self.loggers)
            and all(callback is track_behavior_change_warn for callback in self.callbacks)
        ):
            return
        fire(self, e, level=level, node=node, force_warn_or_error_handling=force_warn_or_error_handling)

    fire_event.drops_untaken_debug = True  # type: ignore[attr-defined]
    fire_event.__doc__ = fire.__doc__
    EventManager.fire_event = fire_event  # type: ignore[method-assign]
    return True
