"""Java reference bodies of the generated families (the lines of `public static ... {` in `class Problem`).

Placeholders as in generated_language_cpp (`$a0`, `$a1`, `$k`, `$rem`, `$lo`, `$hi`, string
literals `$c`, `$sep`, character literals `$cc`, `$sepc`). Integers are `long` / `Long` and lists
`ArrayList`, tuples javatuples' `Pair`, dictionaries `HashMap`, as in MultiPL-E's Java prompts.
"""

_NEW_LONGS = "        ArrayList<Long> result = new ArrayList<Long>();\n"
_RETURN = "        return result;\n"
_COUNT = "        long count = 0;\n"


def _each(line: str, variable: str = "long item", over: str = "$a0") -> str:
    return f"        for ({variable} : {over}) {{\n            {line}\n        }}\n"


def _count_if(condition: str, variable: str = "long item", over: str = "$a0") -> str:
    return _COUNT + _each(f"if ({condition}) {{\n                count++;\n            }}", variable, over) + \
        "        return count;\n"


BODIES = {
    "add_constant": _NEW_LONGS + _each("result.add(item + $k);") + _RETURN,
    "multiply_constant": _NEW_LONGS + _each("result.add(item * $k);") + _RETURN,
    "filter_multiples": _NEW_LONGS + _each("if (item % $k == 0) {\n                result.add(item);\n            }")
    + _RETURN,
    "filter_parity": _NEW_LONGS + _each("if (Math.floorMod(item, 2) == $rem) {\n                result.add(item);\n"
                                        "            }") + _RETURN,
    "sum_of_squares": "        long total = 0;\n" + _each("total += item * item;") + "        return total;\n",
    "largest": "        return Collections.max($a0);\n",
    "smallest": "        return Collections.min($a0);\n",
    "count_greater": _count_if("item > $k"),
    "running_sum": _NEW_LONGS + "        long total = 0;\n" + _each("total += item;\n            result.add(total);")
    + _RETURN,
    "clamp": "        return Math.max($lo, Math.min($hi, $a0));\n",
    "digit_sum": "        long total = 0;\n" + _each("total += digit - '0';", "char digit", "String.valueOf($a0).toCharArray()")
    + "        return total;\n",
    "factorial": "        long result = 1;\n        for (long factor = 2; factor <= $a0; factor++) {\n"
                 "            result *= factor;\n        }\n" + _RETURN,
    "first_multiples": _NEW_LONGS + "        for (long factor = 1; factor <= $a0; factor++) {\n"
                                    "            result.add($k * factor);\n        }\n" + _RETURN,
    "count_negatives": _count_if("item < 0"),
    "product": "        long result = 1;\n" + _each("result *= item;") + _RETURN,
    "absolute_values": _NEW_LONGS + _each("result.add(Math.abs(item));") + _RETURN,
    "divisible_by": "        return $a0 % $k == 0;\n",
    "last_k": "        return new ArrayList<Long>($a0.subList(Math.max(0, $a0.size() - $k), $a0.size()));\n",
    "remove_duplicates": "        return new ArrayList<Long>(new LinkedHashSet<Long>($a0));\n",
    "sum_even": "        long total = 0;\n" + _each("if (item % 2 == 0) {\n                total += item;\n            }")
    + "        return total;\n",
    "value_range": "        return Collections.max($a0) - Collections.min($a0);\n",
    "is_sorted": "        for (int i = 1; i < $a0.size(); i++) {\n            if ($a0.get(i - 1) > $a0.get(i)) {\n"
                 "                return false;\n            }\n        }\n        return true;\n",
    "digits_of": _NEW_LONGS + _each("result.add((long) (digit - '0'));", "char digit",
                                    "String.valueOf($a0).toCharArray()") + _RETURN,
    "pairwise_sums": _NEW_LONGS + "        for (int i = 1; i < $a0.size(); i++) {\n"
                                  "            result.add($a0.get(i - 1) + $a0.get(i));\n        }\n" + _RETURN,
    "minutes_to_hours": "        return Pair.with($a0 / 60, $a0 % 60);\n",
    "repeat_string": "        return $a0.repeat($k);\n",
    "reverse_string": "        return new StringBuilder($a0).reverse().toString();\n",
    "is_palindrome": "        return $a0.equals(new StringBuilder($a0).reverse().toString());\n",
    "count_vowels": _count_if("\"aeiou\".indexOf(ch) >= 0", "char ch", "$a0.toLowerCase().toCharArray()"),
    "count_char": "        return $a0.chars().filter(ch -> ch == $cc).count();\n",
    "capitalize_words": "        char[] chars = $a0.toCharArray();\n        for (int i = 0; i < chars.length; i++) {\n"
                        "            if (i == 0 || chars[i - 1] == ' ') {\n"
                        "                chars[i] = Character.toUpperCase(chars[i]);\n            }\n        }\n"
                        "        return new String(chars);\n",
    "count_words": "        String trimmed = $a0.trim();\n        return trimmed.isEmpty() ? 0 : trimmed.split(\"\\\\s+\").length;\n",
    "remove_char": "        return $a0.replace($c, \"\");\n",
    "longest_word": "        String best = null;\n" + _each("if (best == null || piece.length() > best.length()) {\n"
                                                    "                best = piece;\n            }", "String piece",
                                                    "$a0.split(\" \", -1)") + "        return best;\n",
    "words_starting_with": "        ArrayList<String> result = new ArrayList<String>();\n"
                           + _each("if (word.startsWith($c)) {\n                result.add(word);\n            }",
                                   "String word") + _RETURN,
    "replace_spaces": "        return $a0.replace(' ', $sepc);\n",
    "count_uppercase": _count_if("Character.isUpperCase(ch)", "char ch", "$a0.toCharArray()"),
    "string_lengths": _NEW_LONGS + _each("result.add((long) word.length());", "String word") + _RETURN,
    "count_long_words": _count_if("piece.length() > $k", "String piece", "$a0.split(\" \")"),
    "join_with": "        return String.join($sep, $a0);\n",
    "mirror_string": "        return $a0 + new StringBuilder($a0).reverse().toString();\n",
    "rotate_left": "        ArrayList<Long> result = new ArrayList<Long>($a0);\n        if (!result.isEmpty()) {\n"
                   "            Collections.rotate(result, -($k % result.size()));\n        }\n" + _RETURN,
    "chunk_list": "        ArrayList<ArrayList<Long>> result = new ArrayList<ArrayList<Long>>();\n"
                  "        for (int start = 0; start < $a0.size(); start += $k) {\n"
                  "            result.add(new ArrayList<Long>($a0.subList(start, Math.min($a0.size(), start + $k))));\n"
                  "        }\n" + _RETURN,
    "count_occurrences": "        HashMap<String,Long> counts = new HashMap<String,Long>();\n"
                         + _each("counts.put(item, counts.getOrDefault(item, 0L) + 1);", "String item")
                         + "        return counts;\n",
    "gcd": "        while ($a1 != 0) {\n            long rest = $a0 % $a1;\n            $a0 = $a1;\n            $a1 = rest;\n"
           "        }\n        return $a0;\n",
    "is_prime": "        if ($a0 < 2) {\n            return false;\n        }\n"
                "        for (long divisor = 2; divisor * divisor <= $a0; divisor++) {\n"
                "            if ($a0 % divisor == 0) {\n                return false;\n            }\n        }\n"
                "        return true;\n",
    "alternate_case": "        StringBuilder result = new StringBuilder();\n        for (int i = 0; i < $a0.length(); i++) {\n"
                      "            char ch = $a0.charAt(i);\n"
                      "            result.append(i % 2 == 0 ? Character.toUpperCase(ch) : Character.toLowerCase(ch));\n"
                      "        }\n        return result.toString();\n",
    "run_length_encode": "        ArrayList<Pair<String, Long>> runs = new ArrayList<Pair<String, Long>>();\n"
                         "        int start = 0;\n        while (start < $a0.length()) {\n            int end = start;\n"
                         "            while (end < $a0.length() && $a0.charAt(end) == $a0.charAt(start)) {\n"
                         "                end++;\n            }\n"
                         "            runs.add(Pair.with(String.valueOf($a0.charAt(start)), (long) (end - start)));\n"
                         "            start = end;\n        }\n        return runs;\n",
    "unzip_pairs": "        ArrayList<String> firsts = new ArrayList<String>();\n"
                   "        ArrayList<Long> seconds = new ArrayList<Long>();\n"
                   + _each("firsts.add(pair.getValue0());\n            seconds.add(pair.getValue1());",
                           "Pair<String, Long> pair") + "        return Pair.with(firsts, seconds);\n",
    "index_of_max": "        return $a0.indexOf(Collections.max($a0));\n",
    "interleave": _NEW_LONGS + "        for (int i = 0; i < Math.max($a0.size(), $a1.size()); i++) {\n"
                               "            if (i < $a0.size()) {\n                result.add($a0.get(i));\n            }\n"
                               "            if (i < $a1.size()) {\n                result.add($a1.get(i));\n            }\n"
                               "        }\n" + _RETURN,
}
