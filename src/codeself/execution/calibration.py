"""Reference timings kept on disk, so a later run on the same tasks and machine skips them.

Why: a task's per-test limits are scaled from its reference solution's measured time, and
measuring costs one more run of that reference per task and Executor. For an evaluation
with one sample per task that doubles the work (MBPP+ references alone take minutes).
EvalPlus caches its ground-truth times for the same reason. Only successful measurements
are stored (a failure may be a passing load spike; it is measured again next time), and
only for the machine and sandbox they were measured on: each entry's key starts with a
fingerprint of both, so one file may serve several machines without mixing them.

File: JSON {"format": FORMAT, "entries": {key: {"import_s": float, "tests_s": [float, ...],
"measured_at": ISO time}}}, key = "<fingerprint>:<task_id>:<digest>" (the digest covers
everything the measurement depends on: `engine._calibration_digest`). The same file keeps
references' efficiency measurements (efficiency_run.py): key "<fingerprint>:efficiency:<task_id>:
<digest>" (`efficiency.reference_key`, which names the cost model), entry {"instructions":
[int, ...], "values": [codec-encoded return value, ...], "measured_at": ISO time}. Written atomically
when the Executor closes, merged with what is on disk then; a file that is not a
calibration cache is refused, never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future

from codeself.execution.runner import Calibration

FORMAT = "codeself-calibration/1"
MAX_ENTRIES = 100_000  # oldest dropped first when saving (about 10 MB of JSON)


def machine_fingerprint(isolation: str) -> str:
    """Host, processor count, interpreter and sandbox level: what measured times depend on."""
    parts = [platform.node(), platform.machine(), str(os.cpu_count()), sys.version, isolation]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


class CalibrationStore:
    """The on-disk cache of one Executor (thread-safe)."""

    def __init__(self, path: str, isolation: str) -> None:
        self.path = path
        self.prefix = machine_fingerprint(isolation) + ":"
        self._lock = threading.Lock()
        self._added: dict[str, dict] = {}
        self._entries = _load(path)

    def get(self, task_id: str, digest: str) -> Calibration | None:
        entry = self.get_entry(task_id, digest)
        if entry is None or "tests_s" not in entry:
            return None
        return Calibration(import_s=float(entry["import_s"]), tests_s=tuple(float(t) for t in entry["tests_s"]))

    def put(self, task_id: str, digest: str, calibration: Calibration) -> None:
        if calibration.tests_s is None:  # failed: not worth keeping (see module docstring)
            return
        self.put_entry(task_id, digest, {"import_s": calibration.import_s, "tests_s": list(calibration.tests_s)})

    def get_entry(self, task_id: str, digest: str) -> dict | None:
        key = self._key(task_id, digest)
        with self._lock:
            return self._added.get(key) or self._entries.get(key)

    def put_entry(self, task_id: str, digest: str, entry: dict) -> None:
        entry = {**entry, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        with self._lock:
            self._added[self._key(task_id, digest)] = entry

    def save(self) -> int:
        """Merge this run's measurements into the file; returns how many were new."""
        from codeself.jsonl import write_text

        with self._lock:
            added, self._added = self._added, {}
        if not added:
            return 0
        entries = {**_load(self.path), **added}  # re-read: another run may have saved meanwhile
        for key in list(entries)[:max(0, len(entries) - MAX_ENTRIES)]:
            del entries[key]
        write_text(self.path, json.dumps({"format": FORMAT, "entries": entries}, separators=(",", ":")) + "\n")
        self._entries = entries
        return len(added)

    def _key(self, task_id: str, digest: str) -> str:
        return f"{self.prefix}{task_id}:{digest}"


class CalibrationCache:
    """An Executor's measured reference times by (task_id, digest): an in-memory LRU of `size`
    entries in front of the optional on-disk `store`. Thread-safe; a key is measured by one
    caller at a time while the others wanting it wait for that measurement. `runs` counts
    the measurements made (what `Executor.calibration_runs` reports)."""

    def __init__(self, size: int, store: CalibrationStore | None = None) -> None:
        self.size = size
        self.store = store
        self.runs = 0
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[str, str], Calibration] = OrderedDict()
        self._pending: dict[tuple[str, str], Future] = {}  # in flight: later callers wait on it

    def get_or_measure(self, key: tuple[str, str], measure: Callable[[], Calibration]) -> Calibration:
        """The cached measurement for `key`, or `measure()`'s, kept (a failed one too)."""
        with self._lock:
            found = self._kept.get(key)
            if found is None and self.store is not None:
                found = self.store.get(*key)
                if found is not None:
                    self._remember(key, found)
            if found is not None:
                self._kept.move_to_end(key)
                return found
            waiting = self._pending.get(key)
            if waiting is None:
                mine = self._pending[key] = Future()
                self.runs += 1
        if waiting is not None:
            return waiting.result()
        try:
            measured = measure()
        except BaseException as error:
            with self._lock:
                del self._pending[key]
            mine.set_exception(error)
            raise
        with self._lock:
            self._remember(key, measured)
            del self._pending[key]
        if self.store is not None:
            self.store.put(*key, measured)
        mine.set_result(measured)
        return measured

    def has(self, key: tuple[str, str]) -> bool:
        """Whether `key` is kept in memory or being measured (the on-disk store is not asked)."""
        with self._lock:
            return key in self._kept or key in self._pending

    def _remember(self, key: tuple[str, str], calibration: Calibration) -> None:
        """Into the LRU (caller holds the lock)."""
        self._kept[key] = calibration
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)


def _load(path: str) -> dict[str, dict]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise ValueError(f"calibration cache {path}: cannot read it ({error}); delete it or pass another path") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("entries"), dict):
        raise ValueError(f"calibration cache {path}: not a {FORMAT} file; refusing to overwrite it")
    return {key: entry for key, entry in data["entries"].items() if _valid(entry)}


def _valid(entry: object) -> bool:
    if isinstance(entry, dict) and isinstance(entry.get("instructions"), list):  # a reference's efficiency
        counts, values = entry["instructions"], entry.get("values")
        return (isinstance(values, list) and len(values) == len(counts)
                and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts))
    if not isinstance(entry, dict) or not isinstance(entry.get("tests_s"), list):
        return False
    values = [entry.get("import_s"), *entry["tests_s"]]
    return all(isinstance(value, (int, float)) and 0 <= value < float("inf") for value in values)
