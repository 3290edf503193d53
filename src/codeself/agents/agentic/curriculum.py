"""Adaptive task choice for `CodeRepairEnv.reset`: which category of task comes next, from the
agent's recent rewards per category (`EnvConfig.curriculum`, off by default).

**Categories.** In a repair environment with repair categories configured
(`EnvConfig.repair_categories`, categories.py) the curriculum's categories are those: it draws
a category, categories.py a task that supports it, and an episode counts for its start's
category. Otherwise they are the tasks' own: `metadata.repair_category`, `metadata.category` or
`metadata.family` (the generated families), else the family part of an id `<source>/<family>/<n>`
(`gen2/clamp/3`), else the id's first part (`mbpp/11` -> `mbpp`); the curriculum draws a
category, then a task of it uniformly. (An episode's category for /stats and the report is its
start's repair category when it has one, else its task's: `episode_category`.)

Rules (`CURRICULUM_RULES`):

* `rolling` — a ladder. Categories are ordered easiest first (`order` in the TOML, then the others
  in the order of `repair_categories`, or by name); the agent is at a **level** L, the **frontier** category is `order[L]`, categories
  0..L are unlocked. A reset picks the frontier with probability `frontier_weight` and each
  other unlocked category with (1 − frontier_weight) / L (level 0: the frontier always), then a
  task of that category uniformly. After each episode of the frontier, once its last `window`
  episodes are in: promote (L + 1) when their mean ≥ `promote_at`, demote (L − 1) when ≤
  `demote_at`; a move clears the window of both categories involved, so the next move needs
  `window` fresh episodes (no oscillation on stale rewards).
* `balanced` — every category equally likely, no adaptation (the control arm of an ablation).

The value averaged is the episode's return (`metric = "return"`) or 1/0 for a final submission
that passes every test (`metric = "passed"`). Random choices use `derive_seed(reset seed,
"curriculum")`: the same seed and the same history of rewards give the same tasks.
`reset(options={"task_id": ...})` (or `"category"`) bypasses the choice; the episode still counts.

`EnvConfig.curriculum` is a rule name (its defaults) or a TOML file with the fields of
`CurriculumConfig` (configs/curriculum/rolling.toml).
"""

from __future__ import annotations

import math
import random
import threading
import tomllib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from codeself.agents.backends.base import derive_seed
from codeself.datasets.task import Task

CURRICULUM_RULES = ("rolling", "balanced")
CURRICULUM_METRICS = ("return", "passed")
MAX_CHANGES_KEPT = 100  # promotions/demotions listed by to_json (the most recent)


@dataclass(frozen=True)
class CurriculumConfig:
    rule: str = "rolling"
    window: int = 8  # episodes of the frontier category averaged
    promote_at: float = 0.8  # mean >= this: next category
    demote_at: float = 0.2  # mean <= this: previous category
    metric: str = "return"
    frontier_weight: float = 0.7  # share of resets on the frontier once other categories are unlocked
    order: tuple[str, ...] = ()  # categories, easiest first; unlisted ones follow by name

    def __post_init__(self) -> None:
        if self.rule not in CURRICULUM_RULES:
            raise ValueError(f"curriculum rule {self.rule!r} is unknown; choose one of {', '.join(CURRICULUM_RULES)}")
        if self.metric not in CURRICULUM_METRICS:
            raise ValueError(f"curriculum metric {self.metric!r} is unknown; choose one of "
                             f"{', '.join(CURRICULUM_METRICS)}")
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 1:
            raise ValueError(f"curriculum window must be an integer >= 1, got {self.window!r}")
        for name in ("promote_at", "demote_at", "frontier_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"curriculum {name} must be a finite number, got {value!r}")
        if not self.demote_at < self.promote_at:
            raise ValueError(f"curriculum demote_at ({self.demote_at}) must be below promote_at ({self.promote_at})")
        if not 0.0 < self.frontier_weight <= 1.0:
            raise ValueError(f"curriculum frontier_weight must be in (0, 1], got {self.frontier_weight}")
        if len(set(self.order)) != len(self.order) or not all(isinstance(c, str) and c for c in self.order):
            raise ValueError(f"curriculum order must list distinct category names, got {list(self.order)!r}")

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "window": self.window, "promote_at": self.promote_at, "demote_at": self.demote_at,
                "metric": self.metric, "frontier_weight": self.frontier_weight, "order": list(self.order)}


def load_curriculum(spec: str) -> CurriculumConfig:
    """The CurriculumConfig of `spec`: a rule name (defaults) or a TOML file; one-line errors."""
    if spec in CURRICULUM_RULES and not Path(spec).is_file():
        return CurriculumConfig(rule=spec)
    try:
        with open(spec, "rb") as handle:
            values = tomllib.load(handle)
    except OSError as error:
        raise ValueError(f"--curriculum {spec}: not a rule ({', '.join(CURRICULUM_RULES)}) and not a readable "
                         f"TOML file ({error.strerror or error})") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"--curriculum {spec}: not valid TOML ({error})") from None
    known = [spec_.name for spec_ in fields(CurriculumConfig)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"--curriculum {spec}: unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}")
    if "order" in values:
        if not isinstance(values["order"], list):
            raise ValueError(f"--curriculum {spec}: order must be a list of category names")
        values["order"] = tuple(values["order"])
    try:
        return CurriculumConfig(**values)
    except (TypeError, ValueError) as error:
        raise ValueError(f"--curriculum {spec}: {error}") from None


def task_category(task: Task) -> str:
    """A task's category before any episode (module docstring)."""
    metadata = task.metadata or {}
    for key in ("repair_category", "category", "family"):
        if isinstance(metadata.get(key), str) and metadata[key]:
            return metadata[key]
    return id_category(task.task_id)


def id_category(task_id: str) -> str:
    """The category an id alone gives: `<source>/<family>/<n>` -> family, else the first part."""
    parts = task_id.split("/")
    return parts[1] if len(parts) >= 3 else parts[0]


def episode_category(task: Task, start: Mapping[str, Any] | None) -> str:
    """An episode's category: its start's repair category, else its task's."""
    named = (start or {}).get("category")
    return named if isinstance(named, str) and named else task_category(task)


class Curriculum:
    """The ladder (or balanced draw) over one task set; thread-safe, shared by a server's sessions.

    Its categories are the tasks' own (`space = "task"`: `choose_task` draws a task), or, for a
    repair environment with repair categories configured, those categories (`space = "repair"`:
    `choose_category` draws one and categories.py draws a task supporting it)."""

    def __init__(self, config: CurriculumConfig, tasks: Mapping[str, Task], repair_categories: tuple[str, ...] = ()
                 ) -> None:
        self.config = config
        self.space = "repair" if repair_categories else "task"
        if repair_categories:
            from codeself.agents.agentic.categories import supports

            self.groups = {name: ids for name in repair_categories
                           if (ids := [task_id for task_id in sorted(tasks) if supports(tasks[task_id], name)])}
        else:
            self.groups = {}
            for task_id in sorted(tasks):
                self.groups.setdefault(task_category(tasks[task_id]), []).append(task_id)
        if not self.groups:
            raise ValueError("the curriculum has no category with a task (no loaded task supports the repair "
                             f"categories {', '.join(repair_categories)})")
        listed = [name for name in config.order if name in self.groups]
        self.order = listed + [name for name in (repair_categories or sorted(self.groups)) if name not in listed]
        self.level, self.episodes = 0, 0
        self.changes: deque[dict[str, Any]] = deque(maxlen=MAX_CHANGES_KEPT)
        self._windows: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def key(self, task: Task, start: Mapping[str, Any] | None) -> str | None:
        """The category an episode counts for: its task's, or its start's repair category (None:
        an episode outside the curriculum's categories, e.g. solve mode in a repair curriculum)."""
        if self.space == "task":
            return task_category(task)
        named = (start or {}).get("category")
        return named if named in self.groups else None

    def weights(self) -> dict[str, float]:
        """Each category's probability at the next reset (0 for locked ones)."""
        if self.config.rule == "balanced":
            return {name: 1.0 / len(self.order) for name in self.order}
        level, share = self.level, self.config.frontier_weight
        return {name: (1.0 if level == 0 else share) if k == level else
                ((1.0 - share) / level if k < level else 0.0) for k, name in enumerate(self.order)}

    def _draw(self, seed: int) -> tuple[str, random.Random]:
        with self._lock:
            weights = self.weights()
        names = [name for name in self.order if weights[name] > 0]
        rng = random.Random(derive_seed(seed, "curriculum"))
        return rng.choices(names, [weights[name] for name in names])[0], rng

    def choose_category(self, seed: int) -> str:
        """The category of the next episode, drawn with the reset's seed."""
        return self._draw(seed)[0]

    def choose_task(self, seed: int) -> str:
        """A task of the drawn category (uniformly), drawn with the reset's seed."""
        category, rng = self._draw(seed)
        return rng.choice(self.groups[category])

    def record(self, category: str | None, episode_return: float, passed: bool) -> None:
        """One finished episode of `category` (`key`); may move the level (module docstring)."""
        value = float(passed) if self.config.metric == "passed" else float(episode_return)
        with self._lock:
            self.episodes += 1
            if category not in self.groups:
                return
            window = self._windows.setdefault(category, deque(maxlen=self.config.window))
            window.append(value)
            if self.config.rule != "rolling" or category != self.order[self.level] or len(window) < self.config.window:
                return
            mean = math.fsum(window) / len(window)
            step = (1 if mean >= self.config.promote_at and self.level + 1 < len(self.order) else
                    -1 if mean <= self.config.demote_at and self.level > 0 else 0)
            if step:
                before = self.order[self.level]
                self.level += step
                self._windows.pop(before, None)
                self._windows.pop(self.order[self.level], None)
                self.changes.append({"episode": self.episodes, "move": "promote" if step > 0 else "demote",
                                     "from": before, "to": self.order[self.level], "mean": mean})

    def to_json(self) -> dict[str, Any]:
        """GET /curriculum."""
        with self._lock:
            weights = self.weights()
            categories = {}
            for k, name in enumerate(self.order):
                window = list(self._windows.get(name, ()))
                categories[name] = {"rank": k, "tasks": len(self.groups[name]), "weight": weights[name],
                                    "unlocked": weights[name] > 0, "window": window,
                                    "window_mean": math.fsum(window) / len(window) if window else None}
            return {"enabled": True, "rule": self.config.rule, "space": self.space, "thresholds": self.config.to_json(),
                    "level": self.level, "frontier": self.order[self.level] if self.config.rule == "rolling" else None,
                    "episodes": self.episodes, "categories": categories, "changes": list(self.changes)}
