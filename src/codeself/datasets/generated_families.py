"""Task families of the generated distribution: numbers and lists of numbers.

A `Family` is data, not code paths: synonyms for the function name, alternatives for each
argument name, description phrases, a reference-solution template and two small samplers
(constants, test inputs). `codeself.datasets.generated` turns one family plus a seeded
random draw into a canonical `Task`; which families are held out is declared there.
String and dictionary families live in `generated_families_text`.

Templates use `string.Template` placeholders: `$name` (function name), `$a0`, `$a1`
(argument names) and one per constant. In prompts a constant is written as `str(value)`, in
code as Python source, so `'$c'` in a prompt and `$c` in code both show the character `c`.
Input samplers return argument tuples, the first becoming the public test; expected values
are never written here, they come from running the reference solution.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Params = dict[str, Any]
Inputs = list[tuple]


def no_params(rng: random.Random) -> Params:
    return {}


@dataclass(frozen=True)
class Family:
    """One kind of small function task; every field is documented in docs/generated_tasks.md."""

    name: str  # stable family id, used in task ids (`gen/<name>/<n>`)
    summary: str  # one line for the family table
    function_names: tuple[str, ...]  # synonyms; may use constants (`keep_$parity`)
    arg_names: tuple[tuple[str, ...], ...]  # per argument, the names to choose from
    takes: str  # noun phrase for the arguments: "a list of integers `$a0`"
    descriptions: tuple[str, ...]  # verb phrases in the third person: "returns ..."
    solution: str  # reference program template
    make_inputs: Callable[[random.Random, Params], Inputs]  # first tuple = public test
    make_params: Callable[[random.Random], Params] = no_params
    params_doc: str = ""  # the constants' ranges, for the family table
    atol: float | None = None  # float results: tolerance written to metadata.atol


LIST_ARGS = (("values", "nums", "numbers", "items", "data"),)
INT_LIST = "a list of integers `$a0`"


def ints(rng: random.Random, length: int, lo: int = -9, hi: int = 20) -> list[int]:
    return [rng.randint(lo, hi) for _ in range(length)]


def some_ints(rng: random.Random, lo: int = -9, hi: int = 20) -> list[int]:
    return ints(rng, rng.randint(3, 6), lo, hi)


def k_between(low: int, high: int) -> Callable[[random.Random], Params]:
    return lambda rng: {"k": rng.randint(low, high)}


def _parity(rng: random.Random) -> Params:
    parity = rng.choice(("even", "odd"))
    return {"parity": parity, "rem": 0 if parity == "even" else 1}


def _clamp_bounds(rng: random.Random) -> Params:
    low = rng.randint(-5, 10)
    return {"lo": low, "hi": low + rng.randint(4, 30)}


def _clamp_inputs(rng: random.Random, p: Params) -> Inputs:
    low, high = p["lo"], p["hi"]
    return [(rng.randint(low + 1, high - 1),), (low - rng.randint(1, 50),), (high + rng.randint(1, 50),),
            (low,), (high,)]


def _multiples_inputs(rng: random.Random, p: Params) -> Inputs:
    k = p["k"]
    mixed = some_ints(rng, -10, 40) + [k * rng.randint(1, 6)]
    rng.shuffle(mixed)
    return [(mixed,), ([],), ([k * rng.randint(2, 9) + 1],), ([0, -k, k * 3, k + 1],)]


NUMBER_FAMILIES = (
    Family(
        "add_constant", "add k to every element of a list",
        ("add_k", "increment_all", "shift_values", "add_to_each"), LIST_ARGS, INT_LIST,
        ("returns a new list in which $k has been added to every element of `$a0`",
         "returns the list obtained by increasing each number in `$a0` by $k"),
        "def $name($a0):\n    return [item + $k for item in $a0]\n",
        lambda rng, p: [(some_ints(rng),), ([],), ([rng.randint(-9, 9)],), (ints(rng, 4, -20, -1),)],
        k_between(2, 9), "k in 2..9"),
    Family(
        "multiply_constant", "multiply every element of a list by k",
        ("scale_list", "multiply_all", "times_k", "multiply_each"), LIST_ARGS, INT_LIST,
        ("returns a new list where every element of `$a0` is multiplied by $k",
         "returns the list of the products of $k with each number in `$a0`, in order"),
        "def $name($a0):\n    return [item * $k for item in $a0]\n",
        lambda rng, p: [(some_ints(rng),), ([],), ([rng.randint(-9, 9)],), ([0, -1, 1],)],
        k_between(2, 9), "k in 2..9"),
    Family(
        "filter_multiples", "keep the multiples of k",
        ("multiples_of_k", "keep_multiples", "filter_multiples", "divisible_only"), LIST_ARGS, INT_LIST,
        ("returns the elements of `$a0` that are divisible by $k, in their original order",
         "returns a list with only those numbers from `$a0` that are multiples of $k (keep their order)"),
        "def $name($a0):\n    return [item for item in $a0 if item % $k == 0]\n",
        _multiples_inputs, k_between(2, 7), "k in 2..7"),
    Family(
        "filter_parity", "keep the even (or odd) numbers",
        ("keep_$parity", "filter_$parity", "only_$parity", "select_$parity"), LIST_ARGS, INT_LIST,
        ("returns the $parity numbers of `$a0`, in their original order",
         "returns a new list containing only the $parity elements of `$a0`"),
        "def $name($a0):\n    return [item for item in $a0 if item % 2 == $rem]\n",
        lambda rng, p: [(some_ints(rng),), ([],), ([2, 4, 6, 8],), ([-3, -2, 0, 7, 11],)],
        _parity, "parity in even, odd"),
    Family(
        "sum_of_squares", "sum of the squares of a list",
        ("sum_of_squares", "square_sum", "sum_squares"), LIST_ARGS, INT_LIST,
        ("returns the sum of the squares of the numbers in `$a0` (0 for an empty list)",
         "squares every element of `$a0` and returns the total of those squares; an empty list gives 0"),
        "def $name($a0):\n    return sum(item * item for item in $a0)\n",
        lambda rng, p: [(some_ints(rng, -6, 9),), ([],), ([rng.randint(-9, -1)],), ([0, 0, 0],)]),
    Family(
        "largest", "maximum of a non-empty list",
        ("largest", "find_max", "max_value", "biggest"), LIST_ARGS, "a non-empty list of integers `$a0`",
        ("returns the largest number in the non-empty list `$a0`",
         "finds and returns the maximum element of `$a0`, which is never empty"),
        "def $name($a0):\n    return max($a0)\n",
        lambda rng, p: [(some_ints(rng),), ([rng.randint(-9, 9)],), (ints(rng, 4, -30, -1),), ([5, 5, 5],)]),
    Family(
        "smallest", "minimum of a non-empty list",
        ("smallest", "find_min", "min_value", "lowest"), LIST_ARGS, "a non-empty list of integers `$a0`",
        ("returns the smallest number in the non-empty list `$a0`",
         "finds and returns the minimum element of `$a0`, which is never empty"),
        "def $name($a0):\n    return min($a0)\n",
        lambda rng, p: [(some_ints(rng),), ([rng.randint(-9, 9)],), (ints(rng, 4, 1, 30),), ([2, 2],)]),
    Family(
        "count_greater", "count the elements greater than k",
        ("count_greater", "count_above", "how_many_above", "count_over_k"), LIST_ARGS, INT_LIST,
        ("returns how many numbers in `$a0` are strictly greater than $k",
         "counts the elements of `$a0` that exceed $k and returns that count"),
        "def $name($a0):\n    return sum(1 for item in $a0 if item > $k)\n",
        lambda rng, p: [(some_ints(rng, 0, 15),), ([],), ([p["k"]] * 3,), ([p["k"] + 1, p["k"] - 1, 100],)],
        k_between(1, 9), "k in 1..9"),
    Family(
        "running_sum", "prefix sums of a list",
        ("running_sum", "prefix_sums", "cumulative_sum", "running_total"), LIST_ARGS, INT_LIST,
        ("returns the running totals of `$a0`: element i of the result is the sum of the first i + 1 elements",
         "returns a list of cumulative sums of `$a0`, so its last element is the sum of the whole list "
         "(an empty list gives an empty list)"),
        "def $name($a0):\n    totals, total = [], 0\n    for item in $a0:\n        total += item\n"
        "        totals.append(total)\n    return totals\n",
        lambda rng, p: [(some_ints(rng),), ([],), ([rng.randint(-9, 9)],), ([1, -1, 1, -1],)]),
    Family(
        "clamp", "clamp an integer to [lo, hi]",
        ("clamp", "clip_value", "limit_range", "bound"), (("x", "value", "n", "number"),), "an integer `$a0`",
        ("returns `$a0` limited to the range $lo to $hi: values below $lo become $lo and values above $hi "
         "become $hi",
         "returns $lo if `$a0` is less than $lo, $hi if it is greater than $hi, and `$a0` itself otherwise"),
        "def $name($a0):\n    return max($lo, min($hi, $a0))\n",
        _clamp_inputs, _clamp_bounds, "lo in -5..10, hi = lo + 4..34"),
    Family(
        "celsius_to_fahrenheit", "convert Celsius to Fahrenheit (float)",
        ("celsius_to_fahrenheit", "c_to_f", "to_fahrenheit"), (("celsius", "c", "degrees", "temp"),),
        "a temperature `$a0` in degrees Celsius",
        ("returns the temperature `$a0` (in degrees Celsius) converted to degrees Fahrenheit, "
         "using F = C * 9 / 5 + 32",
         "converts the Celsius temperature `$a0` to Fahrenheit (multiply by 9/5, then add 32) and returns "
         "the result as a float"),
        "def $name($a0):\n    return $a0 * 9 / 5 + 32\n",
        lambda rng, p: [(rng.randint(1, 45),), (0,), (100,), (-40,), (rng.randint(-30, -1),)],
        atol=1e-6),
    Family(
        "digit_sum", "sum of the decimal digits of n",
        ("digit_sum", "sum_of_digits", "add_digits"), (("n", "number", "num"),), "a non-negative integer `$a0`",
        ("returns the sum of the decimal digits of `$a0`",
         "adds up the digits of `$a0` (written in base ten) and returns the total"),
        "def $name($a0):\n    return sum(int(digit) for digit in str($a0))\n",
        lambda rng, p: [(rng.randint(100, 99999),), (0,), (rng.randint(1, 9),), (10 ** rng.randint(3, 8),)]),
    Family(
        "factorial", "n! for small n",
        ("factorial", "fact", "product_up_to"), (("n", "number", "num"),), "a non-negative integer `$a0`",
        ("returns the factorial of `$a0` (the product 1 * 2 * ... * `$a0`), where the factorial of 0 is 1",
         "returns the product of all integers from 1 to `$a0`; for 0 it returns 1"),
        "def $name($a0):\n    result = 1\n    for factor in range(2, $a0 + 1):\n        result *= factor\n"
        "    return result\n",
        lambda rng, p: [(rng.randint(3, 6),), (0,), (1,), (rng.randint(7, 12),)]),
    Family(
        "first_multiples", "the first n multiples of k",
        ("first_multiples", "multiples_list", "times_table", "k_multiples"), (("n", "count", "length"),),
        "a non-negative integer `$a0`",
        ("returns the list of the first `$a0` positive multiples of $k, in increasing order",
         "returns a list holding $k times 1, $k times 2, and so on up to $k times `$a0` "
         "(an empty list when `$a0` is 0)"),
        "def $name($a0):\n    return [$k * factor for factor in range(1, $a0 + 1)]\n",
        lambda rng, p: [(rng.randint(3, 6),), (0,), (1,), (rng.randint(8, 12),)],
        k_between(2, 9), "k in 2..9"),
    Family(
        "average", "mean of a non-empty list (float)",
        ("average", "mean", "mean_value", "avg"), LIST_ARGS, "a non-empty list of integers `$a0`",
        ("returns the arithmetic mean of `$a0` as a float",
         "returns the sum of `$a0` divided by the number of elements in it"),
        "def $name($a0):\n    return sum($a0) / len($a0)\n",
        lambda rng, p: [(some_ints(rng),), ([rng.randint(-9, 9)],), ([1, 2],), (ints(rng, 5, -50, -1),)],
        atol=1e-6),
    Family(
        "count_negatives", "count the negative numbers",
        ("count_negatives", "negative_count", "num_negative"), LIST_ARGS, INT_LIST,
        ("returns how many numbers in `$a0` are less than zero",
         "counts the negative elements of `$a0` (zero is not negative) and returns the count"),
        "def $name($a0):\n    return sum(1 for item in $a0 if item < 0)\n",
        lambda rng, p: [(some_ints(rng),), ([],), ([0, 1, 2],), (ints(rng, 4, -9, -1),)]),
    Family(
        "product", "product of a list (1 when empty)",
        ("product_of_list", "multiply_list", "list_product", "prod_all"), LIST_ARGS, INT_LIST,
        ("returns the product of all numbers in `$a0`, or 1 for an empty list",
         "multiplies together every element of `$a0` and returns the result (the product of an empty list is 1)"),
        "def $name($a0):\n    result = 1\n    for item in $a0:\n        result *= item\n    return result\n",
        lambda rng, p: [(ints(rng, rng.randint(2, 4), -5, 6),), ([],), ([rng.randint(2, 9)],),
                        ([3, 0, 7],)]),
    Family(
        "absolute_values", "absolute value of every element",
        ("absolute_values", "abs_all", "magnitudes", "abs_list"), LIST_ARGS, INT_LIST,
        ("returns a new list with the absolute value of each number in `$a0`",
         "returns `$a0` with every negative number made positive (other numbers unchanged), as a new list"),
        "def $name($a0):\n    return [abs(item) for item in $a0]\n",
        lambda rng, p: [(some_ints(rng),), ([],), ([0],), (ints(rng, 4, -30, -1),)]),
    Family(
        "divisible_by", "is n divisible by k (bool)",
        ("divisible_by_$k", "is_multiple", "check_divisible"), (("n", "number", "x"),), "an integer `$a0`",
        ("returns True when `$a0` is divisible by $k and False otherwise",
         "checks whether $k divides `$a0` exactly, returning True or False"),
        "def $name($a0):\n    return $a0 % $k == 0\n",
        lambda rng, p: [(p["k"] * rng.randint(2, 20),), (p["k"] * rng.randint(2, 20) + 1,), (0,),
                        (-p["k"] * rng.randint(1, 9),), (p["k"] + 1,)],
        k_between(2, 9), "k in 2..9"),
    Family(
        "last_k", "the last k elements of a list",
        ("last_k", "tail", "take_last", "last_elements"), LIST_ARGS, "a list of integers `$a0`",
        ("returns the last $k elements of `$a0` as a list (the whole list if it has fewer than $k elements)",
         "returns a list of the final $k items of `$a0`, keeping their order; shorter lists are returned whole"),
        "def $name($a0):\n    return $a0[-$k:]\n",
        lambda rng, p: [(ints(rng, p["k"] + rng.randint(2, 4)),), ([],), ([rng.randint(0, 9)],),
                        (ints(rng, p["k"]),)],
        k_between(2, 5), "k in 2..5"),
    Family(
        "remove_duplicates", "drop repeated values, keep first occurrences",
        ("remove_duplicates", "unique_in_order", "dedupe", "distinct_values"), LIST_ARGS, INT_LIST,
        ("returns the elements of `$a0` without repeats, keeping the first occurrence of each, in order",
         "removes duplicate numbers from `$a0` while preserving the order in which values first appear"),
        "def $name($a0):\n    seen, result = set(), []\n    for item in $a0:\n        if item not in seen:\n"
        "            seen.add(item)\n            result.append(item)\n    return result\n",
        lambda rng, p: [(ints(rng, rng.randint(5, 8), 0, 5),), ([],), ([7, 7, 7],), ([3, 1, 2],)]),
    Family(
        "sum_even", "sum of the even elements",
        ("sum_even", "sum_of_evens", "even_total"), LIST_ARGS, INT_LIST,
        ("returns the sum of the even numbers in `$a0` (0 if there are none)",
         "adds up only the elements of `$a0` that are even and returns that sum"),
        "def $name($a0):\n    return sum(item for item in $a0 if item % 2 == 0)\n",
        lambda rng, p: [(some_ints(rng),), ([],), ([1, 3, 5],), ([-4, -3, 10],)]),
    # Held-out families (see generated.HELDOUT_FAMILY_NAMES): never in train/validation/test.
    Family(
        "value_range", "largest minus smallest element",
        ("value_range", "spread", "max_minus_min"), LIST_ARGS, "a non-empty list of integers `$a0`",
        ("returns the difference between the largest and the smallest number in the non-empty list `$a0`",
         "returns the maximum of `$a0` minus its minimum (`$a0` always has at least one element)"),
        "def $name($a0):\n    return max($a0) - min($a0)\n",
        lambda rng, p: [(some_ints(rng),), ([rng.randint(-9, 9)],), ([4, 4],), (ints(rng, 4, -30, -1),)]),
    Family(
        "is_sorted", "is a list in non-decreasing order (bool)",
        ("is_sorted", "is_non_decreasing", "in_order"), LIST_ARGS, INT_LIST,
        ("returns True if the numbers in `$a0` never decrease from left to right, and False otherwise "
         "(an empty list counts as sorted)",
         "checks whether `$a0` is sorted in ascending order (equal neighbours are allowed) and returns True "
         "or False"),
        "def $name($a0):\n    return all(left <= right for left, right in zip($a0, $a0[1:]))\n",
        lambda rng, p: [(sorted(some_ints(rng)),), ([],), ([3, 1],), ([2, 2, 5],), (some_ints(rng),)]),
    Family(
        "digits_of", "decimal digits of n as a list",
        ("to_digits", "digit_list", "split_digits"), (("n", "number", "num"),), "a non-negative integer `$a0`",
        ("returns the list of the decimal digits of `$a0`, most significant digit first",
         "returns the digits of `$a0` as a list of integers, in the order they are written"),
        "def $name($a0):\n    return [int(digit) for digit in str($a0)]\n",
        lambda rng, p: [(rng.randint(100, 99999),), (0,), (rng.randint(1, 9),), (10 ** rng.randint(2, 5),)]),
    Family(
        "pairwise_sums", "sums of neighbouring elements",
        ("pairwise_sums", "adjacent_sums", "neighbour_sums"), LIST_ARGS, INT_LIST,
        ("returns a list whose element i is `$a0`[i] + `$a0`[i + 1]; the result is one element shorter than "
         "`$a0`, and empty if `$a0` has fewer than two elements",
         "adds every element of `$a0` to the element right after it and returns the list of those sums"),
        "def $name($a0):\n    return [left + right for left, right in zip($a0, $a0[1:])]\n",
        lambda rng, p: [(some_ints(rng),), ([],), ([rng.randint(0, 9)],), ([1, -1],)]),
    Family(
        "minutes_to_hours", "minutes -> (hours, minutes) tuple",
        ("to_hours_minutes", "split_minutes", "minutes_to_hm"), (("minutes", "total", "m"),),
        "a non-negative number of minutes `$a0`",
        ("returns a tuple (hours, minutes) with the number of whole hours in `$a0` and the minutes left over",
         "converts `$a0` into whole hours and remaining minutes and returns both as a 2-tuple"),
        "def $name($a0):\n    return ($a0 // 60, $a0 % 60)\n",
        lambda rng, p: [(rng.randint(61, 500),), (0,), (rng.randint(1, 59),), (60 * rng.randint(1, 9),)]),
)
