"""`policy`: completions sampled from a smoke-policy checkpoint (`codeself.training.policy`).

The smoke trainers practise this policy; this backend lets `run_rollouts.py` evaluate any of
its checkpoints like a model (`--backend policy --model outputs/.../checkpoints/step_000003.json`).
Like `mock`, it renders text from the task's reference solution (`sees_reference_solution`),
screens its mutants in the sandbox so a `mutated` plan really fails, and sends nothing anywhere.
Each sample is drawn from (run seed, task id, sample index), so batching and resumption do not
change it. The sampling temperature is the `--temperature` given (use 1.0 for the policy's own
distribution, 0 for its argmax).

Usage examples appended by the `with_usage` form call the entry point the way the task's first
public test does, so they never reveal anything hidden.
"""

from __future__ import annotations

import ast
import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codeself.agents.backends.base import Backend, BackendOptions, Generation, GenerationRequest, derive_seed
from codeself.agents.backends.mock import PROSE, MutantScreen, fenced, pick_mutant, two_blocks
from codeself.agents.backends.mutations import add_infinite_loop, break_syntax, mutate
from codeself.datasets.task import Task
from codeself.training.policy import Sample, SoftmaxPolicy


def usage_example(task: Task) -> str:
    """`print(<the first public test's call of the entry point>)`, or a bare reference to it."""
    for test in task.public_tests:
        try:
            tree = ast.parse(test)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == task.entry_point):
                return f"print({ast.unparse(node)})"
    return f"print({task.entry_point})"


def plan_code(task: Task, plan: str, reference: str, rng: random.Random,
              screen: MutantScreen | None) -> tuple[str | None, dict[str, Any]]:
    """The program a plan stands for (None for prose) and what was emitted, for metadata."""
    if plan == "correct":
        return reference, {"emitted": "correct"}
    if plan == "mutated":
        mutation = pick_mutant(task, reference, rng, screen)
        if mutation is not None:
            return mutation.code, {"emitted": "mutated", "mutation": mutation.description}
        plan, fallback = "syntax_error", {"fallback": "no failing mutant"}
    else:
        fallback = {}
    if plan == "syntax_error":
        broken = break_syntax(reference, rng)
        return broken.code, {"emitted": "syntax_error", "mutation": broken.description, **fallback}
    if plan == "infinite_loop":
        return add_infinite_loop(reference, task.entry_point), {"emitted": "infinite_loop"}
    assert plan == "prose", plan
    return None, {"emitted": "prose"}


def render(task: Task, sample: Sample, rng: random.Random, screen: MutantScreen | None) -> tuple[str, dict[str, Any]]:
    """The completion text for a sampled (plan, form) and its metadata."""
    reference = task.reference_solution.replace("\r\n", "\n").rstrip("\n") + "\n"
    code, extra = plan_code(task, sample.plan, reference, rng, screen)
    if code is None:
        text = rng.choice(PROSE) + "\n"
    elif sample.form == "unfenced":
        text = code
    elif sample.form == "two_blocks":
        text = two_blocks(mutate(reference, rng).code, code)
    elif sample.form == "with_usage":
        text = fenced(code, rng) + "\nExample usage:\n\n```python\n" + usage_example(task) + "\n```\n"
    else:
        text = fenced(code, rng)
    return text, {"policy_plan": sample.plan, "policy_form": sample.form,
                  **{f"policy_{key}": value for key, value in extra.items()}}


class PolicyBackend(Backend):
    name = "policy"
    sees_reference_solution = True
    tasks_per_batch = 32

    def __init__(self, policy: SoftmaxPolicy) -> None:
        # named by its parameters, not its file: the same policy is the same model wherever it is saved
        digest = hashlib.sha256(json.dumps(policy.to_json(), sort_keys=True).encode("utf-8")).hexdigest()
        super().__init__(model=f"smoke-policy:{digest[:12]}")
        self.policy = policy
        self.screen: MutantScreen | None = None

    @classmethod
    def from_options(cls, options: BackendOptions) -> "PolicyBackend":
        if not options.model:
            raise ValueError("--backend policy needs --model CHECKPOINT.json (a smoke-policy checkpoint)")
        path = Path(options.model)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: cannot read policy checkpoint: {error}") from None
        policy = SoftmaxPolicy.from_json(document.get("policy", document), where=str(path))
        policy.temperature = options.temperature
        return cls(policy)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "temperature": self.policy.temperature,
                "policy": self.policy.to_json()}

    def attach_executor(self, executor: Any | None) -> None:
        self.screen = MutantScreen(executor) if executor is not None else None

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Generation]]:
        out = []
        for request in requests:
            task = request.task
            if type(task) is not Task or not task.reference_solution:
                raise ValueError("the policy backend needs full tasks with reference solutions")
            samples = []
            for index in request.sample_indices:
                rng = random.Random(derive_seed(request.seed, "policy-sample", task.task_id, index))
                sample = self.policy.sample(task.task_id, rng)
                text, metadata = render(task, sample, rng, self.screen)
                samples.append(Generation(completion=text, metadata=metadata))
            out.append(samples)
        return out
