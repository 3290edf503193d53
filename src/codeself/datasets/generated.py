"""A declared, seeded distribution of small Python function tasks (`prepare_datasets.py --format generated`).

The distribution is the families of `generated_families` and `generated_families_text`, the
prompt openers below, and the split rules below; docs/generated_tasks.md describes it and
holds the family table (`family_table()`, checked by a test). Everything is drawn from
`random.Random` seeded with strings built from `GeneratorConfig.seed`, so the same seed writes
the same bytes on every machine and Python version >= 3.11.

Splits:
- Practice families fill `train`, `validation` and `test`. Each practice family's
  (opener, description) template pairs are partitioned between those three splits, so a
  prompt phrasing seen in training never appears in evaluation. Two prompts of one template
  pair differ only in names and numbers; `validate.masked_prompt` maps them to the same text,
  and the validator treats one masked prompt in two splits as a leak for these tasks
  (`metadata.near_duplicate_rule`).
- Held-out families (`HELDOUT_FAMILY_NAMES`) appear only in `test_heldout_families`.

Each split's tasks depend only on (seed, split, count): task i of a split comes from the
i-th family of a seeded family order (round robin) and from `Random(f"{seed}:{split}:{i}:
{attempt}")`; a draw is rejected (next attempt) when its prompt repeats one already in the
split or would reveal a hidden test's expected value.

Expected values are computed by running the reference solution in this process: the
references are this module's own trusted templates, never model output.
"""

from __future__ import annotations

import copy
import dataclasses
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from codeself.datasets.generated_families import NUMBER_FAMILIES, Family
from codeself.datasets.generated_families_text import TEXT_FAMILIES
from codeself.datasets.snippets import collapse_whitespace, leak_reason, python_source, squash_whitespace
from codeself.datasets.splits import ManifestBuilder
from codeself.datasets.task import Task
from codeself.datasets.validate import NEAR_DUPLICATE_RULE, masked_prompt
from codeself.jsonl import sha256_file, write_json, write_jsonl

FORMAT = "generated"
SOURCE = "generated"
GENERATOR_VERSION = 1  # bump when a change alters the tasks written for a seed
PRACTICE_SPLITS = ("train", "validation", "test")
HELDOUT_SPLIT = "test_heldout_families"
FAMILIES = NUMBER_FAMILIES + TEXT_FAMILIES
# Chosen to span lists, numbers, strings and a tuple result, each a different operation
# from every practice family (a near sibling would measure little transfer).
HELDOUT_FAMILY_NAMES = ("value_range", "is_sorted", "digits_of", "pairwise_sums", "minutes_to_hours",
                        "count_long_words", "join_with", "mirror_string")
# Every opener names the full signature. `$takes` and `$desc` come from the family.
OPENERS = (
    "Write a Python function `$sig` that $desc.",
    "Implement `$sig`. It takes $takes and $desc.",
    "Define a function `$sig` which takes $takes and $desc.",
    "Create a Python function `$sig`: given $takes, it $desc.",
    "Your task is to write the function `$sig`. The function $desc.",
    "Write `$sig`, a function that takes $takes and $desc. Return the result instead of printing it.",
)
MIN_TESTS = 4  # one public + at least three hidden
MAX_ATTEMPTS = 200  # draws per task before giving up (a family's parameter space is exhausted)
MIN_LEAK_CHARS = 3  # a str/list/tuple/dict expected value this long may not appear in the prompt


@dataclass(frozen=True)
class GeneratorConfig:
    """What `prepare_datasets.py --format generated` was asked for: a seed and a count per split."""

    seed: int = 0  # drives every choice; the same seed gives byte-identical output
    train: int = 320  # ~9 tasks for each of the 36 practice families
    validation: int = 64
    test: int = 128
    test_heldout_families: int = 96  # 12 per held-out family

    def __post_init__(self) -> None:
        for name, count in self.counts().items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValueError(f"the count of split {name!r} must be an integer >= 0, got {count!r}")

    def counts(self) -> dict[str, int]:
        return {"train": self.train, "validation": self.validation, "test": self.test,
                HELDOUT_SPLIT: self.test_heldout_families}


def practice_families() -> tuple[Family, ...]:
    return tuple(f for f in FAMILIES if f.name not in HELDOUT_FAMILY_NAMES)


def heldout_families() -> tuple[Family, ...]:
    return tuple(f for f in FAMILIES if f.name in HELDOUT_FAMILY_NAMES)


def template_partition(family: Family, seed: int) -> dict[str, list[tuple[int, int]]]:
    """Split -> the (opener, description) pairs its tasks of `family` may use.

    Practice families: a seeded shuffle of all pairs, 1/8 to validation, 1/4 to test (at
    least one each), the rest to train. Held-out families use every pair in their one split.
    """
    pairs = [(opener, desc) for opener in range(len(OPENERS)) for desc in range(len(family.descriptions))]
    if family.name in HELDOUT_FAMILY_NAMES:
        return {HELDOUT_SPLIT: pairs}
    assert len(pairs) >= 3, family.name
    random.Random(f"{seed}:templates:{family.name}").shuffle(pairs)
    n_validation, n_test = max(1, len(pairs) // 8), max(1, len(pairs) // 4)
    return {"validation": pairs[:n_validation], "test": pairs[n_validation:n_validation + n_test],
            "train": pairs[n_validation + n_test:]}


@dataclass(frozen=True)
class Draw:
    """One random instantiation of a family: names, constants and template."""

    family: Family
    template: tuple[int, int]  # (opener index, description index)
    function_name: str
    arg_names: tuple[str, ...]
    params: dict[str, Any]

    def text_values(self) -> dict[str, str]:
        args = {f"a{i}": name for i, name in enumerate(self.arg_names)}
        return {**args, **{key: str(value) for key, value in self.params.items()}}

    def prompt(self) -> str:
        values = self.text_values()
        opener, desc = self.template
        signature = f"{self.function_name}({', '.join(self.arg_names)})"
        return Template(OPENERS[opener]).substitute(
            sig=signature, takes=Template(self.family.takes).substitute(values),
            desc=Template(self.family.descriptions[desc]).substitute(values))

    def solution(self) -> str:
        args = {f"a{i}": name for i, name in enumerate(self.arg_names)}
        constants = {key: python_source(value) for key, value in self.params.items()}
        return Template(self.family.solution).substitute(name=self.function_name, **args, **constants)


def draw(family: Family, templates: list[tuple[int, int]], rng: random.Random) -> Draw:
    params = family.make_params(rng)
    text = {key: str(value) for key, value in params.items()}
    name = Template(rng.choice(family.function_names)).substitute(text)
    arg_names = tuple(rng.choice(choices) for choices in family.arg_names)
    assert name.isidentifier() and name not in arg_names, (family.name, name)
    return Draw(family, rng.choice(templates), name, arg_names, params)


def run_reference(solution: str, function_name: str, inputs: list[tuple]) -> list[Any]:
    """The reference's return value for each argument tuple (trusted code, run in-process)."""
    namespace: dict[str, Any] = {}
    exec(compile(solution, f"<generated {function_name}>", "exec"), namespace)
    function = namespace[function_name]
    return [function(*copy.deepcopy(args)) for args in inputs]


def render_test(function_name: str, args: tuple, expected: Any) -> str:
    call = f"{function_name}({', '.join(python_source(arg) for arg in args)})"
    return f"assert {call} == {python_source(expected)}"


def reveals(test: str, expected: Any, prompt: str) -> bool:
    """True when the prompt shows the hidden test or its (non-scalar) expected value.

    Stricter than the validator's rule (8 characters): a list, tuple, dict or string result
    of 3+ characters may not appear either. Numbers and booleans are exempt, since a prompt
    states its constants ("clamp to 0..20" makes 20 an expected value of the spec itself).
    """
    if leak_reason(test, prompt):
        return True
    if isinstance(expected, (str, list, tuple, dict)):
        literal = squash_whitespace(python_source(expected))
        return len(literal) >= MIN_LEAK_CHARS and literal in squash_whitespace(prompt)
    return False


def make_task(family: Family, split: str, templates: list[tuple[int, int]], rng: random.Random,
              seed: int) -> Task | None:
    """A task for `split` from one draw, or None when the draw must be rejected."""
    chosen = draw(family, templates, rng)
    prompt, solution = chosen.prompt(), chosen.solution()
    inputs = list({python_source(args): args for args in family.make_inputs(rng, chosen.params)}.values())
    if len(inputs) < MIN_TESTS:
        return None
    expected = run_reference(solution, chosen.function_name, inputs)
    tests = [render_test(chosen.function_name, args, value) for args, value in zip(inputs, expected)]
    if any(reveals(test, value, prompt) for test, value in zip(tests[1:], expected[1:])):
        return None
    metadata: dict[str, Any] = {
        "family": family.name,
        "family_group": "heldout" if family.name in HELDOUT_FAMILY_NAMES else "practice",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "parameters": chosen.params,
        "argument_names": list(chosen.arg_names),
        "template": {"opener": chosen.template[0], "description": chosen.template[1]},
        "near_duplicate_rule": NEAR_DUPLICATE_RULE,
    }
    if family.atol is not None:
        metadata["atol"] = family.atol
    return Task(task_id="", source=SOURCE, prompt=prompt, entry_point=chosen.function_name, starter_code="",
                public_tests=(tests[0],), hidden_tests=tuple(tests[1:]), setup_code="",
                reference_solution=solution, split=split, metadata=metadata)


def generate_split(split: str, count: int, families: tuple[Family, ...],
                   partitions: dict[str, dict[str, list[tuple[int, int]]]], seed: int) -> Iterator[Task]:
    """`count` tasks of `split`, families in a seeded round-robin order (ids not yet set)."""
    order = sorted(families, key=lambda family: family.name)
    random.Random(f"{seed}:{split}:family-order").shuffle(order)
    prompts: set[str] = set()
    for index in range(count):
        family = order[index % len(order)]
        for attempt in range(MAX_ATTEMPTS):
            rng = random.Random(f"{seed}:{split}:{index}:{attempt}")
            task = make_task(family, split, partitions[family.name][split], rng, seed)
            if task is not None and collapse_whitespace(task.prompt) not in prompts:
                break
        else:
            raise ValueError(f"cannot draw {count} distinct {split!r} tasks: family {family.name!r} has no new "
                             f"prompt after {MAX_ATTEMPTS} draws; ask for fewer tasks")
        prompts.add(collapse_whitespace(task.prompt))
        yield task


def generate_tasks(config: GeneratorConfig) -> Iterator[Task]:
    """Every task, split by split (train, validation, test, held-out), ids `gen/<family>/<n>`.

    n counts a family's tasks across the whole file in this order, starting at 0.
    """
    partitions = {family.name: template_partition(family, config.seed) for family in FAMILIES}
    numbers: dict[str, int] = {}
    masked_split: dict[str, str] = {}
    for split, count in config.counts().items():
        families = heldout_families() if split == HELDOUT_SPLIT else practice_families()
        for task in generate_split(split, count, families, partitions, config.seed):
            family = task.metadata["family"]
            number = numbers[family] = numbers.get(family, -1) + 1
            # The template partition makes this impossible; a failure is a bug in the families.
            key = masked_prompt(task.prompt, task.entry_point)
            assert masked_split.setdefault(key, split) == split, (task.prompt, split, masked_split[key])
            yield dataclasses.replace(task, task_id=f"gen/{family}/{number}")


def write_generated(output_path: str | Path, config: GeneratorConfig, *, manifest_path: str | Path | None = None,
                    on_task: Callable[[Task], None] | None = None) -> dict[str, Any]:
    """Write the tasks of `config` as canonical JSONL; return the split manifest (also written if asked)."""
    builder = ManifestBuilder()

    def records() -> Iterator[dict[str, Any]]:
        for task in generate_tasks(config):
            builder.add(task)
            if on_task:
                on_task(task)
            yield task.to_json()

    write_jsonl(output_path, records())
    manifest = builder.build(source_format=FORMAT, method=FORMAT, seed=config.seed, ratios=None,
                             input_file=None, input_sha256=None, output_file=Path(output_path).name,
                             output_sha256=sha256_file(output_path))
    if manifest_path is not None:
        write_json(manifest_path, manifest)
    return manifest


def family_table() -> str:
    """The Markdown family table of docs/generated_tasks.md (a test keeps the two equal)."""
    lines = ["| family | split group | the function ... | function names | constants | tests |",
             "|---|---|---|---|---|---|"]
    for family in practice_families() + heldout_families():
        group = HELDOUT_SPLIT if family.name in HELDOUT_FAMILY_NAMES else "train / validation / test"
        names = ", ".join(f"`{name}`" for name in family.function_names)
        tests = "float, atol " + f"{family.atol:g}" if family.atol is not None else "exact"
        lines.append(f"| `{family.name}` | {group} | {family.summary} | {names} | "
                     f"{family.params_doc or '-'} | {tests} |")
    return "\n".join(lines) + "\n"
