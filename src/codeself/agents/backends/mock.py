"""`mock`: a deterministic stand-in for a model, built from each task's reference solution.

It exists so every downstream path (parsing, sandbox statuses, rewards, reports) runs without
a model, and so smoke-report numbers mean something: each sample records the variant the mock
intended in `metadata.mock_variant`, so pass@1 can be checked against the intended accuracy.

This is the one backend that receives the full `Task` (`sees_reference_solution = True`): it
copies and mutates `reference_solution`. It sends nothing anywhere, ignores the prompt, and
never reads hidden tests itself.

Screening (why a `mutated` sample really fails): some mutants are equivalent to the reference
on the task's tests (about 4 % on MBPP), which would make pass@1 exceed the intended correct
fraction. When the pipeline attaches its sandbox (`attach_executor`), each `mutated` sample
runs its candidate mutants (`mutation_candidates`, seeded order) against every test of the
task, at most `MAX_SCREENED_MUTANTS` of them, and keeps the first that does not pass; only the
pass/fail verdict is used. Verdicts are cached per (task id, sha256 of the program), so no
mutant is run twice for screening. When no candidate fails, the sample becomes a
`syntax_error` sample (`mock_fallback: "no failing mutant"`): the label always names what was
emitted. Without an executor (plain library use) the first mutant is emitted unscreened and
may pass; `mock_screened` on `mutated` draws says which happened. Verdicts are deterministic
except for a mutant that runs close to the per-test timeout; mutations never touch a `while`
loop's body, so mutants rarely loop.

How a sample is drawn (seed = run seed; all draws are per (seed, task) or per (seed, task,
sample index), so a sample does not depend on batching or resumption):

1. Task difficulty: u ~ U(0, 1) per task; the task's solve probability is
   p = u ** ((1 - F) / F) where F = `correct_fraction`, so E[p] = F, some tasks are always
   solved and some never (realistic pass@k curves and zero-variance groups). The same seed with
   a larger F raises every task's p, so two runs differing only in F are a paired comparison.
2. The sample is `correct` when v < p (v ~ U(0, 1) per sample); otherwise a failure variant is
   drawn with the `failure_weights`.

Default mixture (F = 0.5; failure weights relative, summing to 1):

| variant         | overall share | what the completion is                                         |
|-----------------|---------------|----------------------------------------------------------------|
| `correct`       | 50 %          | the reference solution: fenced (70 %), unfenced (15 %), or a draft block followed by the final one (15 %) |
| `mutated`       | 30 %          | one small mutation of the reference (see mutations.py), fenced; when screened, one that fails the task's tests |
| `syntax_error`  | 7.5 %         | the reference with a missing `:` or an unclosed `(`, fenced (plus the screened `mutated` draws with no failing mutant) |
| `prose`         | 7.5 %         | an explanation with no code at all                               |
| `infinite_loop` | 5 %           | the reference with `while True: pass` first in the entry point   |
"""

from __future__ import annotations

import hashlib
import itertools
import random
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from codeself.agents.backends.base import Backend, BackendOptions, Generation, GenerationRequest
from codeself.agents.backends.mutations import (Mutation, add_infinite_loop, break_syntax, mutate,
                                                mutation_candidates)
from codeself.parsing import parse_completion
from codeself.datasets.task import Task, require_python

MOCK_VARIANTS = ("correct", "mutated", "syntax_error", "prose", "infinite_loop")
CORRECT_FORMS = (("fenced", 0.70), ("unfenced", 0.15), ("two_blocks", 0.15))
DEFAULT_FAILURE_WEIGHTS = {"mutated": 0.6, "syntax_error": 0.15, "prose": 0.15, "infinite_loop": 0.1}
PROSE = (
    "To solve this, iterate over the input once, keep track of the best value seen so far, "
    "and return it at the end. This runs in linear time.",
    "I'm sorry, but I can't write that function without more details about the expected input format.",
    "The key observation is that the answer depends only on the sorted order of the elements, "
    "so sort first and then read the result off the ends.",
)
_INTROS = ("Here is the solution:", "Sure! Here's a Python implementation:", "")
MAX_SCREENED_MUTANTS = 8  # candidate mutants run per `mutated` sample before falling back
SCREEN_CACHE_ENTRIES = 4096  # screening verdicts remembered (least recently used dropped)
NO_FAILING_MUTANT = "no failing mutant"


@dataclass(frozen=True)
class MockConfig:
    correct_fraction: float = 0.5  # F: the intended fraction of correct samples
    failure_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FAILURE_WEIGHTS))

    def __post_init__(self) -> None:
        if not 0.0 <= self.correct_fraction <= 1.0:
            raise ValueError(f"mock correct fraction must be in [0, 1], got {self.correct_fraction}")
        unknown = sorted(set(self.failure_weights) - set(MOCK_VARIANTS[1:]))
        if unknown:
            raise ValueError(f"unknown mock failure variant(s) {', '.join(unknown)}; "
                             f"choose from {', '.join(MOCK_VARIANTS[1:])}")
        weights = self.failure_weights.values()
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError("mock failure weights must be non-negative with a positive sum")

    def to_json(self) -> dict[str, Any]:
        return {"correct_fraction": self.correct_fraction,
                "failure_weights": dict(sorted(self.failure_weights.items()))}


def task_solve_probability(correct_fraction: float, u: float) -> float:
    """p = u ** ((1 - F) / F); E[p] over u ~ U(0, 1) is 1 / (1 + (1 - F) / F) = F."""
    if correct_fraction <= 0.0:
        return 0.0
    return u ** ((1.0 - correct_fraction) / correct_fraction)


class MockBackend(Backend):
    name = "mock"
    sees_reference_solution = True
    tasks_per_batch = 32

    def __init__(self, config: MockConfig | None = None) -> None:
        super().__init__(model="mock-reference")
        self.mock_config = config or MockConfig()
        self.screen: MutantScreen | None = None

    def attach_executor(self, executor: Any | None) -> None:
        """Screen `mutated` samples with this sandbox from now on (None: stop screening)."""
        self.screen = MutantScreen(executor) if executor is not None else None

    @classmethod
    def from_options(cls, options: BackendOptions) -> "MockBackend":
        if options.mock_correct_fraction is None:
            return cls()
        return cls(MockConfig(correct_fraction=options.mock_correct_fraction))

    def config(self) -> dict[str, Any]:
        # the screening budget changes which mutant is emitted, so it is part of the config hash
        mock = {**self.mock_config.to_json(), "max_screened_mutants": MAX_SCREENED_MUTANTS}
        return {**super().config(), "mock": mock}

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Generation]]:
        return [[self.sample(request.task, index, request.seed) for index in request.sample_indices]
                for request in requests]

    def choose_variant(self, task_id: str, sample_index: int, seed: int) -> str:
        u = random.Random(f"mock-task:{seed}:{task_id}").random()
        v = random.Random(f"mock-sample:{seed}:{task_id}:{sample_index}").random()
        if v < task_solve_probability(self.mock_config.correct_fraction, u):
            return "correct"
        names = sorted(self.mock_config.failure_weights)
        weights = [self.mock_config.failure_weights[name] for name in names]
        rng = random.Random(f"mock-failure:{seed}:{task_id}:{sample_index}")
        return rng.choices(names, weights=weights)[0]

    def sample(self, task: Task, sample_index: int, seed: int) -> Generation:
        if type(task) is not Task:
            raise TypeError(f"the mock backend needs the full Task, got {type(task).__name__}")
        require_python(task, "the mock backend (its variants are Python mutations of the reference)")
        if not task.reference_solution:
            raise ValueError(f"the mock backend needs reference solutions; task {task.task_id} has none")
        variant = self.choose_variant(task.task_id, sample_index, seed)
        rng = random.Random(f"mock-text:{seed}:{task.task_id}:{sample_index}")
        reference = task.reference_solution.replace("\r\n", "\n").rstrip("\n") + "\n"
        if variant == "mutated":
            variant, text, extra = _render_mutated(task, reference, rng, self.screen)
        else:
            text, extra = _render_variant(variant, reference, task.entry_point, rng)
        return Generation(completion=text, metadata={"mock_variant": variant, **extra})


class MutantScreen:
    """Runs candidate mutants in the sandbox and remembers whether each failed; thread-safe."""

    def __init__(self, executor: Any, max_entries: int = SCREEN_CACHE_ENTRIES) -> None:
        self.executor = executor  # anything with `run(task, program) -> ExecutionResult`
        self.max_entries = max_entries
        self.executions = 0  # programs actually run (cache misses)
        self._verdicts: OrderedDict[tuple[str, str], bool] = OrderedDict()
        self._lock = threading.Lock()

    def failed(self, result: Any) -> bool:
        """What counts as failing (here: not every test passed); subclasses may be stricter."""
        return not result.passed

    def fails(self, task: Task, program: str) -> bool:
        """True when `program` fails `task` by `failed` (by default: does not pass every test)."""
        key = (task.task_id, hashlib.sha256(program.encode("utf-8")).hexdigest())
        with self._lock:
            if key in self._verdicts:
                self._verdicts.move_to_end(key)
                return self._verdicts[key]
        verdict = self.failed(self.executor.run(task, program))
        with self._lock:
            self.executions += 1
            self._verdicts[key] = verdict
            while len(self._verdicts) > self.max_entries:
                self._verdicts.popitem(last=False)
        return verdict


def fenced(code: str, rng: random.Random) -> str:
    intro = rng.choice(_INTROS)
    return (intro + "\n\n" if intro else "") + "```python\n" + code + "```\n"


def _executed_program(task: Task, mutation: Mutation) -> str:
    """The program the pipeline will run for this mutant (what the parser takes from the block)."""
    parsed = parse_completion("```python\n" + mutation.code + "```\n", task.starter_code, task.entry_point)
    return parsed.code if parsed.code is not None else mutation.code


def pick_mutant(task: Task, reference: str, rng: random.Random,
                screen: MutantScreen | None) -> Mutation | None:
    """A mutant of the reference; with a screen, the first candidate that fails the task's
    tests, or None when none of `MAX_SCREENED_MUTANTS` candidates does (see "Screening")."""
    if screen is None:
        return mutate(reference, rng)
    for mutation in itertools.islice(mutation_candidates(reference, rng), MAX_SCREENED_MUTANTS):
        if screen.fails(task, _executed_program(task, mutation)):
            return mutation
    return None


def _render_mutated(task: Task, reference: str, rng: random.Random,
                    screen: MutantScreen | None) -> tuple[str, str, dict[str, Any]]:
    """(variant emitted, completion, metadata) for a `mutated` draw; see "Screening" above."""
    mutation = pick_mutant(task, reference, rng, screen)
    if mutation is not None:
        return "mutated", fenced(mutation.code, rng), {"mock_mutation": mutation.description,
                                                        "mock_screened": screen is not None}
    text, extra = _render_variant("syntax_error", reference, task.entry_point, rng)
    return "syntax_error", text, {**extra, "mock_screened": True, "mock_fallback": NO_FAILING_MUTANT}


def two_blocks(draft: str, final: str) -> str:
    """A draft block, a sentence retracting it, then the final block (the parser keeps the last)."""
    return ("A first attempt:\n\n```python\n" + draft + "```\n\nOn reflection that has a bug; "
            "the corrected version:\n\n```python\n" + final + "```\n")


def _render_variant(variant: str, reference: str, entry_point: str,
                    rng: random.Random) -> tuple[str, dict[str, Any]]:
    if variant == "correct":
        form = rng.choices([f for f, _ in CORRECT_FORMS], weights=[w for _, w in CORRECT_FORMS])[0]
        if form == "unfenced":
            return reference, {"mock_form": form}
        if form == "two_blocks":
            return two_blocks(mutate(reference, rng).code, reference), {"mock_form": form}
        return fenced(reference, rng), {"mock_form": form}
    if variant == "syntax_error":
        broken = break_syntax(reference, rng)
        return fenced(broken.code, rng), {"mock_mutation": broken.description}
    if variant == "prose":
        return rng.choice(PROSE) + "\n", {}
    assert variant == "infinite_loop", variant
    return fenced(add_infinite_loop(reference, entry_point), rng), {}
