"""The generated task families in C++, Java, JavaScript and Rust: practice data of our own.

`prepare_datasets.py --format generated --language cpp|java|js|rust`. MultiPL-E's translations
may only be evaluated on (their licence), so practising another language needs tasks that owe
nothing to them; these are the Python distribution (generated.py, versions 1 and 2) carried over:

- The same seeded draws. The Python generator runs over the families that translate (its
  split, template and, in version 2, name partitions and train-overlap rejection unchanged), and
  each Python task is translated: its function name (Java: lowerCamelCase), argument names,
  constants, inputs and expected values. Expected values are the Python reference's, computed by
  trusted code as in Python, and each language's reference (generated_language_<lang>.py) must
  reproduce them through the real toolchain (`check_references.py`; tests and the bench do).
- Typed signatures (`FAMILY_TYPES`; generated_language_types.py spells them) and tests as
  MultiPL-E writes its asserts, so `split_assert` splits each into the candidate call and the
  expected value and the execution engine judges them with expected values outside the
  candidate's process. The first test is public, the rest hidden, as in Python.
- `starter_code` is the code prompt MultiPL-E's tasks have (includes or imports, the task as a
  comment, the signature up to its body); `prompt` is the Python prompt's sentence in the
  language's idiom (its name, its signature, its words for lists, dictionaries, tuples, true).
- Ids `<prefix>-<language>/<family>/<n>` (`gen2-cpp/gcd/3`), split and metadata as in Python,
  plus `metadata.translation` (`from`: the Python task id, `dropped_tests`).

Families that do not translate are skipped (`SKIPPED`, with the reason), so the default
held-out count is 12 per translated held-out family. A test whose values do not fit the typed
signature (one unzip_pairs input pairs integers with integers) is dropped and counted.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from string import Template
from typing import Any

from codeself.datasets import generated
from codeself.datasets.generated_language_types import (BOOL, INT, INT_LIST, LANGUAGE_NAMES, STR, STR_LIST,
                                                        char_literal, fits, in_idiom, java_name, signature,
                                                        test_statement)
from codeself.datasets.splits import ManifestBuilder
from codeself.datasets.task import Task
from codeself.jsonl import sha256_file, write_json, write_jsonl

LANGUAGES = tuple(LANGUAGE_NAMES)
# family -> (argument types, result type)
FAMILY_TYPES = {
    **{name: ((INT_LIST,), INT_LIST) for name in (
        "add_constant", "multiply_constant", "filter_multiples", "filter_parity", "running_sum", "absolute_values",
        "last_k", "remove_duplicates", "pairwise_sums", "rotate_left")},
    **{name: ((INT_LIST,), INT) for name in (
        "sum_of_squares", "largest", "smallest", "count_greater", "count_negatives", "product", "sum_even",
        "value_range", "index_of_max")},
    **{name: ((INT,), INT) for name in ("clamp", "digit_sum", "factorial")},
    **{name: ((STR,), STR) for name in (
        "repeat_string", "reverse_string", "capitalize_words", "remove_char", "longest_word", "replace_spaces",
        "mirror_string", "alternate_case")},
    **{name: ((STR,), INT) for name in ("count_vowels", "count_char", "count_words", "count_uppercase",
                                        "count_long_words")},
    "first_multiples": ((INT,), INT_LIST), "digits_of": ((INT,), INT_LIST),
    "divisible_by": ((INT,), BOOL), "is_prime": ((INT,), BOOL), "is_sorted": ((INT_LIST,), BOOL),
    "is_palindrome": ((STR,), BOOL), "minutes_to_hours": ((INT,), ("tuple", INT, INT)),
    "words_starting_with": ((STR_LIST,), STR_LIST), "string_lengths": ((STR_LIST,), INT_LIST),
    "join_with": ((STR_LIST,), STR), "chunk_list": ((INT_LIST,), ("list", INT_LIST)),
    "count_occurrences": ((STR_LIST,), ("dict", STR, INT)), "gcd": ((INT, INT), INT),
    "run_length_encode": ((STR,), ("list", ("tuple", STR, INT))),
    "unzip_pairs": ((("list", ("tuple", STR, INT)),), ("tuple", STR_LIST, INT_LIST)),
    "interleave": ((INT_LIST, INT_LIST), INT_LIST),
}
SKIPPED = {
    "celsius_to_fahrenheit": "float result compared with a tolerance (metadata.atol); the languages' equality is exact",
    "average": "float result compared with a tolerance (metadata.atol); the languages' equality is exact",
    "invert_dict": "its inputs mix key types within one task (str -> int and int -> str maps): no one typed signature",
}
# Character constants of the families, also written as character literals (`$cc`, `$sepc`).
CHARACTER_CONSTANTS = ("c", "sep")
JAVA_IMPORTS = ("import java.util.*;\nimport java.lang.reflect.*;\nimport org.javatuples.*;\nimport java.security.*;\n"
                "import java.math.*;\nimport java.io.*;\nimport java.util.stream.*;\n")
COMMENT_WIDTH = 96


def check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"--language {language!r}: generated tasks are written in python or one of "
                         f"{', '.join(LANGUAGES)}")


def bodies(language: str) -> dict[str, str]:
    """The reference bodies of `language` (generated_language_<language>.BODIES)."""
    check_language(language)
    return importlib.import_module(f"codeself.datasets.generated_language_{language}").BODIES


def translated_distribution(version: int, language: str) -> generated.Distribution:
    """The Python distribution restricted to the families that translate; ids `<prefix>-<language>/..`."""
    check_language(language)
    dist = generated.distribution(version)
    families = tuple(family for family in dist.families if family.name in FAMILY_TYPES)
    return dataclasses.replace(dist, families=families, id_prefix=f"{dist.id_prefix}-{language}")


def language_config(config: generated.GeneratorConfig, language: str) -> generated.GeneratorConfig:
    """`config` with the default held-out count taken over the translated held-out families."""
    if config.scale_inputs or config.security_tasks:
        raise ValueError(f"--language {language}: --scale-inputs and --security-tasks are for Python tasks only "
                         "(efficiency is counted in Python bytecode; the security families are Python's)")
    if config.test_heldout_families is not None:
        return config
    heldout = translated_distribution(config.version, language).heldout_families()
    return dataclasses.replace(config, test_heldout_families=generated.TASKS_PER_HELDOUT_FAMILY * len(heldout))


def python_tests(task: Task) -> list[tuple[tuple, Any]]:
    """(arguments, expected value) of each test of a generated Python task, public first."""
    found = []
    for test in task.public_tests + task.hidden_tests:
        comparison = ast.parse(test).body[0].test  # `assert name(args) == expected` (generated.render_test)
        call = comparison.left
        found.append((tuple(ast.literal_eval(arg) for arg in call.args), ast.literal_eval(comparison.comparators[0])))
    return found


def _names(task: Task, language: str) -> tuple[str, tuple[str, ...]]:
    names = (task.entry_point, *task.metadata["argument_names"])
    if language == "java":
        names = tuple(java_name(name) for name in names)
    return names[0], tuple(names[1:])


def _constants(params: dict[str, Any], language: str) -> dict[str, str]:
    """The drawn constants as body literals: integers; strings as string literals (`&str` in Rust,
    which its methods take) and, for character constants, also as character literals (`$cc`)."""
    values = {}
    for key, value in params.items():
        values[key] = json.dumps(value) if isinstance(value, str) else str(value)
        if isinstance(value, str) and key in CHARACTER_CONSTANTS:
            values[key + "c"] = char_literal(value, language)
    return values


def _prompt_text(task: Task, family: generated.Family, name: str, params: tuple[str, ...], sig: str,
                 language: str) -> str:
    values = {**{f"a{i}": param for i, param in enumerate(params)},
              **{key: str(value) for key, value in task.metadata["parameters"].items()}}
    opener = generated.OPENERS[task.metadata["template"]["opener"]].replace("Python", LANGUAGE_NAMES[language])
    takes = in_idiom(Template(family.takes).substitute(values), language)
    desc = in_idiom(Template(family.descriptions[task.metadata["template"]["description"]]).substitute(values),
                    language)
    return Template(opener).substitute(sig=sig, takes=takes, desc=desc)


def _starter(text: str, sig: str, language: str, uses_map: bool) -> str:
    """MultiPL-E's code prompt: header, the task as a comment, the signature opening its body."""
    lines = textwrap.wrap(text, COMMENT_WIDTH, break_on_hyphens=False, break_long_words=False)
    if language == "cpp":
        return "#include<assert.h>\n#include<bits/stdc++.h>\n" + "".join(f"// {line}\n" for line in lines) + sig + " {\n"
    if language == "java":
        comment = "".join(f"    // {line}\n" for line in lines)
        return f"{JAVA_IMPORTS}class Problem {{\n{comment}    {sig} {{\n"
    if language == "js":
        return "".join(f"//{line}\n" for line in lines) + sig + "{\n"
    header = "use std::collections::HashMap;\n\n" if uses_map else ""
    return header + "".join(f"/// {line}\n" for line in lines) + sig + " {\n"


CLOSING = {"cpp": "}\n", "java": "    }\n}\n", "js": "}\n", "rust": "}\n"}


def translate(task: Task, language: str, family: generated.Family, task_id: str) -> Task:
    """The `language` version of one generated Python task (module docstring)."""
    types, result = FAMILY_TYPES[family.name]
    name, params = _names(task, language)
    sig = signature(name, params, types, result, language)
    shown_sig = sig.removeprefix("public static ") if language == "java" else sig
    text = _prompt_text(task, family, name, params, shown_sig.removeprefix("function "), language)
    uses_map = "HashMap" in sig or "std::map" in sig
    starter = _starter(text, sig, language, uses_map)
    tests = python_tests(task)
    kept = [(args, want) for args, want in tests
            if all(fits(arg, kind) for arg, kind in zip(args, types)) and fits(want, result)]
    if tests[0] not in kept or len(kept) < generated.MIN_TESTS:
        raise ValueError(f"{task.task_id}: the public test or too many tests do not fit {sig}")  # a table bug
    written = [test_statement(name, args, types, want, result, language) for args, want in kept]
    values = {"a0": params[0], **({"a1": params[1]} if len(params) > 1 else {}),
              **_constants(task.metadata["parameters"], language)}
    body = Template(bodies(language)[family.name]).substitute(values)
    metadata = {**task.metadata, "argument_names": list(params),
                "translation": {"from": task.task_id, "dropped_tests": len(tests) - len(kept)}}
    metadata.pop("atol", None)
    return dataclasses.replace(task, task_id=task_id, prompt=text, entry_point=name, starter_code=starter,
                               public_tests=(written[0],), hidden_tests=tuple(written[1:]),
                               reference_solution=starter + body + CLOSING[language], metadata=metadata,
                               language=language)


def generate_language_tasks(config: generated.GeneratorConfig, language: str) -> Iterator[Task]:
    """Every task of `config` in `language`, split by split as generated.generate_tasks orders them."""
    config = language_config(config, language)
    dist = translated_distribution(config.version, language)
    families = {family.name: family for family in dist.families}
    python_prefix = generated.distribution(config.version).id_prefix
    for task in generated.generate_tasks(config, dist=dist):
        python_id = python_prefix + task.task_id[len(dist.id_prefix):]
        yield translate(dataclasses.replace(task, task_id=python_id), language, families[task.metadata["family"]],
                        task.task_id)


def write_generated_language(output_path: str | Path, config: generated.GeneratorConfig, language: str, *,
                             manifest_path: str | Path | None = None,
                             on_task: Callable[[Task], None] | None = None) -> dict[str, Any]:
    """Write the `language` tasks of `config` as canonical JSONL; return the split manifest."""
    config = language_config(config, language)
    dist = translated_distribution(config.version, language)
    builder = ManifestBuilder()

    def records() -> Iterator[dict[str, Any]]:
        for task in generate_language_tasks(config, language):
            builder.add(task)
            if on_task:
                on_task(task)
            yield task.to_json()

    write_jsonl(output_path, records())
    skipped = {name: reason for name, reason in SKIPPED.items()
               if name in {family.name for family in generated.distribution(config.version).families}}
    manifest = builder.build(source_format=generated.FORMAT, method=generated.FORMAT, seed=config.seed, ratios=None,
                             input_file=None, input_sha256=None, output_file=Path(output_path).name,
                             output_sha256=sha256_file(output_path), generator={
                                 "version": config.version, "language": language,
                                 "heldout_families": [family.name for family in dist.heldout_families()],
                                 "practised_families": [family.name for family in dist.practice_families()],
                                 "skipped_families": skipped,
                                 "dedup_rule": generated.DEDUP_RULE if dist.separates_eval_from_train
                                 else "none (version 1)"})
    if manifest_path is not None:
        write_json(manifest_path, manifest)
    return manifest
