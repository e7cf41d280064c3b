"""Consoles that show progress and colour on a terminal and write plain text anywhere else (SPEC §3).

Rich decides "terminal" from the environment too (`FORCE_COLOR`, `TTY_COMPATIBLE`, as CI services set them), so
piped output could carry a spinner's frames and colour codes. Here the stream itself decides: a file or a pipe
gets plain lines, never a control sequence.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from typing import Any, Protocol, TextIO

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment


class Progress(Protocol):
    def update(self, status: str) -> None: ...


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def terminal_console(stderr: bool = False, **options: Any) -> Console:
    """A console on stdout (or stderr) that is a terminal exactly when that stream is one.

    On stderr (messages: file names, paths, reasons) a line is never broken by the console: piped, rich would wrap
    at 80 columns and cut a quarantine report's path in two, which a log reader can then neither copy nor grep."""
    stream = sys.stderr if stderr else sys.stdout
    if stderr:
        options.setdefault("soft_wrap", True)
    return Console(stderr=stderr, force_terminal=is_terminal(stream), **options)


class QuietStatus(AbstractContextManager):
    """What a status spinner is when nobody watches: updates go nowhere."""

    def __enter__(self) -> QuietStatus:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def update(self, status: str) -> None:
        return None


def counted(count: int, noun: str) -> str:
    """A count and its noun as people say it: "1 new alert", "1,200 new alerts", "0 new files"."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def progress_status(console: Console, message: str) -> AbstractContextManager:
    """A rich status spinner on a terminal; a quiet one when the console writes to a file or a pipe."""
    return console.status(message) if console.is_terminal else QuietStatus()


def _without_trailing_space(line: list[Segment]) -> list[Segment]:
    kept = list(line)
    while kept and not kept[-1].control and not kept[-1].text.rstrip():
        kept.pop()
    if kept and not kept[-1].control:
        text, style, control = kept[-1]
        kept[-1] = Segment(text.rstrip(), style, control)
    return kept


class Trimmed:
    """A renderable whose lines end at their last character. Rich pads every line of a table (its title too) to
    the table's width and may end a wrapped line with the space it broke at; the columns stay where they were."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in console.render_lines(self.renderable, options, pad=False):
            yield from _without_trailing_space(line)
            yield Segment.line()
