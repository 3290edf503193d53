"""Held-out task families added in version 2 of the generated distribution.

Same conventions as `generated_families` (placeholders, samplers, first input public). These
families are never practised: version 2 puts them, with version 1's held-out families, only
in `test_heldout_families`, to measure transfer to operations absent from training. So each
is a different operation from every version-1 family, not a near sibling (no "sum of the odd
numbers" next to `sum_even`), and together they span lists, integers, strings and every
result kind: a dict, a tuple, a bool and a nested list.

Samplers draw distinct values where a sloppy solution would otherwise pass by luck (a
rotation of a list with repeats can equal the list), and include the edge cases a
description states (empty input, one element, ties, a shift longer than the list).
"""

from __future__ import annotations

import random

from codeself.datasets.generated_families import (
    INT_LIST, LIST_ARGS, Family, Inputs, Params, ints, k_between, some_ints,
)
from codeself.datasets.generated_families_text import LETTERS, TEXT_ARGS, WORD_LIST_ARGS, WORDS, sentence, words

PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97)


def distinct_ints(rng: random.Random, length: int) -> list[int]:
    """`length` different integers, so that moving elements around always shows."""
    return rng.sample(range(-9, 30), length)


def _rotate_inputs(rng: random.Random, p: Params) -> Inputs:
    k = p["k"]
    # Length k gives the list back; length k - 1 (< k for k >= 2) makes the rotation wrap around.
    return [(distinct_ints(rng, k + rng.randint(2, 4)),), ([],), ([rng.randint(-9, 9)],),
            (distinct_ints(rng, k),), (distinct_ints(rng, k + 1),), (distinct_ints(rng, max(2, k - 1)),)]


def _chunk_inputs(rng: random.Random, p: Params) -> Inputs:
    k = p["k"]
    return [(ints(rng, k * rng.randint(1, 2) + rng.randint(1, k - 1)),), ([],), ([rng.randint(-9, 9)],),
            (ints(rng, k),), (ints(rng, 2 * k),)]


def _occurrence_inputs(rng: random.Random, p: Params) -> Inputs:
    vocabulary = rng.sample(WORDS, 3)
    repeated = [rng.choice(vocabulary) for _ in range(rng.randint(5, 7))]
    return [(repeated,), ([],), ([rng.choice(WORDS)],), ([vocabulary[0]] * 3,), (rng.sample(WORDS, 3),)]


def _gcd_inputs(rng: random.Random, p: Params) -> Inputs:
    common = rng.randint(2, 9)
    first, second = rng.sample(PRIMES[:8], 2)  # coprime cofactors: the answer is exactly `common`
    number = rng.randint(2, 60)
    return [(common * first, common * second), (0, number), (number, number), (first * second, first),
            (rng.choice(PRIMES[4:]), rng.choice(PRIMES[:4])), (common * 4, 0)]


def _prime_inputs(rng: random.Random, p: Params) -> Inputs:
    small, large = rng.sample(PRIMES[1:4], 2), rng.sample(PRIMES[4:], 2)
    return [(large[0],), (rng.choice((0, 1)),), (2,), (small[0] * small[0],), (small[1] * large[1],),
            (large[1],), (-large[0],)]


def _runs(rng: random.Random) -> str:
    """Three or four runs of letters, neighbouring runs of different letters (e.g. "aaeoorr")."""
    letters, count = [rng.choice(LETTERS)], rng.randint(3, 4)
    while len(letters) < count:
        letters.append(rng.choice([letter for letter in LETTERS if letter != letters[-1]]))
    return "".join(letter * rng.randint(1, 3) for letter in letters)


def _run_length_inputs(rng: random.Random, p: Params) -> Inputs:
    letter = rng.choice(LETTERS)
    return [(_runs(rng),), ("",), (letter,), (letter * rng.randint(3, 6),), ("abab",), (rng.choice(WORDS),)]


def _unzip_inputs(rng: random.Random, p: Params) -> Inputs:
    def pairs(count: int) -> list[tuple]:
        return list(zip(words(rng, count), ints(rng, count, 0, 20)))

    return [(pairs(rng.randint(3, 4)),), ([],), (pairs(1),), ([(1, 1), (2, 2)],), (pairs(5),)]


def _index_of_max_inputs(rng: random.Random, p: Params) -> Inputs:
    values = distinct_ints(rng, rng.randint(4, 6))
    values.insert(rng.randint(1, len(values)), max(values) + rng.randint(1, 9))  # never at index 0
    top = rng.randint(10, 20)
    return [(values,), ([rng.randint(-9, 9)],), ([1, top, 3, top],), (sorted(some_ints(rng), reverse=True),),
            (ints(rng, 4, -30, -1),), ([2, 2, 2],)]


def _interleave_inputs(rng: random.Random, p: Params) -> Inputs:
    def two(first: int, second: int) -> tuple:
        values = distinct_ints(rng, first + second)
        return values[:first], values[first:]

    return [two(3, 3), ([], []), two(0, 2), two(4, 1), two(1, 4), two(1, 1)]


def _alternate_case_inputs(rng: random.Random, p: Params) -> Inputs:
    return [(rng.choice(WORDS),), ("",), ("q",), (sentence(rng, 2, 3),), (rng.choice(WORDS).upper(),)]


V2_HELDOUT_FAMILIES = (
    Family(
        "rotate_left", "rotate a list left by k positions",
        ("rotate_left", "rotate_list", "left_rotate", "cycle_left"), LIST_ARGS, INT_LIST,
        ("returns `$a0` rotated left $k times, where one rotation moves the first element to the end "
         "(an empty list stays empty)",
         "returns a new list obtained from `$a0` by taking its first element and putting it at the back, "
         "doing that $k times in a row; an empty list gives an empty list"),
        "def $name($a0):\n    if not $a0:\n        return []\n    shift = $k % len($a0)\n"
        "    return $a0[shift:] + $a0[:shift]\n",
        _rotate_inputs, k_between(1, 4), "k in 1..4"),
    Family(
        "chunk_list", "split a list into pieces of k (nested list)",
        ("chunk_list", "split_into_chunks", "chunks", "group_by_k"), LIST_ARGS, INT_LIST,
        ("returns `$a0` split into consecutive pieces of $k elements, as a list of lists; the last piece holds "
         "whatever is left over and may be shorter",
         "cuts `$a0` into groups of $k neighbouring elements, in order, and returns the list of those groups "
         "(the final group can have fewer than $k elements, and an empty list gives an empty list)"),
        "def $name($a0):\n    return [$a0[start:start + $k] for start in range(0, len($a0), $k)]\n",
        _chunk_inputs, k_between(2, 4), "k in 2..4"),
    Family(
        "count_occurrences", "how often each string occurs (dict)",
        ("count_occurrences", "frequencies", "tally", "histogram"), WORD_LIST_ARGS, "a list of strings `$a0`",
        ("returns a dictionary that maps each distinct string in `$a0` to the number of times it occurs there",
         "counts how many times every element of `$a0` appears and returns those counts as a dictionary keyed "
         "by element (an empty list gives an empty dictionary)"),
        "def $name($a0):\n    counts = {}\n    for item in $a0:\n        counts[item] = counts.get(item, 0) + 1\n"
        "    return counts\n",
        _occurrence_inputs),
    Family(
        "gcd", "greatest common divisor of two integers",
        ("gcd", "greatest_common_divisor", "common_divisor", "hcf"), (("a", "x", "m"), ("b", "y", "n")),
        "two non-negative integers `$a0` and `$a1`",
        ("returns the greatest common divisor of the non-negative integers `$a0` and `$a1` (never both zero); "
         "when one of them is 0 the answer is the other",
         "returns the largest positive integer that divides both `$a0` and `$a1` exactly, where the two are "
         "non-negative and not both zero; if one of them is 0 it returns the other one"),
        "def $name($a0, $a1):\n    while $a1:\n        $a0, $a1 = $a1, $a0 % $a1\n    return $a0\n",
        _gcd_inputs),
    Family(
        "is_prime", "is n a prime number (bool)",
        ("is_prime", "check_prime", "prime_test", "is_prime_number"), (("n", "number", "num", "x"),),
        "an integer `$a0`",
        ("returns True if the integer `$a0` is a prime number and False otherwise; numbers below 2, "
         "negative ones included, are not prime",
         "checks whether `$a0` is prime, meaning greater than 1 and divisible only by 1 and by itself, "
         "and returns True or False"),
        "def $name($a0):\n    return $a0 > 1 and all($a0 % divisor for divisor in range(2, $a0))\n",
        _prime_inputs),
    Family(
        "alternate_case", "uppercase at even indices, lowercase at odd",
        ("alternate_case", "zigzag_case", "alternating_caps", "wave_case"), TEXT_ARGS, "a string `$a0`",
        ("returns `$a0` with the characters at even indices (0, 2, 4, ...) in uppercase and those at odd "
         "indices in lowercase",
         "returns a copy of `$a0` whose characters alternate between upper and lower case, starting with "
         "uppercase at index 0; every character, a space too, takes up one position"),
        "def $name($a0):\n    return ''.join(char.upper() if index % 2 == 0 else char.lower()\n"
        "                   for index, char in enumerate($a0))\n",
        _alternate_case_inputs),
    Family(
        "run_length_encode", "runs of equal characters as (char, count) tuples",
        ("run_length_encode", "rle", "encode_runs", "compress_runs"), TEXT_ARGS, "a string `$a0`",
        ("returns the run-length encoding of `$a0` as a list of (character, count) tuples, one tuple per run "
         "of equal neighbouring characters, in order",
         "groups the consecutive equal characters of `$a0` and returns a list of tuples (character, size of "
         "the group) in order; an empty string gives an empty list"),
        "from itertools import groupby\n\n\ndef $name($a0):\n"
        "    return [(char, len(list(group))) for char, group in groupby($a0)]\n",
        _run_length_inputs),
    Family(
        "unzip_pairs", "list of pairs -> tuple of two lists",
        ("unzip_pairs", "split_pairs", "unzip", "separate_pairs"), (("pairs", "tuples", "records", "entries"),),
        "a list of 2-tuples `$a0`",
        ("returns a tuple of two lists: the first elements of the pairs in `$a0`, in order, and their second "
         "elements, in order",
         "separates the pairs of `$a0` into a list of their first items and a list of their second items and "
         "returns both lists as a 2-tuple (two empty lists for an empty input)"),
        "def $name($a0):\n    return ([first for first, _ in $a0], [second for _, second in $a0])\n",
        _unzip_inputs),
    Family(
        "index_of_max", "position of the largest element, first on ties",
        ("index_of_max", "argmax", "max_index", "position_of_max"), LIST_ARGS,
        "a non-empty list of integers `$a0`",
        ("returns the index of the largest number in the non-empty list `$a0`; when the largest value occurs "
         "more than once, the index of its first occurrence",
         "finds where the maximum of `$a0` (which is never empty) first appears and returns that position, "
         "counting from 0"),
        "def $name($a0):\n    return $a0.index(max($a0))\n",
        _index_of_max_inputs),
    Family(
        "interleave", "alternate the elements of two lists",
        ("interleave", "merge_alternately", "zip_merge", "weave"),
        (("first", "xs", "list_a"), ("second", "ys", "list_b")),
        "two lists of integers `$a0` and `$a1`",
        ("returns a list that takes elements from `$a0` and `$a1` in turn, starting with `$a0`; once one list "
         "runs out, the rest of the other follows in order",
         "merges `$a0` and `$a1` alternately (the first element of `$a0`, then the first of `$a1`, then the "
         "second of `$a0`, and so on) and puts the leftover elements of the longer list at the end"),
        "def $name($a0, $a1):\n    merged = []\n    for index in range(max(len($a0), len($a1))):\n"
        "        merged += $a0[index:index + 1] + $a1[index:index + 1]\n    return merged\n",
        _interleave_inputs),
)
