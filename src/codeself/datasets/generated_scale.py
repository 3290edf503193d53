"""Scale inputs of the generated families: arguments at growing sizes, for measuring efficiency.

Why a table of its own: the families (generated_families*.py) describe tasks, and their test
inputs are small on purpose (readable asserts). Efficiency (codeself.execution.efficiency)
needs the same function called on inputs that grow, so that an O(n^2) answer shows. Each
family whose input can grow has a maker here: (rng, params, n) -> the argument tuple at size
n, where n is the length of the growing argument (elements of a list, characters of a
string, words of a sentence or list of words, digits of a number) or, for `factorial`,
`first_multiples` and `is_prime`, the number itself. Families of constant-size inputs
(clamp, celsius_to_fahrenheit, divisible_by, minutes_to_hours, gcd) have none.

Opt-in (`GeneratorConfig.scale_inputs`, `prepare_datasets.py --scale-inputs`): without it the
generated files stay byte-identical. Drawn from their own `random.Random`, seeded by the
generator seed and the task's prompt, so they change nothing else of a task.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from codeself.datasets.generated_families import ints
from codeself.datasets.generated_families_text import words
from codeself.datasets.snippets import python_source

SCALE_SIZES = (16, 32, 64, 128, 256)
Maker = Callable[[random.Random, dict, int], tuple]
LETTERS = "abcdeilmnorstu"


def _int_list(lo: int = -9, hi: int = 20) -> Maker:
    return lambda rng, p, n: (ints(rng, n, lo, hi),)


def _chars(alphabet: str) -> Maker:
    return lambda rng, p, n: ("".join(rng.choice(alphabet) for _ in range(n)),)


def _palindrome(rng: random.Random, p: dict, n: int) -> tuple:
    half = "".join(rng.choice(LETTERS) for _ in range(n // 2))
    return (half + half[::-1],)


def _runs(rng: random.Random, p: dict, n: int) -> tuple:
    text = ""
    while len(text) < n:
        text += rng.choice(LETTERS) * rng.randint(1, 3)
    return (text[:n],)


def _sentence(rng: random.Random, p: dict, n: int) -> tuple:
    return (" ".join(words(rng, n)),)


def _word_list(rng: random.Random, p: dict, n: int) -> tuple:
    return (words(rng, n),)


def _invert(rng: random.Random, p: dict, n: int) -> tuple:
    keys = [f"{word}{index}" for index, word in enumerate(words(rng, n))]
    return (dict(zip(keys, rng.sample(range(10 * n), n))),)


def _pairs(rng: random.Random, p: dict, n: int) -> tuple:
    return (list(zip(words(rng, n), ints(rng, n, 0, 20))),)


def _two_lists(rng: random.Random, p: dict, n: int) -> tuple:
    return ints(rng, n), ints(rng, n)


def _digits(rng: random.Random, p: dict, n: int) -> tuple:
    return (rng.randint(10 ** (n - 1), 10 ** n - 1),)


def _prime_at_least(rng: random.Random, p: dict, n: int) -> tuple:
    candidate = max(n, 2)
    while any(candidate % divisor == 0 for divisor in range(2, int(candidate ** 0.5) + 1)):
        candidate += 1
    return (candidate,)


SCALE_MAKERS: dict[str, Maker] = {
    **{name: _int_list() for name in (
        "add_constant", "multiply_constant", "filter_multiples", "filter_parity", "sum_of_squares", "largest",
        "smallest", "running_sum", "average", "count_negatives", "absolute_values", "last_k", "sum_even",
        "value_range", "pairwise_sums", "rotate_left", "chunk_list", "index_of_max")},
    "count_greater": _int_list(0, 15),
    "remove_duplicates": lambda rng, p, n: (ints(rng, n, 0, n // 2),),
    "product": _int_list(-2, 2),
    "is_sorted": lambda rng, p, n: (sorted(ints(rng, n)),),  # sorted: every neighbour pair is compared
    "reverse_string": _chars(LETTERS), "repeat_string": _chars(LETTERS), "mirror_string": _chars(LETTERS),
    "is_palindrome": _palindrome, "run_length_encode": _runs,
    "count_vowels": _chars(LETTERS + " "), "count_char": _chars(LETTERS + " "), "remove_char": _chars(LETTERS + " "),
    "count_uppercase": _chars(LETTERS + LETTERS.upper() + " "), "alternate_case": _chars(LETTERS + " "),
    **{name: _sentence for name in ("capitalize_words", "count_words", "longest_word", "replace_spaces",
                                    "count_long_words")},
    **{name: _word_list for name in ("string_lengths", "join_with", "count_occurrences", "words_starting_with")},
    "invert_dict": _invert, "unzip_pairs": _pairs, "interleave": _two_lists,
    "digit_sum": _digits, "digits_of": _digits,
    "factorial": lambda rng, p, n: (n,), "first_multiples": lambda rng, p, n: (n,),
    "is_prime": _prime_at_least,
}


def scale_inputs(family_name: str, params: dict[str, Any], seed: int, prompt: str) -> list[dict[str, Any]] | None:
    """`metadata.scale_inputs` for a task of the family: [{"size": n, "args": Python literal of the
    argument tuple}, ...] over SCALE_SIZES; None for a family without a maker."""
    maker = SCALE_MAKERS.get(family_name)
    if maker is None:
        return None
    rng = random.Random(f"{seed}:scale:{prompt}")
    return [{"size": size, "args": python_source(maker(rng, params, size))} for size in SCALE_SIZES]

