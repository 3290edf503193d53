"""JavaScript reference bodies of the generated families (the lines of `function name(args){`).

Placeholders as in generated_language_cpp; JavaScript has no character type, so `$cc` and `$sepc`
are one-character strings like `$c` and `$sep`. Tuples are arrays and dictionaries plain objects,
as in MultiPL-E's JavaScript tests.
"""

_ARRAY = "  const result = [];\n"
_RETURN = "  return result;\n"

BODIES = {
    "add_constant": "  return $a0.map((item) => item + $k);\n",
    "multiply_constant": "  return $a0.map((item) => item * $k);\n",
    "filter_multiples": "  return $a0.filter((item) => item % $k === 0);\n",
    "filter_parity": "  return $a0.filter((item) => Math.abs(item % 2) === $rem);\n",
    "sum_of_squares": "  return $a0.reduce((total, item) => total + item * item, 0);\n",
    "largest": "  return Math.max(...$a0);\n",
    "smallest": "  return Math.min(...$a0);\n",
    "count_greater": "  return $a0.filter((item) => item > $k).length;\n",
    "running_sum": "  let total = 0;\n  return $a0.map((item) => (total += item));\n",
    "clamp": "  return Math.max($lo, Math.min($hi, $a0));\n",
    "digit_sum": "  return String($a0).split(\"\").reduce((total, digit) => total + Number(digit), 0);\n",
    "factorial": "  let result = 1;\n  for (let factor = 2; factor <= $a0; factor++) {\n    result *= factor;\n  }\n" + _RETURN,
    "first_multiples": _ARRAY + "  for (let factor = 1; factor <= $a0; factor++) {\n    result.push($k * factor);\n  }\n"
    + _RETURN,
    "count_negatives": "  return $a0.filter((item) => item < 0).length;\n",
    "product": "  let result = 1;\n  for (const item of $a0) {\n    result *= item;\n  }\n  return result + 0;\n",
    "absolute_values": "  return $a0.map((item) => Math.abs(item));\n",
    "divisible_by": "  return $a0 % $k === 0;\n",
    "last_k": "  return $a0.slice(Math.max(0, $a0.length - $k));\n",
    "remove_duplicates": "  return [...new Set($a0)];\n",
    "sum_even": "  return $a0.filter((item) => item % 2 === 0).reduce((total, item) => total + item, 0);\n",
    "value_range": "  return Math.max(...$a0) - Math.min(...$a0);\n",
    "is_sorted": "  return $a0.every((item, index) => index === 0 || $a0[index - 1] <= item);\n",
    "digits_of": "  return String($a0).split(\"\").map(Number);\n",
    "pairwise_sums": "  return $a0.slice(1).map((item, index) => $a0[index] + item);\n",
    "minutes_to_hours": "  return [Math.floor($a0 / 60), $a0 % 60];\n",
    "repeat_string": "  return $a0.repeat($k);\n",
    "reverse_string": "  return $a0.split(\"\").reverse().join(\"\");\n",
    "is_palindrome": "  return $a0 === $a0.split(\"\").reverse().join(\"\");\n",
    "count_vowels": "  return $a0.toLowerCase().split(\"\").filter((ch) => \"aeiou\".includes(ch)).length;\n",
    "count_char": "  return $a0.split($c).length - 1;\n",
    "capitalize_words": "  return $a0.split(\" \").map((piece) => piece.charAt(0).toUpperCase() + piece.slice(1)).join(\" \");\n",
    "count_words": "  return $a0.split(/\\s+/).filter((piece) => piece.length > 0).length;\n",
    "remove_char": "  return $a0.split($c).join(\"\");\n",
    "longest_word": "  return $a0.split(\" \").reduce((best, piece) => (piece.length > best.length ? piece : best));\n",
    "words_starting_with": "  return $a0.filter((word) => word.startsWith($c));\n",
    "replace_spaces": "  return $a0.split(\" \").join($sep);\n",
    "count_uppercase": "  return $a0.split(\"\").filter((ch) => ch >= \"A\" && ch <= \"Z\").length;\n",
    "string_lengths": "  return $a0.map((word) => word.length);\n",
    "count_long_words": "  return $a0.split(/\\s+/).filter((piece) => piece.length > $k).length;\n",
    "join_with": "  return $a0.join($sep);\n",
    "mirror_string": "  return $a0 + $a0.split(\"\").reverse().join(\"\");\n",
    "rotate_left": "  if ($a0.length === 0) {\n    return [];\n  }\n  const shift = $k % $a0.length;\n"
                   "  return $a0.slice(shift).concat($a0.slice(0, shift));\n",
    "chunk_list": _ARRAY + "  for (let start = 0; start < $a0.length; start += $k) {\n"
                           "    result.push($a0.slice(start, start + $k));\n  }\n" + _RETURN,
    "count_occurrences": "  const counts = {};\n  for (const item of $a0) {\n    counts[item] = (counts[item] || 0) + 1;\n"
                         "  }\n  return counts;\n",
    "gcd": "  while ($a1 !== 0) {\n    [$a0, $a1] = [$a1, $a0 % $a1];\n  }\n  return $a0;\n",
    "is_prime": "  if ($a0 < 2) {\n    return false;\n  }\n  for (let divisor = 2; divisor * divisor <= $a0; divisor++) {\n"
                "    if ($a0 % divisor === 0) {\n      return false;\n    }\n  }\n  return true;\n",
    "alternate_case": "  return $a0.split(\"\").map((ch, index) => (index % 2 === 0 ? ch.toUpperCase() : ch.toLowerCase()))"
                      ".join(\"\");\n",
    "run_length_encode": "  const runs = [];\n  for (const ch of $a0) {\n"
                         "    if (runs.length > 0 && runs[runs.length - 1][0] === ch) {\n"
                         "      runs[runs.length - 1][1] += 1;\n    } else {\n      runs.push([ch, 1]);\n    }\n  }\n"
                         "  return runs;\n",
    "unzip_pairs": "  return [$a0.map((pair) => pair[0]), $a0.map((pair) => pair[1])];\n",
    "index_of_max": "  return $a0.indexOf(Math.max(...$a0));\n",
    "interleave": _ARRAY + "  for (let i = 0; i < Math.max($a0.length, $a1.length); i++) {\n"
                           "    if (i < $a0.length) {\n      result.push($a0[i]);\n    }\n"
                           "    if (i < $a1.length) {\n      result.push($a1[i]);\n    }\n  }\n" + _RETURN,
}
