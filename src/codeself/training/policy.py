"""The smoke policy: a small parametric stand-in for a model, trained by the real algorithms.

Why it exists: GRPO, PPO and RLOO must be testable in seconds without torch, yet update
something real, with exact log-probabilities and analytic gradients, so that the same update
code a network would need is exercised and its formulas can be checked by hand.

A completion is a sequence of two decisions ("tokens"), each a softmax over a closed set:

1. `plan` — what the completion contains: the reference solution (`correct`), a mutant that
   fails the tests (`mutated`), broken syntax, prose with no code, or an infinite loop;
2. `form` — how it is presented: one fenced block, bare code, a draft block then the final
   block, or the final block followed by an "Example usage" block.

The backend (`codeself.agents.backends.policy`) renders the pair into text from the task's
reference solution, exactly as the `mock` backend does, and the sandbox judges that text.

Logits of decision d for task t: z = shared_d + task_d[t] + offset_d(t), divided by the
sampling temperature. `shared_d` is learned from every task, so practice on the train split
moves the policy on tasks it never saw (the held-out test split measures that); `task_d[t]` is
learned per practised task (zero for unseen tasks); `offset_plan(t)` is a fixed, seeded task
difficulty on the `correct` logit (uniform in [-DIFFICULTY, DIFFICULTY]), so some tasks are
easy, some hard, and groups whose rewards all agree occur as with a real model.
Gradients: d log softmax(z / T)[a] / dz = (onehot(a) - p) / T, shared by both parameter terms.

Multi-turn practice (`max_revisions` > 0) samples the same two decisions again at each turn: a
`Sample` of an episode holds 2 tokens per turn (`Sample.from_turns`). The policy does not see
the feedback, so each turn is a fresh draw; what practice can learn is to be right at every turn.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PLANS = ("correct", "mutated", "syntax_error", "prose", "infinite_loop")
FORMS = ("fenced", "unfenced", "two_blocks", "with_usage")
DECISIONS: tuple[tuple[str, tuple[str, ...]], ...] = (("plan", PLANS), ("form", FORMS))
INITIAL_FORMS = {"fenced": 0.55, "unfenced": 0.15, "two_blocks": 0.15, "with_usage": 0.15}
# Initial mixture of the failing plans. Fewer infinite loops than the mock's mixture: each costs a
# full per-test timeout in the sandbox, and they are not what the smoke runs are about.
INITIAL_FAILURES = {"mutated": 0.7, "syntax_error": 0.12, "prose": 0.15, "infinite_loop": 0.03}
DIFFICULTY = 3.0  # half-width of the fixed per-task offset on the `correct` logit
CHECKPOINT_FORMAT = "codeself-smoke-policy"
SEQUENCE_LENGTH = len(DECISIONS)  # policy tokens per completion


def _decision(position: int) -> tuple[str, tuple[str, ...]]:
    """The decision of token `position`: a multi-turn sample repeats plan, form for each turn; the
    policy is the same at every turn (it does not read feedback)."""
    return DECISIONS[position % len(DECISIONS)]


def log_softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    log_total = top + math.log(sum(math.exp(z - top) for z in logits))
    return [z - log_total for z in logits]


def entropy(logprobs: list[float]) -> float:
    return -sum(math.exp(lp) * lp for lp in logprobs)


@dataclass
class Params:
    """Learned logits: `shared[decision]` and `tasks[task_id][decision]` (absent = zeros)."""

    shared: dict[str, list[float]]
    tasks: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    @classmethod
    def zeros(cls) -> "Params":
        return cls({name: [0.0] * len(options) for name, options in DECISIONS})

    def task_row(self, task_id: str, decision: str) -> list[float]:
        row = self.tasks.get(task_id)
        return row[decision] if row is not None else [0.0] * len(dict(DECISIONS)[decision])

    def add_scaled(self, other: "Params", scale: float) -> None:
        """self += scale * other (other's per-task rows are created here when missing)."""
        if scale == 0.0:
            return  # a control run (learning rate 0) must leave the parameters, and their file, as they were
        for name, values in other.shared.items():
            mine = self.shared[name]
            for index, value in enumerate(values):
                mine[index] += scale * value
        for task_id, rows in sorted(other.tasks.items()):
            mine_rows = self.tasks.setdefault(task_id, {n: [0.0] * len(o) for n, o in DECISIONS})
            for name, values in rows.items():
                for index, value in enumerate(values):
                    mine_rows[name][index] += scale * value

    def to_json(self) -> dict[str, Any]:
        return {"shared": self.shared, "tasks": {k: self.tasks[k] for k in sorted(self.tasks)}}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> "Params":
        shared = {name: [float(v) for v in document["shared"][name]] for name, _ in DECISIONS}
        tasks = {str(task_id): {name: [float(v) for v in rows[name]] for name, _ in DECISIONS}
                 for task_id, rows in document.get("tasks", {}).items()}
        for name, options in DECISIONS:
            if len(shared[name]) != len(options) or any(len(r[name]) != len(options) for r in tasks.values()):
                raise ValueError(f"policy parameters: decision {name!r} needs {len(options)} logits")
        return cls(shared, tasks)


@dataclass(frozen=True)
class Sample:
    """One sampled completion's decisions: the policy's 'token ids'."""

    actions: tuple[int, ...]  # index into each decision's options

    @property
    def plan(self) -> str:
        return PLANS[self.actions[0]]

    @property
    def form(self) -> str:
        return FORMS[self.actions[1]]

    @classmethod
    def from_names(cls, plan: str, form: str) -> "Sample":
        return cls((PLANS.index(plan), FORMS.index(form)))

    @classmethod
    def from_turns(cls, turns: Iterable["Sample"]) -> "Sample":
        """A multi-turn episode as one sample: every turn's decisions in order (2 tokens per turn)."""
        return cls(tuple(action for turn in turns for action in turn.actions))


class SoftmaxPolicy:
    """Shared + per-task logits over each decision; exact log-probs; analytic gradients."""

    def __init__(self, params: Params, *, seed: int, temperature: float = 1.0) -> None:
        self.params = params
        self.seed = seed  # fixes the task difficulty offsets
        self.temperature = temperature
        self._offsets: dict[str, float] = {}

    @classmethod
    def initial(cls, *, seed: int, correct_fraction: float, temperature: float = 1.0) -> "SoftmaxPolicy":
        """Shared logits whose softmax gives `correct_fraction` to `correct` for a task of median
        difficulty, INITIAL_FAILURES to the rest, and INITIAL_FORMS to the forms."""
        params = Params.zeros()
        plan_probs = [correct_fraction] + [(1 - correct_fraction) * INITIAL_FAILURES[p] for p in PLANS[1:]]
        params.shared["plan"] = [math.log(p) for p in plan_probs]
        params.shared["form"] = [math.log(INITIAL_FORMS[f]) for f in FORMS]
        return cls(params, seed=seed, temperature=temperature)

    def copy(self) -> "SoftmaxPolicy":
        return SoftmaxPolicy(copy.deepcopy(self.params), seed=self.seed, temperature=self.temperature)

    def difficulty(self, task_id: str) -> float:
        if task_id not in self._offsets:
            from codeself.agents.backends.base import derive_seed

            u = random.Random(derive_seed(self.seed, "policy-difficulty", task_id)).random()
            self._offsets[task_id] = DIFFICULTY * (2.0 * u - 1.0)
        return self._offsets[task_id]

    def logits(self, task_id: str, decision: str) -> list[float]:
        shared, own = self.params.shared[decision], self.params.task_row(task_id, decision)
        z = [a + b for a, b in zip(shared, own)]
        if decision == "plan":
            z[0] += self.difficulty(task_id)
        return z

    def logprobs(self, task_id: str, decision: str) -> list[float]:
        """log softmax(z / T); at T = 0 (greedy) the distribution of T = 1 is reported."""
        scale = self.temperature if self.temperature > 0 else 1.0
        return log_softmax([z / scale for z in self.logits(task_id, decision)])

    def token_logprobs(self, task_id: str, sample: Sample) -> list[float]:
        """Per-token log pi(a_t), t over the decisions (of every turn of a multi-turn sample)."""
        return [self.logprobs(task_id, _decision(t)[0])[action] for t, action in enumerate(sample.actions)]

    def token_entropies(self, task_id: str) -> list[float]:
        return [entropy(self.logprobs(task_id, name)) for name, _ in DECISIONS]

    def probability(self, task_id: str, decision: str, option: str) -> float:
        options = dict(DECISIONS)[decision]
        return math.exp(self.logprobs(task_id, decision)[options.index(option)])

    def sample(self, task_id: str, rng: random.Random) -> Sample:
        """Draw each decision in order from its softmax (argmax when temperature is 0)."""
        actions = []
        for name, options in DECISIONS:
            logprobs = self.logprobs(task_id, name)
            if self.temperature == 0:
                actions.append(max(range(len(options)), key=lambda i: (logprobs[i], -i)))
                continue
            u, total = rng.random(), 0.0
            choice = len(options) - 1
            for index, lp in enumerate(logprobs):
                total += math.exp(lp)
                if u < total:
                    choice = index
                    break
            actions.append(choice)
        return Sample(tuple(actions))

    def gradient(self, items: Iterable[tuple[str, Sample, list[float]]]) -> Params:
        """Sum over items of sum_t coef_t * d log pi(a_t) / d params.

        `items` are (task_id, sample, per-token coefficients): the caller's dLoss/dlogpi_t.
        """
        grad = Params.zeros()
        scale = self.temperature if self.temperature > 0 else 1.0
        for task_id, sample, coefs in items:
            row = grad.tasks.setdefault(task_id, {n: [0.0] * len(o) for n, o in DECISIONS})
            for t, (action, coef) in enumerate(zip(sample.actions, coefs)):
                name, options = _decision(t)
                if coef == 0.0:
                    continue
                probs = [math.exp(lp) for lp in self.logprobs(task_id, name)]
                for index in range(len(options)):
                    g = coef * ((1.0 if index == action else 0.0) - probs[index]) / scale
                    grad.shared[name][index] += g
                    row[name][index] += g
        return grad

    def to_json(self) -> dict[str, Any]:
        return {"format": CHECKPOINT_FORMAT, "version": 1, "seed": self.seed,
                "temperature": self.temperature, "decisions": {n: list(o) for n, o in DECISIONS},
                "params": self.params.to_json()}

    @classmethod
    def from_json(cls, document: Mapping[str, Any], where: str = "checkpoint") -> "SoftmaxPolicy":
        if not isinstance(document, Mapping) or document.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{where}: not a smoke-policy checkpoint (no \"format\": \"{CHECKPOINT_FORMAT}\")")
        if document.get("decisions") != {n: list(o) for n, o in DECISIONS}:
            raise ValueError(f"{where}: written for other policy decisions than {dict(DECISIONS)}")
        try:
            params = Params.from_json(document["params"])
            return cls(params, seed=int(document["seed"]), temperature=float(document["temperature"]))
        except (KeyError, TypeError) as error:
            raise ValueError(f"{where}: malformed smoke-policy checkpoint ({error})") from None
