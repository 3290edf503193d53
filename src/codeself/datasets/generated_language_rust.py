"""Rust reference bodies of the generated families (the lines of `fn name(args) -> T {`).

Placeholders as in generated_language_cpp. Integers are `isize`, strings `String` (parameters
too, as in MultiPL-E's Rust prompts), lists `Vec`, dictionaries `HashMap` (the prompt then opens
with `use std::collections::HashMap;`). Compiled as MultiPL-E does: plain debug `rustc`, so
overflow checks are on.
"""

BODIES = {
    "add_constant": "    $a0.iter().map(|item| item + $k).collect()\n",
    "multiply_constant": "    $a0.iter().map(|item| item * $k).collect()\n",
    "filter_multiples": "    $a0.into_iter().filter(|item| item % $k == 0).collect()\n",
    "filter_parity": "    $a0.into_iter().filter(|item| item.rem_euclid(2) == $rem).collect()\n",
    "sum_of_squares": "    $a0.iter().map(|item| item * item).sum()\n",
    "largest": "    *$a0.iter().max().unwrap()\n",
    "smallest": "    *$a0.iter().min().unwrap()\n",
    "count_greater": "    $a0.iter().filter(|&&item| item > $k).count() as isize\n",
    "running_sum": "    let mut total = 0;\n    $a0.iter()\n        .map(|item| {\n            total += item;\n            total\n"
                   "        })\n        .collect()\n",
    "clamp": "    $a0.clamp($lo, $hi)\n",
    "digit_sum": "    $a0.to_string().chars().map(|digit| digit.to_digit(10).unwrap() as isize).sum()\n",
    "factorial": "    (2..=$a0).product()\n",
    "first_multiples": "    (1..=$a0).map(|factor| $k * factor).collect()\n",
    "count_negatives": "    $a0.iter().filter(|&&item| item < 0).count() as isize\n",
    "product": "    $a0.iter().product()\n",
    "absolute_values": "    $a0.iter().map(|item| item.abs()).collect()\n",
    "divisible_by": "    $a0 % $k == 0\n",
    "last_k": "    $a0[$a0.len().saturating_sub($k)..].to_vec()\n",
    "remove_duplicates": "    let mut seen = std::collections::HashSet::new();\n"
                         "    $a0.into_iter().filter(|item| seen.insert(*item)).collect()\n",
    "sum_even": "    $a0.iter().filter(|&&item| item % 2 == 0).sum()\n",
    "value_range": "    $a0.iter().max().unwrap() - $a0.iter().min().unwrap()\n",
    "is_sorted": "    $a0.windows(2).all(|pair| pair[0] <= pair[1])\n",
    "digits_of": "    $a0.to_string().chars().map(|digit| digit.to_digit(10).unwrap() as isize).collect()\n",
    "pairwise_sums": "    $a0.windows(2).map(|pair| pair[0] + pair[1]).collect()\n",
    "minutes_to_hours": "    ($a0 / 60, $a0 % 60)\n",
    "repeat_string": "    $a0.repeat($k)\n",
    "reverse_string": "    $a0.chars().rev().collect()\n",
    "is_palindrome": "    $a0.chars().eq($a0.chars().rev())\n",
    "count_vowels": "    $a0.to_lowercase().chars().filter(|ch| \"aeiou\".contains(*ch)).count() as isize\n",
    "count_char": "    $a0.matches($cc).count() as isize\n",
    "capitalize_words": "    $a0.split(' ')\n        .map(|piece| {\n            let mut chars = piece.chars();\n"
                        "            match chars.next() {\n"
                        "                Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),\n"
                        "                None => String::new(),\n            }\n        })\n"
                        "        .collect::<Vec<String>>()\n        .join(\" \")\n",
    "count_words": "    $a0.split_whitespace().count() as isize\n",
    "remove_char": "    $a0.replace($cc, \"\")\n",
    "longest_word": "    let mut best: Option<&str> = None;\n    for piece in $a0.split(' ') {\n"
                    "        if best.map_or(true, |known| piece.len() > known.len()) {\n            best = Some(piece);\n"
                    "        }\n    }\n    best.unwrap_or(\"\").to_string()\n",
    "words_starting_with": "    $a0.into_iter().filter(|word| word.starts_with($cc)).collect()\n",
    "replace_spaces": "    $a0.replace(' ', $sep)\n",
    "count_uppercase": "    $a0.chars().filter(|ch| ch.is_ascii_uppercase()).count() as isize\n",
    "string_lengths": "    $a0.iter().map(|word| word.len() as isize).collect()\n",
    "count_long_words": "    $a0.split_whitespace().filter(|piece| piece.len() > $k).count() as isize\n",
    "join_with": "    $a0.join($sep)\n",
    "mirror_string": "    let reversed: String = $a0.chars().rev().collect();\n    format!(\"{}{}\", $a0, reversed)\n",
    "rotate_left": "    let mut result = $a0;\n    if !result.is_empty() {\n        let shift = $k % result.len();\n"
                   "        result.rotate_left(shift);\n    }\n    result\n",
    "chunk_list": "    $a0.chunks($k).map(|chunk| chunk.to_vec()).collect()\n",
    "count_occurrences": "    let mut counts = HashMap::new();\n    for item in $a0 {\n"
                         "        *counts.entry(item).or_insert(0) += 1;\n    }\n    counts\n",
    "gcd": "    let (mut left, mut right) = ($a0, $a1);\n    while right != 0 {\n        let rest = left % right;\n"
           "        left = right;\n        right = rest;\n    }\n    left\n",
    "is_prime": "    if $a0 < 2 {\n        return false;\n    }\n    let mut divisor = 2;\n    while divisor * divisor <= $a0 {\n"
                "        if $a0 % divisor == 0 {\n            return false;\n        }\n        divisor += 1;\n    }\n"
                "    true\n",
    "alternate_case": "    $a0.chars()\n        .enumerate()\n"
                      "        .map(|(index, ch)| if index % 2 == 0 { ch.to_ascii_uppercase() } else { ch.to_ascii_lowercase() })\n"
                      "        .collect()\n",
    "run_length_encode": "    let mut runs: Vec<(String, isize)> = Vec::new();\n    for ch in $a0.chars() {\n"
                         "        match runs.last_mut() {\n"
                         "            Some((run, count)) if run.starts_with(ch) => *count += 1,\n"
                         "            _ => runs.push((ch.to_string(), 1)),\n        }\n    }\n    runs\n",
    "unzip_pairs": "    $a0.into_iter().unzip()\n",
    "index_of_max": "    let mut best = 0;\n    for (index, item) in $a0.iter().enumerate() {\n        if *item > $a0[best] {\n"
                    "            best = index;\n        }\n    }\n    best as isize\n",
    "interleave": "    let mut merged = Vec::new();\n    for i in 0..$a0.len().max($a1.len()) {\n"
                  "        if let Some(item) = $a0.get(i) {\n            merged.push(*item);\n        }\n"
                  "        if let Some(item) = $a1.get(i) {\n            merged.push(*item);\n        }\n    }\n    merged\n",
}
