"""`RayExecutor`: the Executor API over a pool of sandbox actors on a Ray cluster (distributed extra).

Shape of the pool: every alive node with CPUs gets `cpus // w` actors of `w = min(workers,
node cpus)` sandbox workers each (`--workers` is the size of one actor's local Executor), placed
with a hard node affinity and reserving `w` CPUs. Each actor owns a local `Executor`, so the
isolation and the verdicts are exactly the local engine's; all actors must report the same
isolation level. Results carry `extra.host` (the actor's hostname) and `extra.ray_node` (its
node id, 12 hex digits), which rollouts move to `timing` like other run-to-run details.

Bounds: starting the pool, each heartbeat and each remote call has a timeout; a batch has an
outer deadline (ray_batch.py). A lost actor is replaced in the background on the same node
(at most `MAX_REPLACEMENTS` times per pool), so a long run keeps its capacity.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from codeself.datasets.task import Task
from codeself.execution.config import ExecutionConfig
from codeself.execution.executors import CallOutcome, ExecutorAPI
from codeself.execution.ray_actor import SandboxActor
from codeself.execution.ray_batch import Batch
from codeself.execution.ray_cluster import connect, one_line, require_ray, sandbox_nodes
from codeself.execution.result import ExecutionResult
from codeself.execution.runner import Timeouts


@dataclass
class Slot:
    """One sandbox actor as the driver sees it."""

    index: int
    handle: Any
    node_id: str
    workers: int
    host: str = "?"
    pid: int = 0
    isolation: str = ""
    alive: bool = True
    busy: int = 0  # chunks in flight
    ping_ref: Any = None
    ping_sent: float = 0.0
    last_ok: float = 0.0
    lost_reason: str = ""

    def where(self) -> dict[str, str]:
        return {"host": self.host, "ray_node": self.node_id[:12]}


class RayExecutor(ExecutorAPI):
    """The executor interface (executors.ExecutorAPI) over Ray actors, each one's local Executor."""

    DEPTH = 2  # chunks in flight per actor: one running while the next waits, so no actor idles
    CHUNK_PER_WORKER = 16  # programs per remote call and sandbox worker, at most (amortises the call)
    MAX_REPLACEMENTS = 8  # lost actors replaced per pool, at most (a node that keeps killing them stays down)

    def __init__(self, config: ExecutionConfig | None = None, *, heartbeat_s: float = 2.0,
                 heartbeat_timeout_s: float = 30.0, call_timeout_s: float | None = None,
                 batch_timeout_s: float | None = None, start_timeout_s: float = 120.0) -> None:
        self.ray = require_ray()
        self.config = config or ExecutionConfig(executor="ray")
        limits = (heartbeat_s, heartbeat_timeout_s, start_timeout_s, call_timeout_s or 1, batch_timeout_s or 1)
        if min(limits) <= 0:
            raise ValueError("RayExecutor timeouts must be > 0")
        self.heartbeat_s, self.heartbeat_timeout_s = heartbeat_s, heartbeat_timeout_s
        self.call_timeout_s, self.batch_timeout_s = call_timeout_s, batch_timeout_s
        self.start_timeout_s = start_timeout_s
        self.get_timeout_s = 60.0  # fetching a result Ray already reported ready
        self.retried = 0  # programs sent to a second actor after their first one was lost
        self.replacements = 0
        self._lock = threading.Lock()
        self._slots: list[Slot] = []
        self._starting = 0
        self._replacing: list[threading.Thread] = []  # joined by close() before Ray is shut down
        self._closed = False
        self._owns_connection = False
        self.isolation = ""
        try:
            self._owns_connection = connect(self.config.ray_address,
                                            local_cpus=max(os.cpu_count() or 1, self.config.workers))
            self._actor_class = self.ray.remote(concurrency_groups={"health": 1})(SandboxActor)
            self._start_pool()
        except BaseException:
            self.close()
            raise

    # -- the pool -------------------------------------------------------------------------------
    def _start_pool(self) -> None:
        where = f" at {self.config.ray_address}" if self.config.ray_address else ""
        nodes = sandbox_nodes(self.ray)
        if not nodes:
            raise ValueError(f"the Ray cluster{where} has no CPUs to run sandboxes on (were its nodes started "
                             "with --num-cpus 0?); add one with `ray start --address HEAD:PORT --num-cpus N`")
        plans = []
        for node in nodes:
            workers = min(self.config.workers, node["cpus"])
            plans += [(node["node_id"], workers)] * (node["cpus"] // workers)
        slots = [self._spawn(index, node_id, workers) for index, (node_id, workers) in enumerate(plans)]
        errors = self._await_started(slots)
        if not self._slots:
            raise ValueError(f"no sandbox actor started on the Ray cluster{where}: {errors[0]}")
        levels = sorted({slot.isolation for slot in self._slots})
        if len(levels) > 1:
            raise ValueError(f"the cluster's nodes disagree on the sandbox isolation ({', '.join(levels)}); "
                             f"pass --sandbox {levels[-1]} (or fix the nodes) so every verdict is made alike")
        self.isolation = levels[0]

    def _spawn(self, index: int, node_id: str, workers: int) -> Slot:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        settings = {name: getattr(self.config, name) for name in self.config.__dataclass_fields__}
        handle = self._actor_class.options(
            num_cpus=workers, max_concurrency=4 * self.DEPTH, max_restarts=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node_id, soft=False),
        ).remote({**settings, "workers": workers})
        return Slot(index, handle, node_id, workers)

    def _await_started(self, slots: list[Slot]) -> list[str]:
        """Adopt the slots whose actor answers `describe` in time; kill the rest. Returns why not.
        Waits in short steps, so close() never has to wait for a replacement's whole timeout."""
        refs = {slot.handle.describe.remote(): slot for slot in slots}
        ready, pending = [], list(refs)
        deadline = time.monotonic() + self.start_timeout_s
        while pending and time.monotonic() < deadline and not self._closed:
            done, pending = self.ray.wait(pending, num_returns=len(pending), timeout=0.5)
            ready += done
        errors = []
        for ref in ready:
            try:
                info = self.ray.get(ref, timeout=self.get_timeout_s)
            except Exception as error:  # noqa: BLE001 - the actor failed to start: say why, once
                errors.append(one_line(error))
                self._kill(refs[ref])
                continue
            slot = refs[ref]
            slot.host, slot.pid, slot.isolation = info["host"], info["pid"], info["isolation"]
            slot.last_ok = time.monotonic()
            with self._lock:
                closed = self._closed
                if not closed:
                    self._slots.append(slot)
            if closed:  # a replacement that finished starting after close(): never leave it behind
                self._kill(slot)
        for ref in pending:
            errors.append(f"an actor was not placed and started within {self.start_timeout_s:g} s "
                          "(the cluster's CPUs busy with other work?)")
            self._kill(refs[ref])
        return errors

    def _kill(self, slot: Slot) -> None:
        try:
            self.ray.kill(slot.handle, no_restart=True)
        except Exception:  # noqa: BLE001 - already dead, or the cluster is gone: nothing left to stop
            pass

    def _replace(self, lost: Slot) -> None:
        """Background: a fresh actor on the lost one's node, if that node is still alive."""
        try:
            if not self._closed and any(node["node_id"] == lost.node_id for node in sandbox_nodes(self.ray)):
                fresh = self._spawn(lost.index, lost.node_id, lost.workers)
                self._await_started([fresh])
                if fresh.alive and fresh.isolation != self.isolation:
                    self.lose(fresh, "reported another isolation level")
        except Exception:  # noqa: BLE001 - the pool just stays smaller; batches use the others
            pass
        finally:
            with self._lock:
                self._starting -= 1

    # -- used by ray_batch ----------------------------------------------------------------------
    def acquire(self, *, idle: bool = False) -> Slot | None:
        """The live actor with the fewest chunks in flight, if it has room for one more (with
        `idle`, only an actor with nothing in flight: a retry's deadline then measures it alone)."""
        with self._lock:
            room = [slot for slot in self._slots if slot.alive and slot.busy < (1 if idle else self.DEPTH)]
            if not room:
                return None
            slot = min(room, key=lambda candidate: (candidate.busy, candidate.index))
            slot.busy += 1
            return slot

    def release(self, slot: Slot) -> None:
        with self._lock:
            slot.busy = max(0, slot.busy - 1)

    def live_count(self) -> int:
        with self._lock:
            return max(1, sum(slot.alive for slot in self._slots))

    def has_prospects(self) -> bool:
        with self._lock:
            return any(slot.alive for slot in self._slots) or self._starting > 0

    def chunk_limit(self, slot: Slot) -> int:
        return self.CHUNK_PER_WORKER * slot.workers

    def call_timeout(self, slot: Slot, programs: int) -> float:
        """Deadline of one chunk: every program may use its whole backstop, plus a calibration
        run of its task's reference, with `DEPTH` chunks sharing the actor's workers."""
        if self.call_timeout_s is not None:
            return self.call_timeout_s
        rounds = math.ceil(max(1, programs) * self.DEPTH / slot.workers)
        return rounds * 2 * self.config.max_program_timeout_s + 60.0

    def lose(self, slot: Slot, error: BaseException | str) -> str:
        """Take an actor out of the pool (killed: it may be hung), replace it; the reason, one line."""
        reason = error if isinstance(error, str) else one_line(error)
        with self._lock:
            if not slot.alive:
                return reason
            slot.alive = False
            slot.busy = 0
            slot.lost_reason = reason
            replace = not self._closed and self.replacements < self.MAX_REPLACEMENTS
            if replace:
                self.replacements += 1
                self._starting += 1
        self._kill(slot)
        if replace:
            thread = threading.Thread(target=self._replace, args=(slot,), name="codeself-ray-replace", daemon=True)
            with self._lock:
                self._replacing.append(thread)
            thread.start()
        return reason

    def heartbeat(self) -> None:
        """Ping busy actors every `heartbeat_s`; one silent for `heartbeat_timeout_s` is hung."""
        now = time.monotonic()
        with self._lock:
            busy = [slot for slot in self._slots if slot.alive and slot.busy]
        for slot in busy:
            with self._lock:
                if slot.ping_ref is None and now - slot.last_ok >= self.heartbeat_s:
                    slot.ping_ref = slot.handle.ping.options(concurrency_group="health").remote()
                    slot.ping_sent = now
                    continue
                ref = slot.ping_ref
            if ref is None:
                continue
            if self.ray.wait([ref], num_returns=1, timeout=0)[0]:
                with self._lock:
                    slot.ping_ref, slot.last_ok = None, now
            elif now - slot.ping_sent > self.heartbeat_timeout_s:
                self.lose(slot, f"no heartbeat answer within {self.heartbeat_timeout_s:g} s (hung)")

    # -- the Executor API -----------------------------------------------------------------------
    @property
    def total_workers(self) -> int:
        with self._lock:
            return sum(slot.workers for slot in self._slots if slot.alive)

    def actors(self) -> list[dict[str, Any]]:
        """The pool as it is now: host, pid, node, workers, alive (for tests and reports)."""
        with self._lock:
            return [{**slot.where(), "pid": slot.pid, "workers": slot.workers, "alive": slot.alive, "index": slot.index}
                    for slot in self._slots]

    def run(self, task: Task, program: str) -> ExecutionResult:
        [result] = list(self.run_many([(task, program)]))
        return result

    def run_many(self, jobs: Iterable[tuple[Task, str]], *, window: int | None = None) -> Iterator[ExecutionResult]:
        """Results in input order, streaming, at most `window` programs ahead of the oldest
        unfinished one (default 256 + 2 x the pool's workers)."""
        self._check_usable()
        yield from Batch(self, jobs, window or 256 + 2 * self.total_workers, self.batch_timeout_s).results()

    def warm_up(self, tasks: Iterable[Task]) -> None:
        """Time every task's reference on every actor now (what the first runs would do anyway)."""
        self._check_usable()
        tasks = list(tasks)
        with self._lock:
            live = [slot for slot in self._slots if slot.alive]
        refs = [slot.handle.timeouts.remote(task) for slot in live for task in tasks]
        self.ray.get(refs, timeout=self.start_timeout_s + len(tasks) * self.config.max_program_timeout_s)

    def timeouts(self, task: Task) -> "Timeouts":
        """The limits a run of `task` gets on one actor (each actor calibrates on its own node,
        so another actor's may differ a little); a lost actor is a RuntimeError."""
        self._check_usable()
        slot = self._wait_for_slot()
        if slot is None:
            raise RuntimeError("no live sandbox actor on the Ray cluster")
        try:
            timeout = self.config.max_program_timeout_s + 60.0
            return self.ray.get(slot.handle.timeouts.remote(task), timeout=timeout)
        except Exception as error:  # noqa: BLE001 - any Ray failure: this actor is lost
            raise RuntimeError(f"the Ray sandbox failed: {self.lose(slot, error)}") from None
        finally:
            self.release(slot)

    def call_function(self, program: str, entry_point: str, arg_lists: list[list], *,
                      per_call_timeout_s: float, setup_code: str = "") -> list[CallOutcome]:
        """`Executor.call_function` on one actor; a lost actor is retried once on another."""
        self._check_usable()
        timeout = self.config.program_timeout_s + per_call_timeout_s * (len(arg_lists) + 1) + 60.0
        reason = "no live sandbox actor"
        for _ in range(2):
            slot = self._wait_for_slot()
            if slot is None:
                break
            try:
                ref = slot.handle.call_function.remote(program, entry_point, arg_lists, per_call_timeout_s, setup_code)
                return self.ray.get(ref, timeout=timeout)
            except Exception as error:  # noqa: BLE001 - any Ray failure: this actor is lost
                reason = self.lose(slot, error)
            finally:
                self.release(slot)
        lost = CallOutcome(False, None, "SandboxError", f"the Ray sandbox failed: {reason}"[:300], 0.0)
        return [lost] * len(arg_lists)

    def _wait_for_slot(self) -> Slot | None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline and self.has_prospects():
            slot = self.acquire()
            if slot is not None:
                return slot
            time.sleep(0.05)
        return None

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_usable(self) -> None:
        if self._closed:
            raise RuntimeError("this RayExecutor is closed (its actors are stopped); create a new one")

    def close(self) -> None:
        """Stop the actors (their sandbox workers exit with them) and, when this executor
        connected or started Ray, disconnect (a local instance is shut down). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            slots, self._slots = list(self._slots), []
            replacing = list(self._replacing)
        for thread in replacing:  # they see _closed within one wait step; Ray must outlive their calls
            thread.join(timeout=30)
        if slots:
            refs = [slot.handle.close.remote() for slot in slots if slot.alive]
            try:
                self.ray.wait(refs, num_returns=len(refs), timeout=10.0)
            except Exception:  # noqa: BLE001 - best effort: the kill below stops them anyway
                pass
            for slot in slots:
                self._kill(slot)
        if self._owns_connection:
            self.ray.shutdown()
