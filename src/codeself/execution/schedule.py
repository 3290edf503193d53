"""Longest-expected programs first: the order `Executor.run_many` starts the samples it holds.

Why: a batch's wall time is at least max(its longest program, total CPU / workers). Started in
input order, one long program submitted late (MBPP+'s Mbpp/599 takes 35 of the 81 s of its
references' CPU) runs alone at the end while the other workers idle. Started longest first
(expected times: the calibrated reference's, known before the batch runs), it overlaps with
the rest. Results are still yielded in input order; only the start order changes, within
`run_many`'s window of samples read ahead.
"""

from __future__ import annotations

import heapq
import threading
from concurrent.futures import Future
from typing import Callable


class LongestFirst:
    """Jobs handed to a thread pool, each pool task running the longest waiting job. Equal
    expected times (e.g. unknown: 0) keep submission order."""

    def __init__(self, pool, run: Callable) -> None:
        self.pool, self.run = pool, run
        self._waiting: list = []
        self._lock = threading.Lock()
        self._count = 0

    def submit(self, expected_s: float, *args) -> Future:
        """Queue `run(*args)`; its Future. One pool task per job, so every job runs."""
        return self.submit_call(expected_s, self.run, *args)

    def submit_call(self, expected_s: float, run: Callable, *args) -> Future:
        """Queue `run(*args)` (another callable than the usual: a part of a split sample, split.py)."""
        future: Future = Future()
        with self._lock:
            heapq.heappush(self._waiting, (-expected_s, self._count, run, args, future))
            self._count += 1
        self.pool.submit(self._run_next)
        return future

    def _run_next(self) -> None:
        with self._lock:
            _, _, run, args, future = heapq.heappop(self._waiting)
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(run(*args))
        except BaseException as error:  # noqa: BLE001 - handed to the caller through the Future
            future.set_exception(error)
