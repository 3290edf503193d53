"""The rollout output file: appended record by record, resumable, with a config sidecar.

Rollouts are expensive (model calls, sandbox runs), so they are appended and flushed as they
are produced instead of written atomically at the end: after a crash or Ctrl-C the file holds
every finished sample and `--resume` continues it. The policy a researcher expects:

* a new run refuses an existing output (pass `--resume` to continue it, `--overwrite` to
  start over), so finished work is never destroyed by a repeated command;
* `--resume` reads the output, drops a torn last line (the one being written when the run was
  interrupted), skips every (task_id, sample_index) already there, and appends the rest;
* it refuses when the existing records or the sidecar `<output>.config.json` were made with a
  different configuration (config hash, seed, tasks file, split or reward config), since
  mixing them would make one file describe two experiments;
* two runs never write one output at once: the writer holds an exclusive `flock` on it.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import IO, Any

from codeself.jsonl import dumps_record, write_json

# Sidecar keys that must match for --resume; the rest (command line, limit, workers) may change.
RESUME_KEYS = ("config_hash", "seed", "tasks_sha256", "split", "reward_config")


def written_phrase(noun: str, written: int, kept: int, output: str | os.PathLike) -> str:
    """`wrote N rollout(s) to OUT`; after a resume also what the file holds, e.g. `wrote 40 new
    rollout(s) to OUT (200 in the file, 160 kept from before)`, so the count of this run's
    records is not read as the size of the file. `noun` names a record: rollout, episode."""
    if not kept:
        return f"wrote {written} {noun}(s) to {output}"
    return f"wrote {written} new {noun}(s) to {output} ({written + kept} in the file, {kept} kept from before)"


def sidecar_path(output: str | os.PathLike) -> Path:
    return Path(f"{output}.config.json")


def read_done(output: Path, config_hash: str, seed: int) -> tuple[dict[str, set[int]], int]:
    """(task_id -> sample indices already in `output`, byte length of its intact prefix)."""
    done: dict[str, set[int]] = {}
    intact = 0
    with open(output, "rb") as handle:
        for line_number, raw in enumerate(iter(handle.readline, b""), start=1):
            record = _parse_line(raw)
            if record is None:
                if not handle.read(1):  # the last line, torn by an interruption: dropped
                    break
                raise ValueError(f"{output}:{line_number}: not a JSON rollout record; cannot resume")
            if record:
                _check_compatible(record, output, line_number, config_hash, seed)
                done.setdefault(record["task_id"], set()).add(record["sample_index"])
            intact += len(raw)
    return done, intact


def _parse_line(raw: bytes) -> Any:
    """The record of a complete line, {} for a blank line, None for a torn or invalid line."""
    if not raw.endswith(b"\n"):
        return None
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _check_compatible(record: Any, output: Path, line_number: int, config_hash: str, seed: int) -> None:
    where = f"{output}:{line_number}"
    if not isinstance(record, dict) or not isinstance(record.get("task_id"), str) \
            or not isinstance(record.get("sample_index"), int):
        raise ValueError(f"{where}: not a rollout record (needs task_id and sample_index); cannot resume")
    if record.get("config_hash") != config_hash or record.get("seed") != seed:
        raise ValueError(
            f"{where}: written with config_hash {str(record.get('config_hash'))[:12]} seed "
            f"{record.get('seed')}, this run has {config_hash[:12]} seed {seed}; resume with the "
            "same backend/model/template/sampling settings and seed, or choose another --output")


def check_sidecar(output: Path, sidecar: dict[str, Any]) -> None:
    """Refuse to resume when the recorded configuration differs from this run's."""
    path = sidecar_path(output)
    if not path.is_file():
        return
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError(f"{path}: not valid JSON; delete it or choose another --output") from None
    changed = [key for key in RESUME_KEYS if previous.get(key) != sidecar.get(key)]
    if changed:
        raise ValueError(f"cannot resume {output}: {', '.join(changed)} differ(s) from the run recorded "
                         f"in {path}; use the original settings or another --output")


class RolloutWriter:
    """Appends one JSON line per rollout and flushes it, so an interruption loses at most one."""

    def __init__(self, output: Path, *, resume: bool, overwrite: bool, config_hash: str, seed: int,
                 sidecar: dict[str, Any]) -> None:
        self.output = output
        self.done: dict[str, set[int]] = {}
        self.resumed = 0
        self.written = 0
        exists = output.exists()
        if exists and not (resume or overwrite):
            raise ValueError(f"{output} already exists; pass --resume to continue it or --overwrite to replace it")
        output.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _lock_output(output)
        try:
            if resume and exists:
                sidecar = self._prepare_resume(sidecar, config_hash, seed)
            write_json(sidecar_path(output), sidecar)
            self._handle = open(output, "a" if resume else "w", encoding="utf-8", newline="\n")
        except BaseException:
            self._lock.close()
            raise

    def _prepare_resume(self, sidecar: dict[str, Any], config_hash: str, seed: int) -> dict[str, Any]:
        check_sidecar(self.output, sidecar)
        self.done, intact = read_done(self.output, config_hash, seed)
        self.resumed = sum(len(indices) for indices in self.done.values())
        with open(self.output, "r+b") as handle:
            handle.truncate(intact)
        previous = _read_json(sidecar_path(self.output))
        return {**sidecar, "runs": previous.get("runs", []) + sidecar["runs"]}

    def is_done(self, task_id: str, sample_index: int) -> bool:
        return sample_index in self.done.get(task_id, ())

    def write(self, record: dict[str, Any]) -> None:
        self._handle.write(dumps_record(record) + "\n")
        self._handle.flush()
        self.written += 1

    def discard(self) -> None:
        """Remove an output (and sidecar) this run created but never wrote a record to."""
        self.close()
        for path in (self.output, sidecar_path(self.output)):
            path.unlink(missing_ok=True)

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
        if not self._lock.closed:
            self._lock.close()  # releases the lock


def _lock_output(output: Path) -> IO[bytes]:
    """Hold an exclusive lock on the output itself so two runs never append to one file."""
    handle = open(output, "ab")  # creates a missing output, never truncates
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ValueError(f"{output} is being written by another run_rollouts process") from None
    return handle


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
