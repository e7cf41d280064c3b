"""The garbage collector kept out of a process's imports (`orchestration/lib/collector.py`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from orchestration.lib.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_as_it_was() -> Iterator[None]:
    """Each test leaves the collector as it found it, and nothing of this process frozen."""
    was_on = gc.isenabled()
    yield
    gc.unfreeze()
    if was_on:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_in_the_block_and_what_it_made_is_frozen_after() -> None:
    gc.enable()
    gc.unfreeze()
    frozen_before = gc.get_freeze_count()
    collections: list[dict] = []

    def heard(phase: str, info: dict) -> None:
        collections.append(info)

    gc.callbacks.append(heard)
    try:
        with collector_paused():
            assert not gc.isenabled()
            made = [[index] for index in range(10_000)]  # 10,001 objects the collector tracks
            # nothing collected while off, though the allocations are far beyond the first threshold
            assert collections == []
    finally:
        gc.callbacks.remove(heard)
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + len(made) + 1
    assert gc.get_count()[0] < len(made)  # the young generation was emptied into the frozen one


def test_a_collector_that_was_off_stays_off_and_a_nested_block_does_not_turn_it_on() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    gc.enable()
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled(), "the inner block turned the collector on inside the outer one"
    assert gc.isenabled()


def test_the_collector_is_on_again_when_the_block_raises() -> None:
    gc.enable()
    with pytest.raises(ImportError), collector_paused():
        raise ImportError("a library that cannot be imported")
    assert gc.isenabled()


def test_with_collect_the_garbage_the_block_left_is_collected_before_the_freeze() -> None:
    """Cycles that are garbage when the block ends are freed with `collect`, and stay frozen without it."""
    import weakref

    class Node:
        def __init__(self) -> None:
            self.me = self  # a reference cycle: only the collector frees it

    def garbage_made_in_block(collect: bool) -> weakref.ref:
        gc.enable()
        gc.unfreeze()
        with collector_paused(collect=collect):
            node = Node()
            made = weakref.ref(node)
            del node  # unreachable now, but kept by its own cycle while the collector is off
        return made

    assert garbage_made_in_block(collect=True)() is None
    kept = garbage_made_in_block(collect=False)
    gc.collect()  # a later collection does not scan what was frozen
    assert kept() is not None
