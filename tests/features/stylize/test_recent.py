"""recent.RecentResults: time to live on a fake clock, entry and byte bounds, pop."""

from __future__ import annotations

import pytest

from bot.features.stylize.painting import RenderRequest, StyleInput
from bot.features.stylize.recent import RecentResult, RecentResults
from bot.stylization import StylizeOptions


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def result(owner: int = 1, content: int = 10, styles: tuple[int, ...] = (5,)) -> RecentResult:
    """A result whose inputs weigh `content` + sum(`styles`) bytes."""
    request = RenderRequest(
        b"c" * content,
        tuple(StyleInput(f"style-{i}", b"s" * size) for i, size in enumerate(styles)),
        StylizeOptions(strength=0.5),
    )
    return RecentResult(owner, request)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_put_get_and_unknown(clock):
    recent = RecentResults(60, clock=clock)
    first = result(owner=7)
    recent.put(1, first)
    assert recent.get(1) is first
    assert recent.get(2) is None
    assert len(recent) == 1


def test_entries_expire_after_the_ttl(clock):
    recent = RecentResults(60, clock=clock)
    recent.put(1, result())
    clock.now += 30
    recent.put(2, result())
    clock.now += 29.9
    assert recent.get(1) is not None
    clock.now += 0.1  # exactly 60 s after the first put
    assert recent.get(1) is None
    assert recent.get(2) is not None
    assert len(recent) == 1
    clock.now += 30
    assert recent.get(2) is None
    assert len(recent) == 0


def test_putting_again_restarts_the_ttl_and_replaces(clock):
    recent = RecentResults(60, clock=clock)
    recent.put(1, result(owner=1))
    clock.now += 50
    newer = result(owner=2)
    recent.put(1, newer)
    clock.now += 50
    assert recent.get(1) is newer
    assert len(recent) == 1


def test_zero_ttl_keeps_nothing(clock):
    recent = RecentResults(0, clock=clock)
    recent.put(1, result())
    assert recent.get(1) is None


def test_max_entries_evicts_the_oldest(clock):
    recent = RecentResults(60, max_entries=3, clock=clock)
    for message_id in range(1, 6):
        recent.put(message_id, result())
        clock.now += 1
    assert len(recent) == 3
    assert [recent.get(i) is not None for i in range(1, 6)] == [False, False, True, True, True]


def test_reading_does_not_save_an_entry_from_eviction(clock):
    recent = RecentResults(60, max_entries=2, clock=clock)
    recent.put(1, result())
    recent.put(2, result())
    assert recent.get(1) is not None
    recent.put(3, result())
    assert recent.get(1) is None  # oldest put goes first, reads do not refresh it
    assert recent.get(2) is not None and recent.get(3) is not None


def test_max_bytes_evicts_the_oldest_until_it_fits(clock):
    recent = RecentResults(60, max_bytes=100, clock=clock)
    recent.put(1, result(content=30, styles=(10,)))  # 40 bytes
    recent.put(2, result(content=20, styles=(10, 10)))  # 40 bytes, 80 in all
    assert recent.get(1) is not None and recent.get(2) is not None
    recent.put(3, result(content=25, styles=()))  # 105 in all: the first must go
    assert recent.get(1) is None
    assert recent.get(2) is not None and recent.get(3) is not None
    recent.put(4, result(content=90, styles=()))  # 155: both older ones must go
    assert [recent.get(i) is not None for i in (2, 3, 4)] == [False, False, True]


def test_an_entry_larger_than_max_bytes_is_not_kept(clock):
    recent = RecentResults(60, max_bytes=100, clock=clock)
    recent.put(1, result(content=10, styles=()))
    recent.put(2, result(content=101, styles=()))
    assert recent.get(2) is None
    assert recent.get(1) is None  # evicted first, while making room
    assert len(recent) == 0
    recent.put(3, result(content=100, styles=()))  # exactly the limit fits
    assert recent.get(3) is not None


def test_replacing_an_entry_does_not_count_its_bytes_twice(clock):
    recent = RecentResults(60, max_bytes=100, clock=clock)
    recent.put(1, result(content=40, styles=()))
    recent.put(2, result(content=40, styles=()))
    for _ in range(5):
        recent.put(2, result(content=40, styles=()))
    assert recent.get(1) is not None and recent.get(2) is not None


def test_pop_forgets_and_frees_the_bytes(clock):
    recent = RecentResults(60, max_bytes=100, clock=clock)
    first = result(content=60, styles=())
    recent.put(1, first)
    assert recent.pop(1) is first
    assert recent.pop(1) is None
    assert recent.get(1) is None
    assert len(recent) == 0
    recent.put(2, result(content=60, styles=()))  # 60 + 60 would not fit if not freed
    recent.put(3, result(content=40, styles=()))
    assert recent.get(2) is not None and recent.get(3) is not None


def test_pop_unknown_is_none(clock):
    assert RecentResults(60, clock=clock).pop(42) is None


def test_default_clock_is_monotonic_time():
    recent = RecentResults(60)
    recent.put(1, result())
    assert recent.get(1) is not None
