"""Which train tasks a practice step uses: a uniform seeded draw, or a draw by learnability.

Why: GRPO and RLOO learn only from groups whose rewards differ, and the chance that a group of
G answers differs depends on the task's pass probability p: the signal per task scales with
p(1 - p), while a task the policy always (or never) solves gives all-equal groups and nothing
to learn from (`frac_reward_zero_std`). With p = 0.1 a group of G = 8 is all-equal 43 % of the
time. The learnability sampler keeps a per-task store of what each step's groups showed and
draws the next step's tasks with weight p̂(1 - p̂) plus an exploration share for tasks it has
not seen (or not seen lately). It chooses tasks *before* generation, so either trainer (smoke,
TRL) generates, scores and updates as usual.

The store (`TaskStore`) is kept under both samplers, so `sampled_p_hat` (the histogram of p̂ of
the tasks a step drew, before their groups were seen) is logged for uniform runs too. It is a
pure function of the steps' outcomes: `replay` rebuilds it from `rollouts.jsonl`, which is how
`--resume` restores it.

Weights at step t (`LearnabilitySampler.weights`; fields of `SamplerConfig`):

    s_i, f_i   passes and failures of task i, discounted: each time i is practised,
               s_i <- decay * s_i + passes, f_i <- decay * f_i + failures (the policy moves on)
    m_all   =  (S + 1) / (N + 2)                  pass rate of everything practised so far
    m_fam   =  (S_fam + m_all) / (N_fam + 1)      the task's family, shrunk towards m_all
    p̂_i    =  (s_i + k * m_fam) / (s_i + f_i + k)   k = prior_strength; never practised: p̂ = m_fam
    explore_i = p̂_i (1 - p̂_i) + explore_floor   if i was never practised or not in the last
                                                 stale_steps steps, else 0
    w_i     =  [i practised] * p̂_i (1 - p̂_i)  +  explore_weight * explore_i / sum_j explore_j

(S, N: sums of s and s + f over practised tasks; S_fam, N_fam: over the task's family, which
is `metadata["family"]`, else the task id up to its last "/".) The unseen and stale tasks share
one exploration weight, `explore_weight`, however many there are: a per-task bonus would let
hundreds of unseen tasks outweigh the few known to be learnable. The family prior lets a new
task of a family whose tasks were learnable be tried before one of a family always failed.
Tasks are drawn one at a time, proportionally to w among those not yet drawn, with
random.Random(derive_seed(seed, "learnability", t)): the same store and step give the same
tasks, so a resumed run draws what an uninterrupted one would.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from codeself.agents.backends.base import derive_seed
from codeself.datasets.task import Task

TASK_SAMPLERS = ("uniform", "learnability")
P_HAT_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # sampled_p_hat histogram edges; the last bin includes 1.0


@dataclass(frozen=True)
class SamplerConfig:
    """The learnability sampler's settings (formula in the module docstring).

    Defaults were chosen on simulated runs of 45 steps x 2 tasks x G = 8 (36 families of 9
    tasks, the spread of pass rates of the 2026-12-04 run: uniform drawing gave 0.56 zero-std
    groups, these settings 0.21-0.32 depending on how fast the policy learned)."""

    explore_weight: float = 0.1  # total weight of the unseen and stale tasks (one learnable task weighs <= 0.25)
    explore_floor: float = 0.05  # added to each exploration candidate's p̂(1-p̂): no candidate is ever excluded
    prior_strength: float = 0.25  # k: pseudo-completions of the family prior in p̂ (small: trust the groups seen)
    decay: float = 0.25  # weight of a task's earlier evidence each time it is practised again (1 = keep it all)
    stale_steps: int = 10  # a task not practised for this many steps joins the exploration pool again

    def __post_init__(self) -> None:
        if self.explore_weight < 0 or self.explore_floor < 0:
            raise ValueError(f"sampler_explore_weight and sampler_explore_floor must be >= 0, got "
                             f"{self.explore_weight} and {self.explore_floor}")
        if self.prior_strength <= 0:
            raise ValueError(f"sampler_prior_strength must be > 0, got {self.prior_strength}")
        if not 0.0 <= self.decay <= 1.0:
            raise ValueError(f"sampler_decay must be in [0, 1], got {self.decay}")
        if self.stale_steps < 1:
            raise ValueError(f"sampler_stale_steps must be >= 1, got {self.stale_steps}")


@dataclass
class TaskStats:
    """What the practice groups of one train task showed so far."""

    family: str
    attempts: int = 0  # completions scored
    passes: int = 0  # of them, full passes (every public and hidden test)
    pass_weight: float = 0.0  # s: discounted passes
    fail_weight: float = 0.0  # f: discounted failures
    last_step: int = 0  # last step that practised the task (0 = never)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> "TaskStats":
        return cls(str(document["family"]), int(document["attempts"]), int(document["passes"]),
                   float(document["pass_weight"]), float(document["fail_weight"]), int(document["last_step"]))


def task_family(task: Task) -> str:
    """The family a task shares evidence with: metadata["family"], else its task id up to the last "/"."""
    family = task.metadata.get("family")
    return str(family) if family else task.task_id.rsplit("/", 1)[0]


def rollout_outcomes(rollouts: Iterable[dict[str, Any]]) -> list[tuple[str, bool]]:
    """(task_id, full pass) of each practice rollout record; a full pass is `execution.passed`
    (every public and hidden test), in single-turn and episode records alike."""
    return [(r["task_id"], bool(r["execution"]["passed"])) for r in rollouts]


class TaskStore:
    """Per-task statistics of the train tasks, updated from every step's groups."""

    def __init__(self, tasks: Sequence[Task], config: SamplerConfig | None = None) -> None:
        self.config = config or SamplerConfig()
        self.tasks = sorted(tasks, key=lambda task: task.task_id)  # a fixed order: sums are byte-stable
        self.stats = {task.task_id: TaskStats(task_family(task)) for task in self.tasks}
        self.step = 0  # the last step observed

    def observe(self, step: int, outcomes: Iterable[tuple[str, bool]]) -> None:
        """Add one step's outcomes (task_id, full pass); each task's count is applied at once."""
        counts: dict[str, list[int]] = {}
        for task_id, passed in outcomes:
            if task_id not in self.stats:
                raise ValueError(f"task {task_id} is not a train task of this run")
            tally = counts.setdefault(task_id, [0, 0])
            tally[0 if passed else 1] += 1
        decay = self.config.decay
        for task_id in sorted(counts):
            passes, failures = counts[task_id]
            stats = self.stats[task_id]
            stats.attempts += passes + failures
            stats.passes += passes
            stats.pass_weight = decay * stats.pass_weight + passes
            stats.fail_weight = decay * stats.fail_weight + failures
            stats.last_step = step
        self.step = step

    def replay(self, rollouts: Iterable[dict[str, Any]]) -> "TaskStore":
        """Observe `rollouts.jsonl` records step by step, as the run observed them."""
        by_step: dict[int, list[dict[str, Any]]] = {}
        for rollout in rollouts:
            by_step.setdefault(int(rollout["step"]), []).append(rollout)
        for step in sorted(by_step):
            self.observe(step, rollout_outcomes(by_step[step]))
        return self

    def p_hats(self) -> dict[str, float]:
        """p̂ of every train task (module docstring); unseen tasks get their family's prior."""
        seen = [s for s in self.stats.values() if s.last_step]
        total_s = sum(s.pass_weight for s in seen)
        total_n = sum(s.pass_weight + s.fail_weight for s in seen)
        m_all = (total_s + 1.0) / (total_n + 2.0)
        family_s: dict[str, float] = {}
        family_n: dict[str, float] = {}
        for task in self.tasks:
            stats = self.stats[task.task_id]
            if stats.last_step:
                family_s[stats.family] = family_s.get(stats.family, 0.0) + stats.pass_weight
                family_n[stats.family] = family_n.get(stats.family, 0.0) + stats.pass_weight + stats.fail_weight
        k = self.config.prior_strength
        result = {}
        for task in self.tasks:
            stats = self.stats[task.task_id]
            m_family = (family_s.get(stats.family, 0.0) + m_all) / (family_n.get(stats.family, 0.0) + 1.0)
            result[task.task_id] = (stats.pass_weight + k * m_family) / (stats.pass_weight + stats.fail_weight + k)
        return result

    def histogram(self, task_ids: Iterable[str]) -> dict[str, Any]:
        """`sampled_p_hat`: how many of `task_ids` fall in each P_HAT_BINS bin, and how many were unseen."""
        p_hats = self.p_hats()
        counts = [0] * (len(P_HAT_BINS) - 1)
        unseen = 0
        for task_id in task_ids:
            if not self.stats[task_id].last_step:
                unseen += 1
                continue
            index = sum(1 for edge in P_HAT_BINS[1:-1] if p_hats[task_id] >= edge)
            counts[index] += 1
        return {"bins": list(P_HAT_BINS), "counts": counts, "unseen": unseen}

    def to_json(self) -> dict[str, Any]:
        """The store as `task_sampler.json` holds it (practised tasks only; p̂ for reading, not read back)."""
        p_hats = self.p_hats()
        return {"step": self.step, "sampler_config": asdict(self.config),
                "tasks": {task_id: {**stats.to_json(), "p_hat": p_hats[task_id]}
                          for task_id, stats in self.stats.items() if stats.last_step}}


class TaskSampler(Protocol):
    name: str
    store: TaskStore

    def choose(self, step: int, count: int) -> list[Task]:
        """The `count` distinct train tasks practised at `step`, sorted by task_id."""
        ...


def step_tasks(train: Sequence[Task], step: int, count: int, seed: int) -> list[Task]:
    """The distinct train tasks practised at `step`: a seeded draw per step (stateless, so resumable)."""
    rng = random.Random(derive_seed(seed, "step-tasks", step))
    return sorted(rng.sample(list(train), count), key=lambda task: task.task_id)


class UniformSampler:
    """Every train task equally likely, the draw the smoke trainers always made (`step_tasks`)."""

    name = "uniform"

    def __init__(self, tasks: Sequence[Task], seed: int, config: SamplerConfig | None = None) -> None:
        self.train, self.seed = list(tasks), seed
        self.store = TaskStore(tasks, config)

    def choose(self, step: int, count: int) -> list[Task]:
        return step_tasks(self.train, step, count, self.seed)


class LearnabilitySampler:
    """Tasks drawn by p̂(1 - p̂) plus a shared exploration weight (module docstring)."""

    name = "learnability"

    def __init__(self, tasks: Sequence[Task], seed: int, config: SamplerConfig | None = None) -> None:
        self.seed = seed
        self.store = TaskStore(tasks, config)

    def weights(self, step: int) -> dict[str, float]:
        """w_i of every train task at `step`, before its draw."""
        config, stats = self.store.config, self.store.stats
        p_hats = self.store.p_hats()
        explore = {}
        for task_id, p in p_hats.items():
            last = stats[task_id].last_step
            if not last or step - last >= config.stale_steps:
                explore[task_id] = p * (1.0 - p) + config.explore_floor
        explore_total = sum(explore.values())
        weights = {}
        for task_id, p in p_hats.items():
            weight = p * (1.0 - p) if stats[task_id].last_step else 0.0
            if task_id in explore and explore_total > 0:
                weight += config.explore_weight * explore[task_id] / explore_total
            weights[task_id] = weight
        return weights

    def choose(self, step: int, count: int) -> list[Task]:
        if count > len(self.store.tasks):
            raise ValueError(f"cannot draw {count} distinct tasks from {len(self.store.tasks)} train task(s)")
        rng = random.Random(derive_seed(self.seed, "learnability", step))
        weights = self.weights(step)
        left = list(self.store.tasks)
        chosen = []
        for _ in range(count):
            chosen.append(left.pop(_weighted_index([weights[t.task_id] for t in left], rng)))
        return sorted(chosen, key=lambda task: task.task_id)


def _weighted_index(weights: Sequence[float], rng: random.Random) -> int:
    """An index drawn with probability proportional to its weight (uniform when all are 0)."""
    total = sum(weights)
    if total <= 0:
        return rng.randrange(len(weights))
    target, cumulative = rng.random() * total, 0.0
    for index, weight in enumerate(weights):
        cumulative += weight
        if target < cumulative:
            return index
    return max(i for i, w in enumerate(weights) if w > 0)  # rounding at the very top of the range


SAMPLERS = {"uniform": UniformSampler, "learnability": LearnabilitySampler}


def make_sampler(name: str, tasks: Sequence[Task], seed: int, config: SamplerConfig | None = None) -> TaskSampler:
    if name not in SAMPLERS:
        raise ValueError(f"task_sampler must be one of {', '.join(TASK_SAMPLERS)}, got {name!r}")
    return SAMPLERS[name](tasks, seed, config)
