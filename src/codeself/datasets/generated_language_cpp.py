"""C++ reference bodies of the generated families (the lines between the prompt's `{` and `}`).

`string.Template` placeholders, as in the Python families: `$a0`, `$a1` (argument names) and the
drawn constants written as C++ literals: `$k`, `$rem`, `$lo`, `$hi` (integers), `$c`, `$sep`
(string literals) and `$cc`, `$sepc` (character literals). Parameters are taken by value, as in
MultiPL-E's prompts, so a body may change them. Checked through g++ by
tests/test_generated_languages.py (a few) and `bench_generated_languages.py` (all).
"""

BODIES = {
    "add_constant": "    std::vector<long> result;\n    for (long item : $a0) {\n        result.push_back(item + $k);\n"
                    "    }\n    return result;\n",
    "multiply_constant": "    std::vector<long> result;\n    for (long item : $a0) {\n        result.push_back(item * $k);\n"
                         "    }\n    return result;\n",
    "filter_multiples": "    std::vector<long> result;\n    for (long item : $a0) {\n        if (item % $k == 0) {\n"
                        "            result.push_back(item);\n        }\n    }\n    return result;\n",
    "filter_parity": "    std::vector<long> result;\n    for (long item : $a0) {\n        if (std::abs(item % 2) == $rem) {\n"
                     "            result.push_back(item);\n        }\n    }\n    return result;\n",
    "sum_of_squares": "    long total = 0;\n    for (long item : $a0) {\n        total += item * item;\n    }\n    return total;\n",
    "largest": "    return *std::max_element($a0.begin(), $a0.end());\n",
    "smallest": "    return *std::min_element($a0.begin(), $a0.end());\n",
    "count_greater": "    return std::count_if($a0.begin(), $a0.end(), [](long item) { return item > $k; });\n",
    "running_sum": "    std::vector<long> totals;\n    long total = 0;\n    for (long item : $a0) {\n        total += item;\n"
                   "        totals.push_back(total);\n    }\n    return totals;\n",
    "clamp": "    return std::max((long)$lo, std::min((long)$hi, $a0));\n",
    "digit_sum": "    long total = 0;\n    for (char digit : std::to_string($a0)) {\n        total += digit - '0';\n    }\n"
                 "    return total;\n",
    "factorial": "    long result = 1;\n    for (long factor = 2; factor <= $a0; factor++) {\n        result *= factor;\n    }\n"
                 "    return result;\n",
    "first_multiples": "    std::vector<long> result;\n    for (long factor = 1; factor <= $a0; factor++) {\n"
                       "        result.push_back($k * factor);\n    }\n    return result;\n",
    "count_negatives": "    return std::count_if($a0.begin(), $a0.end(), [](long item) { return item < 0; });\n",
    "product": "    long result = 1;\n    for (long item : $a0) {\n        result *= item;\n    }\n    return result;\n",
    "absolute_values": "    std::vector<long> result;\n    for (long item : $a0) {\n        result.push_back(std::abs(item));\n"
                       "    }\n    return result;\n",
    "divisible_by": "    return $a0 % $k == 0;\n",
    "last_k": "    if ((long)$a0.size() <= $k) {\n        return $a0;\n    }\n"
              "    return std::vector<long>($a0.end() - $k, $a0.end());\n",
    "remove_duplicates": "    std::set<long> seen;\n    std::vector<long> result;\n    for (long item : $a0) {\n"
                         "        if (seen.insert(item).second) {\n            result.push_back(item);\n        }\n    }\n"
                         "    return result;\n",
    "sum_even": "    long total = 0;\n    for (long item : $a0) {\n        if (item % 2 == 0) {\n            total += item;\n"
                "        }\n    }\n    return total;\n",
    "value_range": "    auto [low, high] = std::minmax_element($a0.begin(), $a0.end());\n    return *high - *low;\n",
    "is_sorted": "    return std::is_sorted($a0.begin(), $a0.end());\n",
    "digits_of": "    std::vector<long> result;\n    for (char digit : std::to_string($a0)) {\n"
                 "        result.push_back(digit - '0');\n    }\n    return result;\n",
    "pairwise_sums": "    std::vector<long> result;\n    for (size_t i = 1; i < $a0.size(); i++) {\n"
                     "        result.push_back($a0[i - 1] + $a0[i]);\n    }\n    return result;\n",
    "minutes_to_hours": "    return std::make_tuple($a0 / 60, $a0 % 60);\n",
    "repeat_string": "    std::string result;\n    for (int i = 0; i < $k; i++) {\n        result += $a0;\n    }\n    return result;\n",
    "reverse_string": "    return std::string($a0.rbegin(), $a0.rend());\n",
    "is_palindrome": "    return $a0 == std::string($a0.rbegin(), $a0.rend());\n",
    "count_vowels": "    long count = 0;\n    for (char ch : $a0) {\n        if (std::string(\"aeiouAEIOU\").find(ch) != std::string::npos) {\n"
                    "            count++;\n        }\n    }\n    return count;\n",
    "count_char": "    return std::count($a0.begin(), $a0.end(), $cc);\n",
    "capitalize_words": "    for (size_t i = 0; i < $a0.size(); i++) {\n        if (i == 0 || $a0[i - 1] == ' ') {\n"
                        "            $a0[i] = std::toupper($a0[i]);\n        }\n    }\n    return $a0;\n",
    "count_words": "    std::istringstream stream($a0);\n    std::string piece;\n    long count = 0;\n"
                   "    while (stream >> piece) {\n        count++;\n    }\n    return count;\n",
    "remove_char": "    $a0.erase(std::remove($a0.begin(), $a0.end(), $cc), $a0.end());\n    return $a0;\n",
    "longest_word": "    std::istringstream stream($a0);\n    std::string piece, best;\n    bool first = true;\n"
                    "    while (std::getline(stream, piece, ' ')) {\n        if (first || piece.size() > best.size()) {\n"
                    "            best = piece;\n        }\n        first = false;\n    }\n    return best;\n",
    "words_starting_with": "    std::vector<std::string> result;\n    for (const std::string& word : $a0) {\n"
                           "        if (!word.empty() && word[0] == $cc) {\n            result.push_back(word);\n        }\n"
                           "    }\n    return result;\n",
    "replace_spaces": "    std::replace($a0.begin(), $a0.end(), ' ', $sepc);\n    return $a0;\n",
    "count_uppercase": "    long count = 0;\n    for (char ch : $a0) {\n        if (std::isupper((unsigned char)ch)) {\n"
                       "            count++;\n        }\n    }\n    return count;\n",
    "string_lengths": "    std::vector<long> result;\n    for (const std::string& word : $a0) {\n"
                      "        result.push_back(word.size());\n    }\n    return result;\n",
    "count_long_words": "    std::istringstream stream($a0);\n    std::string piece;\n    long count = 0;\n"
                        "    while (stream >> piece) {\n        if ((long)piece.size() > $k) {\n            count++;\n"
                        "        }\n    }\n    return count;\n",
    "join_with": "    std::string result;\n    for (size_t i = 0; i < $a0.size(); i++) {\n        if (i > 0) {\n"
                 "            result += $sep;\n        }\n        result += $a0[i];\n    }\n    return result;\n",
    "mirror_string": "    return $a0 + std::string($a0.rbegin(), $a0.rend());\n",
    "rotate_left": "    if ($a0.empty()) {\n        return $a0;\n    }\n"
                   "    std::rotate($a0.begin(), $a0.begin() + $k % $a0.size(), $a0.end());\n    return $a0;\n",
    "chunk_list": "    std::vector<std::vector<long>> result;\n    for (size_t start = 0; start < $a0.size(); start += $k) {\n"
                  "        size_t end = std::min($a0.size(), start + $k);\n"
                  "        result.push_back(std::vector<long>($a0.begin() + start, $a0.begin() + end));\n    }\n"
                  "    return result;\n",
    "count_occurrences": "    std::map<std::string,long> counts;\n    for (const std::string& item : $a0) {\n"
                         "        counts[item] += 1;\n    }\n    return counts;\n",
    "gcd": "    while ($a1 != 0) {\n        long rest = $a0 % $a1;\n        $a0 = $a1;\n        $a1 = rest;\n    }\n"
           "    return $a0;\n",
    "is_prime": "    if ($a0 < 2) {\n        return false;\n    }\n    for (long divisor = 2; divisor * divisor <= $a0; divisor++) {\n"
                "        if ($a0 % divisor == 0) {\n            return false;\n        }\n    }\n    return true;\n",
    "alternate_case": "    for (size_t i = 0; i < $a0.size(); i++) {\n"
                      "        $a0[i] = i % 2 == 0 ? std::toupper($a0[i]) : std::tolower($a0[i]);\n    }\n    return $a0;\n",
    "run_length_encode": "    std::vector<std::tuple<std::string, long>> runs;\n    for (char ch : $a0) {\n"
                         "        if (!runs.empty() && std::get<0>(runs.back())[0] == ch) {\n"
                         "            std::get<1>(runs.back()) += 1;\n        } else {\n"
                         "            runs.push_back(std::make_tuple(std::string(1, ch), 1L));\n        }\n    }\n"
                         "    return runs;\n",
    "unzip_pairs": "    std::vector<std::string> firsts;\n    std::vector<long> seconds;\n    for (const auto& pair : $a0) {\n"
                   "        firsts.push_back(std::get<0>(pair));\n        seconds.push_back(std::get<1>(pair));\n    }\n"
                   "    return std::make_tuple(firsts, seconds);\n",
    "index_of_max": "    return std::max_element($a0.begin(), $a0.end()) - $a0.begin();\n",
    "interleave": "    std::vector<long> merged;\n    for (size_t i = 0; i < std::max($a0.size(), $a1.size()); i++) {\n"
                  "        if (i < $a0.size()) {\n            merged.push_back($a0[i]);\n        }\n"
                  "        if (i < $a1.size()) {\n            merged.push_back($a1[i]);\n        }\n    }\n    return merged;\n",
}
