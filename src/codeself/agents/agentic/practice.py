"""What an environment keeps across episodes: the curriculum, the memory and the episode stats.

One `Practice` per environment, or one shared by every session of a server (server.SessionStore
makes it, so the curriculum and memory see all of the agent's episodes and GET /curriculum,
/stats and /memory report them). `CodeRepairEnv` calls it at three points: `choose` (reset
without a task id), `begin` (the episode's category and the memory note, once the start
exists) and `finish` (the finished episode's category, return, verdict and efficiency). With the
curriculum and memory off (the default) it only counts stats, and episodes are unchanged.

`distribution` is shared with the strategy report (report.py), so /stats and the report compute
percentiles and histograms the same way.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from typing import Any

from codeself.agents.agentic.curriculum import Curriculum, episode_category, load_curriculum
from codeself.agents.agentic.memory import Memory, MemoryEntry, memory_note
from codeself.datasets.task import Task

SCORE_EDGES = tuple(k / 10 for k in range(11))  # efficiency score: tenths of [0, 1]
EXPONENT_EDGES = tuple(k / 4 for k in range(13))  # growth exponent: quarters of [0, 3]
PERCENTILES = (10, 25, 50, 75, 90, 99)
KEEP_VALUES = 100_000  # efficiency values /stats keeps (the most recent): a long-running server stays bounded


def distribution(values: Sequence[float], edges: Sequence[float]) -> dict[str, Any]:
    """n, mean, percentiles (linear interpolation between order statistics) and a histogram over
    `edges` (bins [e_i, e_i+1), the last closed; values outside go to the end bins)."""
    ordered = sorted(float(value) for value in values)
    n = len(ordered)
    counts = [0] * (len(edges) - 1)
    for value in ordered:
        index = sum(value >= edge for edge in edges[1:-1])
        counts[index] += 1
    histogram = {"edges": list(edges), "counts": counts}
    if not n:
        return {"n": 0, "mean": None, "percentiles": {f"p{q}": None for q in PERCENTILES}, "histogram": histogram}

    def percentile(q: int) -> float:
        position = q / 100 * (n - 1)
        low, high = math.floor(position), math.ceil(position)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return {"n": n, "mean": math.fsum(ordered) / n, "percentiles": {f"p{q}": percentile(q) for q in PERCENTILES},
            "histogram": histogram}


def efficiency_values(record: Mapping[str, Any] | None) -> tuple[float | None, float | None]:
    """(score, exponent) of an efficiency record (None for what it lacks)."""
    if not isinstance(record, Mapping):
        return None, None
    score, exponent = record.get("score"), record.get("exponent")
    return (float(score) if isinstance(score, (int, float)) else None,
            float(exponent) if isinstance(exponent, (int, float)) and record.get("status") == "ok" else None)


class EpisodeStats:
    """Reward by category, the efficiency distribution and memory use of finished episodes."""

    def __init__(self) -> None:
        self.by_category: dict[str, list[float]] = {}  # [episodes, sum of returns, passed]
        self.scores: deque[float] = deque(maxlen=KEEP_VALUES)
        self.exponents: deque[float] = deque(maxlen=KEEP_VALUES)
        self.memory: Counter = Counter()
        self._lock = threading.Lock()

    def add(self, category: str, episode_return: float, passed: bool, efficiency: Any, shown: bool) -> None:
        score, exponent = efficiency_values(efficiency)
        with self._lock:
            row = self.by_category.setdefault(category, [0, 0.0, 0])
            row[0] += 1
            row[1] += episode_return
            row[2] += passed
            if score is not None:
                self.scores.append(score)
            if exponent is not None:
                self.exponents.append(exponent)
            kind = "shown" if shown else "not_shown"
            self.memory[f"{kind}_episodes"] += 1
            self.memory[f"{kind}_passed"] += passed

    def to_json(self) -> dict[str, Any]:
        """GET /stats."""
        with self._lock:
            categories = {name: {"episodes": int(n), "mean_return": total / n, "pass_rate": passed / n}
                          for name, (n, total, passed) in sorted(self.by_category.items())}
            memory = {name: self.memory[name] for name in ("shown_episodes", "shown_passed", "not_shown_episodes",
                                                           "not_shown_passed")}
            return {"episodes": int(sum(row[0] for row in self.by_category.values())), "by_category": categories,
                    "efficiency": {"score": distribution(self.scores, SCORE_EDGES),
                                   "exponent": distribution(self.exponents, EXPONENT_EDGES)},
                    "memory": memory}


class Practice:
    """See the module docstring."""

    def __init__(self, tasks: Mapping[str, Task], curriculum: str | None = None, memory: str = "off",
                 repair_categories: tuple[str, ...] = ()) -> None:
        """`repair_categories`: a repair environment's configured categories (the curriculum's then)."""
        self.curriculum = Curriculum(load_curriculum(curriculum), tasks, repair_categories) if curriculum else None
        self.memory = Memory(memory) if memory != "off" else None
        self.stats = EpisodeStats()

    @property
    def active(self) -> bool:
        """Whether episodes differ from a plain environment's (tasks chosen, notes shown)."""
        return self.curriculum is not None or self.memory is not None

    @classmethod
    def of(cls, tasks: Mapping[str, Task], config: Any) -> "Practice":
        """The practice an EnvConfig asks for."""
        repair = tuple(getattr(config, "repair_categories", ())) if config.mode == "repair" else ()
        return cls(tasks, config.curriculum, config.memory, repair)

    def choose_task(self, seed: int) -> str | None:
        """The next task id under a curriculum over the tasks' categories; None otherwise (the
        environment draws, or categories.py with `choose_category`)."""
        curriculum = self.curriculum
        return curriculum.choose_task(seed) if curriculum is not None and curriculum.space == "task" else None

    def choose_category(self, seed: int) -> str | None:
        """The next repair category under a curriculum over repair categories; None otherwise."""
        curriculum = self.curriculum
        return curriculum.choose_category(seed) if curriculum is not None and curriculum.space == "repair" else None

    def begin(self, task: Task, start: Mapping[str, Any] | None) -> tuple[str, MemoryEntry | None, str | None]:
        """(the episode's category, the memory entry shown, the note to append to its first message)."""
        category = episode_category(task, start)
        entry = self.memory.recall(task) if self.memory is not None else None
        return category, entry, (memory_note(entry, self.memory.scope) if entry is not None else None)

    def finish(self, task: Task, start: Mapping[str, Any] | None, *, episode_return: float, passed: bool,
               code: str | None, efficiency: Any, episode_id: str, turn: int, shown: MemoryEntry | None) -> None:
        """Count a finished episode; feed the curriculum and offer the submission to the memory."""
        category = episode_category(task, start)
        self.stats.add(category, episode_return, passed, efficiency, shown is not None)
        if self.curriculum is not None:
            self.curriculum.record(self.curriculum.key(task, start), episode_return, passed)
        if self.memory is not None:
            score, _ = efficiency_values(efficiency)
            self.memory.offer(task, passed=passed, code=code, score=score, episode_id=episode_id, turn=turn)

    @staticmethod
    def trace_metadata(category: str, shown: MemoryEntry | None) -> dict[str, Any]:
        """What an episode's trace records of its practice (only when `active`)."""
        memory = None if shown is None else {"key": shown.key, "task_id": shown.task_id,
                                             "source_episode": shown.episode_id, "score": shown.score}
        return {"category": category, "memory": memory}

    def curriculum_json(self) -> dict[str, Any]:
        return self.curriculum.to_json() if self.curriculum is not None else {"enabled": False}

    def memory_json(self) -> dict[str, Any]:
        return self.memory.to_json() if self.memory is not None else {"enabled": False}


def practice_json(curriculum: str | None, memory: str) -> dict[str, Any]:
    """EnvConfig.to_json's practice fields: the curriculum's settings and the memory scope, when on."""
    return {**({"curriculum": load_curriculum(curriculum).to_json()} if curriculum else {}),
            **({"memory": memory} if memory != "off" else {})}
