"""The agentic trace record: one JSON line per episode (docs/schemas.md, "Agentic traces").

Fields are split by who may see them. `MODEL_VISIBLE_EPISODE_FIELDS` and
`MODEL_VISIBLE_TURN_FIELDS` list what the model was (or could have been) shown: the prompt, the
messages added before each reply, its own replies and programs, the diffs between them, the
public-test outcomes and the feedback text. Everything else — the execution summary (its
status and counts depend on hidden tests), per-turn hidden-test outcomes, r_t, rewards, the
backend's metadata (e.g. the mock's intent) — is for analysis only and never enters a prompt.
The canary test (tests/test_agentic_canary.py) checks exactly these lists.

Timing (`timing` of the episode and of each turn) is the only part that varies between two runs
of the same command and seed.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from codeself.jsonl import iter_jsonl_lines

MODEL_VISIBLE_EPISODE_FIELDS = ("prompt", "start.code", "start.feedback")
MODEL_VISIBLE_TURN_FIELDS = ("shown", "completion", "code", "parse_status", "diff", "public_tests", "feedback")
STOP_REASONS = ("public_pass", "max_turns", "client")


@dataclass(frozen=True)
class TurnTrace:
    turn: int  # 1-based model turn
    shown: list[dict[str, str]]  # chat messages added before this reply (turn 1: the whole prompt)
    completion: str  # the raw reply
    code: str | None  # the program parsed from it (None: no code)
    parse_status: str  # codeself.parsing.PARSE_STATUSES
    diff: str  # unified diff from the previous program (repair: from the starting program)
    identical_to_previous: bool  # same program text as the previous turn's (trailing spaces ignored)
    public_tests: list[dict[str, Any]]  # [{index, passed, error_type, message}] as the feedback saw them
    feedback: str | None  # the next user message this attempt produced
    execution: dict[str, Any]  # {status, phase, error_type, error_category, public, hidden, isolation}
    hidden_tests: list[dict[str, Any]]  # [{index, passed, error_type}] recorded for analysis, never shown
    progress: float  # r_t: fraction of all tests passed
    reward: float  # the step's reward (penalties, plus the episode reward at the last turn)
    metadata: dict[str, Any] = field(default_factory=dict)  # backend metadata (mock intent, finish reason)
    timing: dict[str, float] = field(default_factory=dict)  # generation_s, execution_s

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "TurnTrace":
        return cls(**_fields_of(cls, record, "turn"))


@dataclass(frozen=True)
class EpisodeTrace:
    episode_id: str  # sha256 of (task_id, sample_index, config_hash, seed), 16 hex digits
    task_id: str
    sample_index: int
    split: str | None
    mode: str  # solve | repair
    backend: str
    model: str
    template: str
    config_hash: str  # template + backend + environment settings
    seed: int
    env: dict[str, Any]  # the environment config: feedback, max_revisions, stop_when_public_pass, reward, ...
    prompt: list[dict[str, str]]  # the first messages the model saw
    start: dict[str, Any] | None  # repair: {code, mutation, feedback, public_tests, execution, progress}
    turns: list[TurnTrace]
    turns_used: int
    stop_reason: str  # one of STOP_REASONS ("client": ended early by the caller, env.end())
    final: dict[str, Any]  # {turn, passed, public_passed, hidden_passed, status, error_category}
    first_error_category: str  # category of the first program judged (repair: the starting program)
    reward: dict[str, Any]  # {name, return, terminal, penalties, progress, r0, config}
    metadata: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        record = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        record["turns"] = [turn.to_json() for turn in self.turns]
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "EpisodeTrace":
        values = _fields_of(cls, record, "episode")
        if not isinstance(values["turns"], list) or not all(isinstance(t, dict) for t in values["turns"]):
            raise ValueError("not an agentic trace record: 'turns' must be a list of objects")
        values["turns"] = [TurnTrace.from_json(turn) for turn in values["turns"]]
        return cls(**values)

    def deterministic_json(self) -> dict[str, Any]:
        """The record without timing: equal across reruns of the same command and seed."""
        record = self.to_json()
        del record["timing"]
        for turn in record["turns"]:
            del turn["timing"]
        return record


def _fields_of(cls: type, record: Any, what: str) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise ValueError(f"not an agentic trace record: a {what} must be a JSON object")
    names = [f.name for f in dataclasses.fields(cls)]
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    missing = [name for name in required if name not in record]
    if missing:
        raise ValueError(f"not an agentic trace record: {what} misses {', '.join(missing)}")
    return {name: record[name] for name in names if name in record}


def read_traces(path: str | os.PathLike) -> Iterator[EpisodeTrace]:
    """Stream episodes from a trace JSONL; a line that is not one is `path:line: why`."""
    for line_number, record in iter_jsonl_lines(path):
        try:
            yield EpisodeTrace.from_json(record)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{path}:{line_number}: {error}") from None


def episode_id(task_id: str, sample_index: int, config_hash: str, seed: int) -> str:
    key = json.dumps([task_id, sample_index, config_hash, seed], separators=(",", ":"))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def normalise_code(code: str | None) -> str | None:
    """Program text compared for identical resubmission: trailing spaces and blank ends ignored."""
    if code is None:
        return None
    return "\n".join(line.rstrip() for line in code.strip("\n").splitlines())


def code_diff(previous: str | None, current: str | None) -> str:
    """Unified diff (2 lines of context) between two programs; "" when there is no previous one."""
    if previous is None or current is None:
        return ""
    lines = difflib.unified_diff(previous.splitlines(), current.splitlines(), "previous", "current",
                                 n=2, lineterm="")
    return "\n".join(lines)


def revision_size(diff: str) -> int:
    """Lines added plus lines removed in a unified diff (headers excluded).

    >>> revision_size("--- previous\\n+++ current\\n@@ -1 +1 @@\\n-a\\n+b")
    2
    """
    return sum(1 for line in diff.splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---")))
