"""Task families of the generated distribution: strings, lists of strings, dictionaries.

Same conventions as `generated_families` (placeholders, samplers, first input public).
Strings are built from a fixed vocabulary of common lowercase words so that inputs look
like text a model has seen, and so that a sentence never contains digits or punctuation
that would make the expected behaviour ambiguous.
"""

from __future__ import annotations

import random

from codeself.datasets.generated_families import Family, Inputs, Params, k_between

WORDS = (
    "apple", "river", "stone", "cloud", "tiger", "lemon", "paper", "music", "green", "house",
    "bread", "chair", "light", "ocean", "plant", "smile", "table", "water", "zebra", "queen",
    "moon", "sun", "sky", "tree", "book", "code", "data", "bird", "fish", "rain", "snow", "star",
    "wind", "fire", "gold", "salt", "road", "sand", "leaf", "rose", "tall", "late", "open", "nest",
)
PALINDROMES = ("level", "radar", "kayak", "noon", "civic", "refer", "madam", "stats", "racecar")
LETTERS = "aeiorstnl"  # letters that occur in several WORDS
INITIALS = "bclrst"  # first letters shared by at least three WORDS
SEPARATORS = ("-", "_", "*", "+", ".")

TEXT_ARGS = (("text", "s", "word", "string"),)
SENTENCE_ARGS = (("sentence", "text", "s", "phrase"),)
WORD_LIST_ARGS = (("words", "strings", "items", "names"),)


def words(rng: random.Random, count: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(count)]


def sentence(rng: random.Random, low: int = 2, high: int = 5) -> str:
    return " ".join(words(rng, rng.randint(low, high)))


def _letter(alphabet: str, name: str = "c"):
    return lambda rng: {name: rng.choice(alphabet)}


def _with_letter(rng: random.Random, letter: str) -> str:
    """A sentence that contains `letter` at least once."""
    while True:
        text = sentence(rng)
        if letter in text:
            return text


def _starting_with_inputs(rng: random.Random, p: Params) -> Inputs:
    matching = [word for word in WORDS if word.startswith(p["c"])]
    others = [word for word in WORDS if not word.startswith(p["c"])]
    mixed = rng.sample(matching, 2) + rng.sample(others, 3)
    rng.shuffle(mixed)
    return [(mixed,), ([],), (rng.sample(others, 3),), (rng.sample(matching, 3),)]


def _palindrome_inputs(rng: random.Random, p: Params) -> Inputs:
    return [(rng.choice(PALINDROMES),), (rng.choice(WORDS),), ("",), ("a",), ("ab",), ("abca",)]


def _long_words_inputs(rng: random.Random, p: Params) -> Inputs:
    return [(sentence(rng, 3, 6),), ("",), ("a " + "b" * (p["k"] + 1),), ("x" * p["k"],)]


TEXT_FAMILIES = (
    Family(
        "repeat_string", "a string repeated k times",
        ("repeat_string", "repeat_text", "echo_k", "multiply_string"), TEXT_ARGS, "a string `$a0`",
        ("returns `$a0` repeated $k times, with nothing between the copies",
         "returns a new string made of $k copies of `$a0` joined together"),
        "def $name($a0):\n    return $a0 * $k\n",
        lambda rng, p: [(rng.choice(WORDS),), ("",), ("z",), (sentence(rng, 2, 2),)],
        k_between(2, 6), "k in 2..6"),
    Family(
        "reverse_string", "reverse a string",
        ("reverse_string", "reverse_text", "backwards", "flip_string"), TEXT_ARGS, "a string `$a0`",
        ("returns the characters of `$a0` in reverse order",
         "returns `$a0` reversed, so that its last character comes first"),
        "def $name($a0):\n    return $a0[::-1]\n",
        lambda rng, p: [(rng.choice(WORDS),), ("",), ("q",), (sentence(rng, 2, 3),)]),
    Family(
        "is_palindrome", "is a string a palindrome (bool)",
        ("is_palindrome", "reads_same_backwards", "check_palindrome", "palindrome"), TEXT_ARGS,
        "a string `$a0`",
        ("returns True if `$a0` reads the same forwards and backwards, comparing characters exactly, "
         "and False otherwise",
         "checks whether `$a0` is a palindrome, character for character, and returns True or False; "
         "the empty string counts as a palindrome"),
        "def $name($a0):\n    return $a0 == $a0[::-1]\n",
        _palindrome_inputs),
    Family(
        "count_vowels", "count the vowels, either case",
        ("count_vowels", "vowel_count", "num_vowels"), TEXT_ARGS, "a string `$a0`",
        ("returns how many vowels (a, e, i, o, u, in lower or upper case) `$a0` contains",
         "counts the characters of `$a0` that are vowels, meaning a, e, i, o or u in either case, "
         "and returns the count"),
        "def $name($a0):\n    return sum(1 for char in $a0.lower() if char in 'aeiou')\n",
        lambda rng, p: [(sentence(rng),), ("",), ("rhythm",), (sentence(rng).upper(),)]),
    Family(
        "count_char", "count the occurrences of a given letter",
        ("count_char", "count_$c", "occurrences", "char_count"), TEXT_ARGS, "a string `$a0`",
        ("returns how many times the character '$c' occurs in `$a0`",
         "counts the occurrences of the lowercase letter '$c' in `$a0` and returns that number"),
        "def $name($a0):\n    return $a0.count($c)\n",
        lambda rng, p: [(_with_letter(rng, p["c"]),), ("",), ("xyz",), (p["c"] * rng.randint(2, 6),)],
        _letter(LETTERS), "c in a, e, i, o, r, s, t, n, l"),
    Family(
        "capitalize_words", "uppercase the first letter of every word",
        ("capitalize_words", "title_words", "capitalise_each", "upper_first_letters"), SENTENCE_ARGS,
        "a string `$a0` of lowercase words separated by single spaces",
        ("returns `$a0` with the first letter of every word turned into uppercase",
         "returns a copy of `$a0` in which each word starts with a capital letter"),
        "def $name($a0):\n    return ' '.join(word[:1].upper() + word[1:] for word in $a0.split(' '))\n",
        lambda rng, p: [(sentence(rng, 2, 4),), ("",), (rng.choice(WORDS),), (sentence(rng, 5, 6),)]),
    Family(
        "invert_dict", "swap the keys and values of a dictionary",
        ("invert_dict", "swap_keys_values", "reverse_mapping", "flip_dict"), (("mapping", "d", "table", "pairs"),),
        "a dictionary `$a0` whose values are all different",
        ("returns a new dictionary that maps each value of `$a0` back to its key",
         "returns the inverse of `$a0`: every key-value pair becomes a value-key pair"),
        "def $name($a0):\n    return {value: key for key, value in $a0.items()}\n",
        lambda rng, p: [(dict(zip(rng.sample(WORDS, 3), rng.sample(range(1, 20), 3))),), ({},),
                        ({rng.randint(0, 9): rng.choice(WORDS)},), ({1: "one", 2: "two", 3: "three"},)]),
    Family(
        "count_words", "number of whitespace-separated words",
        ("count_words", "word_count", "num_words"), SENTENCE_ARGS, "a string `$a0`",
        ("returns the number of words in `$a0`, where words are separated by one or more spaces",
         "splits `$a0` on whitespace and returns how many words it contains"),
        "def $name($a0):\n    return len($a0.split())\n",
        lambda rng, p: [(sentence(rng),), ("",), (rng.choice(WORDS),), ("  " + "   ".join(words(rng, 3)) + " ",)]),
    Family(
        "remove_char", "delete every occurrence of a given letter",
        ("remove_char", "strip_$c", "delete_char", "without_$c"), TEXT_ARGS, "a string `$a0`",
        ("returns `$a0` with every occurrence of the character '$c' removed",
         "deletes all the '$c' characters from `$a0` and returns what is left"),
        "def $name($a0):\n    return $a0.replace($c, '')\n",
        lambda rng, p: [(_with_letter(rng, p["c"]),), ("",), (p["c"] * 3,), ("xyz",)],
        _letter(LETTERS), "c in a, e, i, o, r, s, t, n, l"),
    Family(
        "longest_word", "the longest word, first on ties",
        ("longest_word", "find_longest", "longest"), SENTENCE_ARGS,
        "a non-empty string `$a0` of words separated by single spaces",
        ("returns the longest word in `$a0`; if several words share the maximum length, it returns the first "
         "of them",
         "finds the word of greatest length in `$a0` (the earliest one when there is a tie) and returns it"),
        "def $name($a0):\n    return max($a0.split(' '), key=len)\n",
        lambda rng, p: [(sentence(rng, 3, 5),), (rng.choice(WORDS),), ("sun sky sea",), ("a bb ccc dd",)]),
    Family(
        "words_starting_with", "keep the words that start with a given letter",
        ("words_starting_with", "filter_by_initial", "starts_with_$c"), WORD_LIST_ARGS,
        "a list of lowercase words `$a0`",
        ("returns the elements of `$a0` that begin with the letter '$c', in their original order",
         "keeps only those words in `$a0` whose first letter is '$c' and returns them as a list"),
        "def $name($a0):\n    return [word for word in $a0 if word.startswith($c)]\n",
        _starting_with_inputs, _letter(INITIALS), "c in b, c, l, r, s, t"),
    Family(
        "replace_spaces", "replace every space by a given character",
        ("replace_spaces", "fill_spaces", "swap_spaces"), SENTENCE_ARGS, "a string `$a0`",
        ("returns `$a0` with every space replaced by the character '$sep'",
         "replaces each space character in `$a0` with '$sep' and returns the new string"),
        "def $name($a0):\n    return $a0.replace(' ', $sep)\n",
        lambda rng, p: [(sentence(rng),), ("",), (rng.choice(WORDS),), (" two  spaces ",)],
        lambda rng: {"sep": rng.choice(SEPARATORS)}, "sep in `-`, `_`, `*`, `+`, `.`"),
    Family(
        "count_uppercase", "count the uppercase letters",
        ("count_uppercase", "count_capitals", "uppercase_count"), TEXT_ARGS, "a string `$a0`",
        ("returns the number of uppercase letters in `$a0`",
         "counts how many characters of `$a0` are capital letters and returns that number"),
        "def $name($a0):\n    return sum(1 for char in $a0 if char.isupper())\n",
        lambda rng, p: [(" ".join(word.capitalize() for word in words(rng, 3)),), ("",), ("lower case",),
                        (rng.choice(WORDS).upper(),)]),
    Family(
        "string_lengths", "the length of every string in a list",
        ("lengths", "word_lengths", "string_lengths", "len_each"), WORD_LIST_ARGS, "a list of strings `$a0`",
        ("returns a list with the length of each string in `$a0`, in the same order",
         "maps every string in `$a0` to its number of characters and returns the resulting list"),
        "def $name($a0):\n    return [len(word) for word in $a0]\n",
        lambda rng, p: [(words(rng, rng.randint(2, 5)),), ([],), ([""],), (["a", "bb", rng.choice(WORDS)],)]),
    # Held-out families (see generated.HELDOUT_FAMILY_NAMES): never in train/validation/test.
    Family(
        "count_long_words", "count the words longer than k letters",
        ("count_long_words", "long_word_count", "words_longer_than"), SENTENCE_ARGS,
        "a string `$a0` of words separated by spaces",
        ("returns how many words in `$a0` have more than $k letters",
         "counts the words of `$a0` whose length is greater than $k and returns the count"),
        "def $name($a0):\n    return sum(1 for word in $a0.split() if len(word) > $k)\n",
        _long_words_inputs, k_between(3, 5), "k in 3..5"),
    Family(
        "join_with", "join strings with a separator",
        ("join_with", "join_words", "glue_strings"), WORD_LIST_ARGS, "a list of strings `$a0`",
        ("returns the strings of `$a0` joined into one string, with '$sep' between neighbouring strings",
         "concatenates the elements of `$a0` in order, putting '$sep' between each pair of neighbours, "
         "and returns the result"),
        "def $name($a0):\n    return $sep.join($a0)\n",
        lambda rng, p: [(words(rng, 3),), ([],), ([rng.choice(WORDS)],), (["", "x", ""],)],
        lambda rng: {"sep": rng.choice(SEPARATORS)}, "sep in `-`, `_`, `*`, `+`, `.`"),
    Family(
        "mirror_string", "a string followed by its reverse",
        ("mirror", "mirror_string", "append_reversed"), TEXT_ARGS, "a string `$a0`",
        ("returns `$a0` followed by `$a0` reversed",
         "returns the concatenation of `$a0` and its reverse, in that order"),
        "def $name($a0):\n    return $a0 + $a0[::-1]\n",
        lambda rng, p: [(rng.choice(WORDS),), ("",), ("x",), (sentence(rng, 2, 2),)]),
)
