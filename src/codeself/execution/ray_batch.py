"""One `RayExecutor.run_many` call: spread programs over the sandbox actors, stream results in order.

The loop (one thread, the caller's) moves jobs from a feeder thread's bounded inbox into a
waiting list, sends chunks to actors that have room (at most `depth` chunks each, so an
actor never idles between chunks), and yields results in input order as they arrive. At most
`window` programs are held between the oldest unfinished one and the newest pulled.

Failure policy (docs/scaling.md, "When a node fails"): a chunk whose actor dies, whose node
dies, or whose remote call raises, and a chunk still running past its deadline (its actor is
then killed), loses its actor; its programs go back to the front of the waiting list for one
more attempt on another actor. A program that fails twice, a program with no live actor left
to go to, and every unfinished program once the batch passes its outer deadline becomes a
`sandbox_error` result (say nothing about the candidate), so the batch always completes.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from codeself.datasets.task import Task
from codeself.execution.result import ExecutionResult

POLL_S = 0.05  # longest wait for a result before the loop looks at its inbox, heartbeats and deadlines
_END = object()


@dataclass
class Item:
    seq: int
    task: Task
    program: str
    attempts: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass
class Chunk:
    slot: Any  # ray_pool.Slot
    items: list[Item]
    deadline: float
    timeout_s: float


def lost_result(task: Task, reason: str, isolation: str, host: str = "") -> ExecutionResult:
    """The verdict of a program the cluster could not run: it says nothing about the candidate."""
    return ExecutionResult(
        status="sandbox_error", passed=False, phase="import",
        public={"passed": 0, "total": len(task.public_tests)}, hidden={"passed": 0, "total": len(task.hidden_tests)},
        tests=(), tests_judged_in_process=0, isolation=isolation, error_type="SandboxError",
        message=reason[:300], extra={"host": host} if host else {})


class Feeder(threading.Thread):
    """Pulls `(task, program)` jobs from the caller's iterable into a bounded queue, so a job
    source that blocks (a generator waiting on a model server) never stalls the result loop."""

    def __init__(self, jobs: Iterable[tuple[Task, str]], capacity: int) -> None:
        super().__init__(name="codeself-ray-feeder", daemon=True)
        self.jobs, self.inbox, self.stop = jobs, queue.Queue(maxsize=capacity), threading.Event()

    def run(self) -> None:
        outcome: object = _END
        try:
            for job in self.jobs:
                if not self._put(job):
                    return
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            outcome = error
        self._put(outcome)

    def _put(self, value: object) -> bool:
        while not self.stop.is_set():
            try:
                self.inbox.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False


class Batch:
    def __init__(self, pool: Any, jobs: Iterable[tuple[Task, str]], window: int, deadline_s: float | None) -> None:
        self.pool, self.ray, self.window = pool, pool.ray, window
        self.feeder = Feeder(jobs, capacity=window)
        self.waiting: deque[Item] = deque()
        self.inflight: dict[Any, Chunk] = {}  # object ref -> chunk
        self.done: dict[int, ExecutionResult] = {}
        self.pulled = self.next_out = 0
        self.ended = False
        self.started = time.monotonic()
        # outer deadline: fixed when given, else it moves with the latest chunk's deadline plus
        # room for one retry, so only a fault in the loop itself can ever reach it
        self.fixed_deadline = deadline_s is not None
        self.deadline = self.started + (deadline_s if deadline_s is not None else self.pool.start_timeout_s)
        self.expired = False

    def results(self) -> Iterator[ExecutionResult]:
        self.feeder.start()
        try:
            while True:
                self._pull()
                self._check_deadline()
                self._dispatch()
                while self.next_out in self.done:
                    yield self.done.pop(self.next_out)
                    self.next_out += 1
                if self.ended and self.next_out == self.pulled:
                    return
                self._wait()
        finally:
            self.feeder.stop.set()
            for chunk in self.inflight.values():  # abandoned (the caller stopped early): free the room
                self.pool.release(chunk.slot)

    def _pull(self) -> None:
        while not self.ended and self.pulled - self.next_out < self.window:
            try:
                self._take(self.feeder.inbox.get_nowait())
            except queue.Empty:
                return

    def _take(self, job: object) -> None:
        """One message from the feeder: a job, the end, or the error its iterable raised."""
        if job is _END:
            self.ended = True
        elif isinstance(job, BaseException):
            raise job
        else:
            self.waiting.append(Item(self.pulled, *job))
            self.pulled += 1

    def _dispatch(self) -> None:
        if self.expired:
            limit = self.deadline - self.started
            for item in self.waiting:
                self._give_up(item, f"the batch did not finish within its deadline ({limit:.0f} s)")
            self.waiting.clear()
            return
        while self.waiting:
            retry = self.waiting[0].attempts > 0
            slot = self.pool.acquire(idle=retry)
            if slot is None:
                if not self.pool.has_prospects():
                    for item in self.waiting:
                        self._give_up(item, "no live sandbox actor is left on the Ray cluster")
                    self.waiting.clear()
                return
            size = max(1, min(self.pool.chunk_limit(slot), math.ceil(len(self.waiting) / self.pool.live_count())))
            if retry:  # alone, on an idle actor: a program that sank its actor takes no neighbour down
                size = 1
            items = [self.waiting.popleft() for _ in range(min(size, len(self.waiting)))]
            tasks = {item.task.task_id: item.task for item in items}
            ref = slot.handle.run_chunk.remote(tasks, [(item.task.task_id, item.program) for item in items])
            timeout = self.pool.call_timeout(slot, len(items))
            self.inflight[ref] = Chunk(slot, items, time.monotonic() + timeout, timeout)
            if not self.fixed_deadline:
                self.deadline = max(self.deadline, time.monotonic() + 2 * timeout + self.pool.start_timeout_s)

    def _wait(self) -> None:
        if self.pool.closed:
            raise RuntimeError("the RayExecutor was closed while run_many was running")
        if not self.inflight:
            if not self.ended and not self.waiting:
                try:  # nothing to watch: block on the inbox (briefly, to stay responsive)
                    self._take(self.feeder.inbox.get(timeout=POLL_S))
                except queue.Empty:
                    return
            elif self.waiting:
                time.sleep(POLL_S)  # every actor is starting or busy elsewhere
            return
        ready, _ = self.ray.wait(list(self.inflight), num_returns=1, timeout=POLL_S)
        if ready:
            ready, _ = self.ray.wait(list(self.inflight), num_returns=len(self.inflight), timeout=0)
        for ref in ready:
            self._collect(ref, self.inflight.pop(ref))
        self._check_chunks()
        self.pool.heartbeat()

    def _collect(self, ref: Any, chunk: Chunk) -> None:
        try:
            payload = self.ray.get(ref, timeout=self.pool.get_timeout_s)
        except Exception as error:  # noqa: BLE001 - every Ray failure means: this actor cannot be trusted
            self._fail_chunk(chunk, self.pool.lose(chunk.slot, error))
            return
        self.pool.release(chunk.slot)
        for item, record in zip(chunk.items, payload, strict=True):
            record["extra"] = {**record.get("extra", {}), **chunk.slot.where()}
            self.done[item.seq] = ExecutionResult.from_json(record)

    def _check_chunks(self) -> None:
        """Chunks past their deadline, and chunks of an actor the heartbeat found hung (killed,
        but a dead node's refs may never resolve), fail now."""
        now = time.monotonic()
        for ref, chunk in list(self.inflight.items()):
            if now > chunk.deadline or not chunk.slot.alive:
                del self.inflight[ref]
                late = f"no answer within the remote call's deadline of {chunk.timeout_s:g} s"
                reason = self.pool.lose(chunk.slot, late) if chunk.slot.alive else chunk.slot.lost_reason
                self._fail_chunk(chunk, reason)

    def _fail_chunk(self, chunk: Chunk, reason: str) -> None:
        """Back to the front of the queue for one more attempt elsewhere, else a sandbox_error."""
        retry = []
        for item in chunk.items:
            item.attempts += 1
            item.failures.append(f"{chunk.slot.host}: {reason}")
            if item.attempts >= 2:
                self._give_up(item, "; then ".join(item.failures))
            else:
                retry.append(item)
        self.pool.retried += len(retry)
        self.waiting.extendleft(reversed(retry))

    def _give_up(self, item: Item, reason: str) -> None:
        self.done[item.seq] = lost_result(item.task, f"the Ray sandbox failed: {reason}", self.pool.isolation)

    def _check_deadline(self) -> None:
        """Past the outer deadline every unfinished program, and every one pulled later, is a
        sandbox_error at once; the actors still holding its chunks are replaced."""
        now = time.monotonic()
        if not self.fixed_deadline and not self.inflight and not self.waiting:
            self.deadline = now + self.pool.start_timeout_s  # idle, waiting for input: no work is late
        if self.expired or now <= self.deadline:
            return
        self.expired = True
        for ref, chunk in list(self.inflight.items()):
            del self.inflight[ref]
            self.pool.lose(chunk.slot, "its batch passed the deadline")
            self.waiting.extend(chunk.items)
        self.waiting = deque(sorted(self.waiting, key=lambda item: item.seq))
