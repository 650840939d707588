"""Group commit: requests that arrive while a batch is being written join the next batch.

So N concurrent requests cost one transaction instead of N."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Batch(Generic[Item, Result]):
    items: list[Item]
    done: asyncio.Future[list[Result]]


class GroupCommit(Generic[Item, Result]):
    """Runs `work(items) -> one result per item` in one thread, one batch at a time.

    There is no timer: a lone request is written at once; under load, whatever queued during
    the previous batch forms the next one. Each caller gets its own item's result; an exception
    raised by `work` reaches every caller of that batch.
    """

    def __init__(
        self,
        work: Callable[[list[Item]], list[Result]],
        max_batch: int = 100,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._work = work
        self._max_batch = max_batch
        self._on_batch = on_batch  # told each batch's size once it is written (the metrics)
        self._executor: ThreadPoolExecutor | None = None
        self._waiting: deque[_Batch[Item, Result]] = deque()
        self._gathering: _Batch[Item, Result] | None = None
        self._drainer: asyncio.Task[None] | None = None
        self.batches = 0  # written so far, for /metrics
        self.items = 0

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        batch = self._gathering
        if batch is None or len(batch.items) >= self._max_batch:
            batch = _Batch([], loop.create_future())
            self._waiting.append(batch)
            self._gathering = batch
        index = len(batch.items)
        batch.items.append(item)
        if self._drainer is None or self._drainer.done():
            self._drainer = loop.create_task(self._drain())
        # shield: a caller that goes away must not cancel the batch its neighbours wait for.
        results = await asyncio.shield(batch.done)
        return results[index]

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            batch = self._waiting.popleft()
            if batch is self._gathering:
                self._gathering = None  # from here on its items are the worker thread's
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="group-commit")
            try:
                run = loop.run_in_executor(self._executor, self._work, batch.items)
            except RuntimeError as exc:  # the executor shut down under us (process exit)
                batch.done.set_exception(exc)
                continue
            await asyncio.wait([run])
            self.batches += 1
            self.items += len(batch.items)
            if self._on_batch is not None:
                self._on_batch(len(batch.items))
            error = run.exception()
            if error is not None:
                batch.done.set_exception(error)
            else:
                results = run.result()
                if len(results) != len(batch.items):
                    batch.done.set_exception(RuntimeError("work must answer every item"))
                else:
                    batch.done.set_result(results)

    def close(self) -> None:
        """Wait for the batch in hand and stop the thread (a later batch starts a new one)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
