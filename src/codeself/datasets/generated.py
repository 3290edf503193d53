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

Versions (`GeneratorConfig.version`; each version's files stay byte-identical for a seed):
- 1: 36 practised families, 8 held out (96 held-out tasks); `test` shares solution text and
  asserts with `train` (same function names and fixed edge-case inputs).
- 2: the same 36 practised families and 18 held out (the 8 of version 1 and the 10 of
  `generated_families_v2`, 12 tasks each). Each practised family keeps one of its function
  names for `validation` and `test` only, and a `validation`/`test` draw is rejected when its
  reference solution (layout normalised) or any of its asserts equals a `train` task's, so no
  evaluation task can be answered by recalling a train task. Within a family the solution
  *shape* is still shared by design: that is what "practised family" means. Ids are
  `gen2/<family>/<n>`.
The split manifest records, for every version, how many tasks of each split share a solution
or an assert with `train` (`overlap_with_train`).

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
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from codeself.datasets import generated_scale
from codeself.datasets.generated_families import NUMBER_FAMILIES, Family
from codeself.datasets.generated_families_text import TEXT_FAMILIES
from codeself.datasets.generated_families_v2 import V2_HELDOUT_FAMILIES
from codeself.datasets.generated_security import SECURITY_FAMILIES, SECURITY_FAMILY_NAMES
from codeself.datasets.snippets import collapse_whitespace, leak_reason, python_source, squash_whitespace
from codeself.datasets.splits import ManifestBuilder, TrainOverlap
from codeself.datasets.task import Task
from codeself.datasets.validate import NEAR_DUPLICATE_RULE, masked_prompt
from codeself.jsonl import sha256_file, write_json, write_jsonl

FORMAT = "generated"
SOURCE = "generated"
GENERATOR_VERSION = 1  # the default version; a change that alters a version's tasks for a seed is a new version
GENERATOR_VERSIONS = (1, 2)
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
TASKS_PER_HELDOUT_FAMILY = 12
EVAL_SPLITS = ("validation", "test")  # version 2 keeps these apart from train (no shared solution or assert)
DEDUP_RULE = ("validation/test tasks share no reference solution (ast-normalised) and no assert (ast-normalised) "
              "with any train task; each practised family keeps one function name for validation/test only")


@dataclass(frozen=True)
class Distribution:
    """What a generator version draws from: its families and which of them are held out."""

    version: int
    families: tuple[Family, ...]
    heldout_names: tuple[str, ...]
    id_prefix: str  # task ids are f"{id_prefix}/{family}/{n}"

    @property
    def separates_eval_from_train(self) -> bool:
        return self.version >= 2

    def practice_families(self) -> tuple[Family, ...]:
        return tuple(f for f in self.families if f.name not in self.heldout_names)

    def heldout_families(self) -> tuple[Family, ...]:
        return tuple(f for f in self.families if f.name in self.heldout_names)


def distribution(version: int = GENERATOR_VERSION) -> Distribution:
    if version == 1:
        return Distribution(1, FAMILIES, HELDOUT_FAMILY_NAMES, "gen")
    if version == 2:
        return Distribution(2, FAMILIES + V2_HELDOUT_FAMILIES,
                            HELDOUT_FAMILY_NAMES + tuple(f.name for f in V2_HELDOUT_FAMILIES), "gen2")
    raise ValueError(f"unknown generator version {version!r}; known: {', '.join(map(str, GENERATOR_VERSIONS))}")


@dataclass(frozen=True)
class GeneratorConfig:
    """What `prepare_datasets.py --format generated` was asked for: a seed and a count per split."""

    seed: int = 0  # drives every choice; the same seed gives byte-identical output
    train: int = 320  # ~9 tasks for each of the 36 practice families
    validation: int = 64
    test: int = 128
    test_heldout_families: int | None = None  # None: 12 per held-out family (96 in version 1, 216 in version 2)
    version: int = GENERATOR_VERSION  # which distribution (module docstring); 1 stays reproducible
    scale_inputs: bool = False  # add metadata.scale_inputs (generated_scale.py); off: files unchanged
    security_tasks: int = 0  # tasks per security family (generated_security.py) in train/validation/test; 0: none

    def __post_init__(self) -> None:
        distribution(self.version)  # refuses an unknown version
        for name, count in self.counts().items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValueError(f"the count of split {name!r} must be an integer >= 0, got {count!r}")
        if not isinstance(self.security_tasks, int) or isinstance(self.security_tasks, bool) or self.security_tasks < 0:
            raise ValueError(f"security_tasks must be an integer >= 0, got {self.security_tasks!r}")

    def counts(self) -> dict[str, int]:
        heldout = self.test_heldout_families
        if heldout is None:
            heldout = TASKS_PER_HELDOUT_FAMILY * len(distribution(self.version).heldout_names)
        return {"train": self.train, "validation": self.validation, "test": self.test, HELDOUT_SPLIT: heldout}


def practice_families() -> tuple[Family, ...]:
    """Version 1's practised families (the same in every version)."""
    return distribution(1).practice_families()


def heldout_families() -> tuple[Family, ...]:
    """Version 1's held-out families."""
    return distribution(1).heldout_families()


def template_partition(family: Family, seed: int, heldout: bool | None = None) -> dict[str, list[tuple[int, int]]]:
    """Split -> the (opener, description) pairs its tasks of `family` may use.

    Practice families: a seeded shuffle of all pairs, 1/8 to validation, 1/4 to test (at
    least one each), the rest to train. Held-out families use every pair in their one split.
    `heldout` None means "held out in version 1".
    """
    pairs = [(opener, desc) for opener in range(len(OPENERS)) for desc in range(len(family.descriptions))]
    if heldout or (heldout is None and family.name in HELDOUT_FAMILY_NAMES):
        return {HELDOUT_SPLIT: pairs}
    assert len(pairs) >= 3, family.name
    random.Random(f"{seed}:templates:{family.name}").shuffle(pairs)
    n_validation, n_test = max(1, len(pairs) // 8), max(1, len(pairs) // 4)
    return {"validation": pairs[:n_validation], "test": pairs[n_validation:n_validation + n_test],
            "train": pairs[n_validation + n_test:]}


def name_partition(family: Family, seed: int) -> dict[str, tuple[str, ...]]:
    """Version 2, practised families: split -> the function names its tasks may use.

    One name (of 3 or 4), chosen by a seeded shuffle, is kept for validation and test; since a
    function name is part of every assert and of the reference solution, this is what lets the
    fixed edge-case inputs ("([],)") stay in every split without repeating a train assert.
    """
    names = sorted(family.function_names)
    random.Random(f"{seed}:names:{family.name}").shuffle(names)
    kept, rest = tuple(names[:1]), tuple(names[1:])
    assert rest, family.name
    return {"train": rest, "validation": kept, "test": kept}


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


def draw(family: Family, templates: list[tuple[int, int]], rng: random.Random,
         function_names: tuple[str, ...] | None = None) -> Draw:
    params = family.make_params(rng)
    text = {key: str(value) for key, value in params.items()}
    name = Template(rng.choice(function_names or family.function_names)).substitute(text)
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
              seed: int, *, dist: Distribution | None = None,
              function_names: tuple[str, ...] | None = None, scale: bool = False) -> Task | None:
    """A task for `split` from one draw, or None when the draw must be rejected."""
    dist = dist or distribution(1)
    chosen = draw(family, templates, rng, function_names)
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
        "family_group": "heldout" if family.name in dist.heldout_names else "practice",
        "generator_version": dist.version,
        "seed": seed,
        "parameters": chosen.params,
        "argument_names": list(chosen.arg_names),
        "template": {"opener": chosen.template[0], "description": chosen.template[1]},
        "near_duplicate_rule": NEAR_DUPLICATE_RULE,
    }
    if family.atol is not None:
        metadata["atol"] = family.atol
    if scale:  # from a Random of its own: the rest of the task is the same with or without
        scaled = generated_scale.scale_inputs(family.name, chosen.params, seed, prompt)
        if scaled is not None:
            metadata["scale_inputs"] = scaled
    return Task(task_id="", source=SOURCE, prompt=prompt, entry_point=chosen.function_name, starter_code="",
                public_tests=(tests[0],), hidden_tests=tuple(tests[1:]), setup_code="",
                reference_solution=solution, split=split, metadata=metadata)


def generate_split(split: str, count: int, families: tuple[Family, ...],
                   partitions: dict[str, dict[str, list[tuple[int, int]]]], seed: int, *,
                   dist: Distribution | None = None, train: TrainOverlap | None = None,
                   scale: bool = False) -> Iterator[Task]:
    """`count` tasks of `split`, families in a seeded round-robin order (ids not yet set).

    With `train` (version 2, evaluation splits), draws that repeat a train solution or assert are rejected.
    """
    dist = dist or distribution(1)
    order = sorted(families, key=lambda family: family.name)
    random.Random(f"{seed}:{split}:family-order").shuffle(order)
    prompts: set[str] = set()
    for index in range(count):
        family = order[index % len(order)]
        names = None
        if dist.separates_eval_from_train and family.name not in dist.heldout_names:
            names = name_partition(family, seed)[split]
        for attempt in range(MAX_ATTEMPTS):
            rng = random.Random(f"{seed}:{split}:{index}:{attempt}")
            task = make_task(family, split, partitions[family.name][split], rng, seed, dist=dist,
                             function_names=names, scale=scale)
            if task is None or collapse_whitespace(task.prompt) in prompts:
                continue
            if train is not None and train.repeats_train(task):
                continue
            break
        else:
            raise ValueError(f"cannot draw {count} distinct {split!r} tasks: family {family.name!r} has no new "
                             f"prompt after {MAX_ATTEMPTS} draws; ask for fewer tasks")
        prompts.add(collapse_whitespace(task.prompt))
        yield task


def generate_tasks(config: GeneratorConfig, dist: Distribution | None = None) -> Iterator[Task]:
    """Every task, split by split (train, validation, test, held-out), ids `<prefix>/<family>/<n>`.

    n counts a family's tasks across the whole file in this order, starting at 0. `dist` replaces
    the version's distribution (generated_languages: only the families that translate).
    """
    dist = dist or distribution(config.version)
    overlap = TrainOverlap()  # version 2: the train tasks drawn so far, which later draws may not repeat
    security = SECURITY_FAMILIES if config.security_tasks else ()  # opt-in: appended to each practice split
    partitions = {family.name: template_partition(family, config.seed, family.name in dist.heldout_names)
                  for family in dist.families + security}
    numbers: dict[str, int] = {}
    masked_split: dict[str, str] = {}
    for split, count in config.counts().items():
        families = dist.heldout_families() if split == HELDOUT_SPLIT else dist.practice_families()
        reject = overlap if dist.separates_eval_from_train and split in EVAL_SPLITS else None
        extra = () if split == HELDOUT_SPLIT or not security else (
            generate_split(split, config.security_tasks * len(security), security, partitions, config.seed,
                           dist=dist, train=reject))
        for task in itertools.chain(generate_split(split, count, families, partitions, config.seed, dist=dist,
                                                   train=reject, scale=config.scale_inputs), extra):
            family = task.metadata["family"]
            number = numbers[family] = numbers.get(family, -1) + 1
            # The template partition makes this impossible; a failure is a bug in the families.
            key = masked_prompt(task.prompt, task.entry_point)
            assert masked_split.setdefault(key, split) == split, (task.prompt, split, masked_split[key])
            if split == "train":
                overlap.add(task)
            yield dataclasses.replace(task, task_id=f"{dist.id_prefix}/{family}/{number}")


def write_generated(output_path: str | Path, config: GeneratorConfig, *, manifest_path: str | Path | None = None,
                    on_task: Callable[[Task], None] | None = None) -> dict[str, Any]:
    """Write the tasks of `config` as canonical JSONL; return the split manifest (also written if asked)."""
    builder = ManifestBuilder()
    dist = distribution(config.version)
    options = {"scale_inputs": True} if config.scale_inputs else {}  # absent when off: manifests unchanged
    if config.security_tasks:
        options.update(security_tasks=config.security_tasks, security_families=list(SECURITY_FAMILY_NAMES))

    def records() -> Iterator[dict[str, Any]]:
        for task in generate_tasks(config):
            builder.add(task)
            if on_task:
                on_task(task)
            yield task.to_json()

    write_jsonl(output_path, records())
    manifest = builder.build(source_format=FORMAT, method=FORMAT, seed=config.seed, ratios=None,
                             input_file=None, input_sha256=None, output_file=Path(output_path).name,
                             output_sha256=sha256_file(output_path), generator={
                                 "version": config.version, "heldout_families": list(dist.heldout_names),
                                 "practised_families": [family.name for family in dist.practice_families()],
                                 "dedup_rule": DEDUP_RULE if dist.separates_eval_from_train else "none (version 1)",
                                 **options})
    if manifest_path is not None:
        write_json(manifest_path, manifest)
    return manifest


def family_table() -> str:
    """The Markdown family table of docs/generated_tasks.md (a test keeps the two equal)."""
    lines = ["| family | split group | the function ... | function names | constants | tests |",
             "|---|---|---|---|---|---|"]
    version_2 = distribution(2)
    for family in version_2.practice_families() + version_2.heldout_families():
        group = "train / validation / test"
        if family.name in version_2.heldout_names:
            group = HELDOUT_SPLIT if family.name in HELDOUT_FAMILY_NAMES else f"{HELDOUT_SPLIT} (version 2 only)"
        names = ", ".join(f"`{name}`" for name in family.function_names)
        tests = "float, atol " + f"{family.atol:g}" if family.atol is not None else "exact"
        lines.append(f"| `{family.name}` | {group} | {family.summary} | {names} | "
                     f"{family.params_doc or '-'} | {tests} |")
    return "\n".join(lines) + "\n"
