"""GroupCommit on a real event loop and its real worker thread: each caller gets its own
result, requests that arrive during a batch form the next one, max_batch splits, a failing or
miscounting batch fails all its callers (and only them), close() stops the thread, and a
caller that goes away does not take its neighbours' batch with it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from server_stub.ingest.group_commit import GroupCommit

T = TypeVar("T")
TIMEOUT_S = 10.0  # a hung batch fails the test instead of hanging the run


def run(main: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(main(), TIMEOUT_S)

    return asyncio.run(bounded())


async def settle() -> None:
    """Let every ready task run up to its next await (here: the batch it waits for)."""
    for _ in range(3):
        await asyncio.sleep(0)


class Recorder:
    """A work function that records each batch and the thread it ran in; the first `hold`
    batches wait for `release` so that requests pile up behind them."""

    def __init__(self, hold: int = 0) -> None:
        self.batches: list[list[int]] = []
        self.threads: list[threading.Thread] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.hold = hold

    def __call__(self, items: list[int]) -> list[str]:
        self.batches.append(list(items))
        self.threads.append(threading.current_thread())
        self.started.set()
        if len(self.batches) <= self.hold:
            assert self.release.wait(TIMEOUT_S), "the test never released the batch"
        return [f"result of {item}" for item in items]


def group_commit_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("group-commit")]


def test_each_caller_gets_its_own_items_result() -> None:
    work = Recorder()
    gc: GroupCommit[int, str] = GroupCommit(work)

    async def main() -> list[str]:
        try:
            return await asyncio.gather(*(gc.submit(i) for i in (5, 3, 9, 0, 7)))
        finally:
            gc.close()

    assert run(main) == [f"result of {i}" for i in (5, 3, 9, 0, 7)]
    assert sorted(i for batch in work.batches for i in batch) == [0, 3, 5, 7, 9]
    assert gc.batches == len(work.batches)
    assert gc.items == 5


def test_requests_arriving_during_a_batch_join_the_next_one() -> None:
    work = Recorder(hold=1)
    gc: GroupCommit[int, str] = GroupCommit(work)

    async def main() -> list[str]:
        try:
            first = asyncio.create_task(gc.submit(0))
            assert await asyncio.to_thread(work.started.wait, TIMEOUT_S)
            later = [asyncio.create_task(gc.submit(i)) for i in range(1, 6)]
            await settle()
            assert work.batches == [[0]], "nothing may start while the first batch runs"
            work.release.set()
            return await asyncio.gather(first, *later)
        finally:
            gc.close()

    assert run(main) == [f"result of {i}" for i in range(6)]
    assert work.batches == [[0], [1, 2, 3, 4, 5]]
    assert work.threads[0] is work.threads[1], "one worker thread writes every batch"
    assert (gc.batches, gc.items) == (2, 6)


def test_max_batch_splits_a_queue_into_batches_of_at_most_that_many() -> None:
    work = Recorder(hold=1)
    gc: GroupCommit[int, str] = GroupCommit(work, max_batch=3)

    async def main() -> list[str]:
        try:
            first = asyncio.create_task(gc.submit(0))
            assert await asyncio.to_thread(work.started.wait, TIMEOUT_S)
            later = [asyncio.create_task(gc.submit(i)) for i in range(1, 8)]
            await settle()
            work.release.set()
            return await asyncio.gather(first, *later)
        finally:
            gc.close()

    assert run(main) == [f"result of {i}" for i in range(8)]
    assert work.batches == [[0], [1, 2, 3], [4, 5, 6], [7]]
    assert (gc.batches, gc.items) == (4, 8)


def test_an_exception_in_work_reaches_every_caller_of_that_batch_only() -> None:
    seen: list[list[str]] = []

    def work(items: list[str]) -> list[str]:
        seen.append(list(items))
        if "bad" in items:
            raise ValueError("the database refused the batch")
        return [item.upper() for item in items]

    gc: GroupCommit[str, str] = GroupCommit(work)

    async def main() -> tuple[list[str | BaseException], str]:
        try:
            calls = (gc.submit(item) for item in ("a", "bad", "c"))
            failed = await asyncio.gather(*calls, return_exceptions=True)
            return failed, await gc.submit("next")
        finally:
            gc.close()

    failed, after = run(main)
    assert seen == [["a", "bad", "c"], ["next"]]
    assert len(failed) == 3
    for outcome in failed:
        assert isinstance(outcome, ValueError)
        assert str(outcome) == "the database refused the batch"
    assert after == "NEXT"
    assert (gc.batches, gc.items) == (2, 4)


def test_a_result_list_of_the_wrong_length_fails_every_caller() -> None:
    short = [True]

    def work(items: list[int]) -> list[int]:
        return items[:-1] if short[0] else items

    gc: GroupCommit[int, int] = GroupCommit(work)

    async def main() -> tuple[list[int | BaseException], int]:
        try:
            failed = await asyncio.gather(*(gc.submit(i) for i in range(3)), return_exceptions=True)
            short[0] = False
            return failed, await gc.submit(42)
        finally:
            gc.close()

    failed, after = run(main)
    assert len(failed) == 3
    assert all(isinstance(outcome, RuntimeError) for outcome in failed), failed
    assert after == 42


def test_close_stops_the_thread_and_a_later_submit_starts_a_new_one() -> None:
    work = Recorder()
    gc: GroupCommit[int, str] = GroupCommit(work)

    async def main() -> tuple[str, int, str]:
        try:
            first = await gc.submit(1)
            gc.close()
            running_after_close = len(group_commit_threads())
            second = await gc.submit(2)
            return first, running_after_close, second
        finally:
            gc.close()

    first, running_after_close, second = run(main)
    assert (first, second) == ("result of 1", "result of 2")
    assert running_after_close == 0
    assert group_commit_threads() == []
    assert len(work.threads) == 2 and work.threads[0] is not work.threads[1]
    assert not any(thread.is_alive() for thread in work.threads)
    assert all(thread.name.startswith("group-commit") for thread in work.threads)


def test_a_cancelled_caller_does_not_cancel_its_neighbours() -> None:
    work = Recorder(hold=2)
    gc: GroupCommit[int, str] = GroupCommit(work)

    async def main() -> tuple[list[str | BaseException], str]:
        try:
            running = [asyncio.create_task(gc.submit(i)) for i in (1, 2, 3)]
            assert await asyncio.to_thread(work.started.wait, TIMEOUT_S)
            queued = [asyncio.create_task(gc.submit(i)) for i in (4, 5)]
            await settle()
            running[0].cancel()  # its batch is being written
            queued[1].cancel()  # its batch has not started yet
            await settle()
            work.release.set()
            outcomes = await asyncio.gather(*running, *queued, return_exceptions=True)
            return outcomes, await gc.submit(6)
        finally:
            gc.close()

    outcomes, after = run(main)
    assert isinstance(outcomes[0], asyncio.CancelledError)
    assert outcomes[1:3] == ["result of 2", "result of 3"]
    assert outcomes[3] == "result of 4"
    assert isinstance(outcomes[4], asyncio.CancelledError)
    # The cancelled callers' items were already handed over: their batches still ran whole.
    assert work.batches == [[1, 2, 3], [4, 5], [6]]
    assert after == "result of 6"


@pytest.mark.parametrize("failing", [False, True])
def test_every_caller_of_many_concurrent_submits_is_answered(failing: bool) -> None:
    """Many callers, a small max_batch: no item is lost, none answered twice."""
    answered: list[int] = []

    def work(items: list[int]) -> list[int]:
        if failing and 50 in items:
            raise KeyError(50)
        answered.extend(items)
        return [item * 2 for item in items]

    gc: GroupCommit[int, int] = GroupCommit(work, max_batch=7)

    async def main() -> list[int | BaseException]:
        try:
            return await asyncio.gather(*(gc.submit(i) for i in range(100)), return_exceptions=True)
        finally:
            gc.close()

    outcomes = run(main)
    failed = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, KeyError)]
    assert all(outcomes[i] == i * 2 for i in range(100) if i not in failed)
    assert sorted(answered + failed) == list(range(100))
    assert (50 in failed) is failing and len(failed) <= 7
    assert gc.items == 100
