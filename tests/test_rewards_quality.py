"""AST quality signals and efficiency ratios, on literal programs worked out by hand."""

import support

import ast
import gzip
import json
import unittest
import warnings

from codeself.rewards import quality

MESSY = '''import os
import math

def f(x, y):
    unused = 1
    total = 0
    # a comment line does not count
    for i in range(x):
        if i % 2 == 0 and i > 2:
            total += i
    try:
        pass
    except:
        pass
    return total if total else y
'''


class QualitySignalsTest(unittest.TestCase):
    def test_messy_program(self):
        signals = quality.quality_signals(MESSY)
        # 13 code lines: 2 imports, def, 2 assignments, for, if, +=, try, pass, except, pass, return
        self.assertEqual(signals["lines"], 13)
        # f: 1 + for + if + extra `and` operand + except clause + conditional expression = 6
        self.assertEqual(signals["cyclomatic_complexity"], 6)
        # os and math are never used; `unused` is stored and never read; parameter y is exempt
        self.assertEqual(signals["unused_names"], ["f.unused", "math", "os"])
        self.assertEqual(signals["unused_name_count"], 3)
        self.assertEqual(signals["bare_except_count"], 1)

    def test_token_count(self):
        # def f ( a ) : return a + 1  -> 10 tokens; NEWLINE/INDENT/DEDENT/comments excluded
        self.assertEqual(quality.token_count("def f(a):\n    return a + 1  # note\n"), 10)

    def test_token_count_is_tokenizes(self):
        """The regular-expression count equals tokenize's on programs built to trip it up (and
        on the real datasets' programs: the next test)."""
        tricky = ['s = """a # not a comment\n\'\'\' "b" """ + r\'\\\'\' + rb"x" + f"{x!r:>{w}}"\n',
                  "x = 1if y else.5e-3j  # c\ny = 0x_1F + 1_000.0_1 + 0o7 + ...\n",
                  "def f(a, *, b=2) -> int:\n    return (a\n        + \\\n  b) ** 2 // 3 @ m if a != b else ~a\n",
                  "@d\nclass C:\n    '''doc\n    # inside'''\n    z: int = 3\n    def g(self): return (w := 1) >> 2\n",
                  "x = 1\r\ny = 2\r", "café = 'é'\n\n\n", "a = '''\n\\\n'''\nb = 'x\\\ny'\n", "x = [\n  1,  # c\n]\n"]
        with warnings.catch_warnings():  # `1if` is an invalid decimal literal to 3.11's parser, warned
            warnings.simplefilter("ignore", SyntaxWarning)
            for program in tricky:
                ast.parse(program)
                self.assertEqual(quality.token_count(program), quality.tokenize_count(program), program)
        self.assertEqual(quality.token_count("def f(:\n"), quality.tokenize_count("def f(:\n"))

    def test_token_count_is_tokenizes_on_real_programs(self):
        with support.data_file(self, "mbpp.jsonl").open(encoding="utf-8") as lines:
            programs = [json.loads(line)["code"] for line in lines]
        with gzip.open(support.data_file(self, "HumanEval.jsonl.gz"), "rt", encoding="utf-8") as lines:
            programs += [record["prompt"] + record["canonical_solution"] for record in map(json.loads, lines)]
        self.assertEqual(len(programs), 974 + 164)
        with warnings.catch_warnings():  # MBPP's "\d" in plain strings: parsing it warns
            warnings.simplefilter("ignore", DeprecationWarning)
            for program in programs:
                self.assertEqual(quality.token_count(program), quality.tokenize_count(program), program[:200])

    def test_complexity_scopes_are_separate(self):
        code = ("def outer(xs):\n    def inner(v):\n        return v if v else 0\n"
                "    return [inner(x) for x in xs if x]\n")
        # outer: 1 + comprehension for + its `if` = 3 (inner's IfExp is inner's own: 1 + 1 = 2)
        self.assertEqual(quality.max_cyclomatic_complexity(ast.parse(code)), 3)

    def test_unused_respects_global_and_underscore_and_attribute_use(self):
        code = ("import os.path\nimport re as _re\ncount = 0\n\ndef g():\n    global count\n"
                "    count = 1\n    _ignored = 2\n    return os.path.join('a')\n")
        self.assertEqual(quality.unused_names(ast.parse(code)), [])

    def test_no_code_or_unparsable(self):
        self.assertIsNone(quality.quality_signals(None))
        self.assertIsNone(quality.quality_signals("def f(:\n"))

    def test_quality_score(self):
        signals = {"bare_except_count": 1, "unused_name_count": 3, "cyclomatic_complexity": 20, "tokens": 40}
        # bare 0, unused 1/(1+3) = 0.25, complexity 10/20 = 0.5, length 20/40 = 0.5 -> mean 0.3125
        self.assertEqual(quality.quality_score(signals, {"tokens": 20}, complexity_threshold=10), 0.3125)
        # without a reference the length sub-score is 1: (0 + 0.25 + 0.5 + 1) / 4
        self.assertEqual(quality.quality_score(signals, None, complexity_threshold=10), 0.4375)
        self.assertIsNone(quality.quality_score(None, None, complexity_threshold=10))


class EfficiencyTest(unittest.TestCase):
    def test_ratios_and_score(self):
        ratios = quality.efficiency(0.3, 0.4, {"reference_duration_s": 0.1, "reference_cpu_time_s": 0.1})
        self.assertAlmostEqual(ratios["wall_ratio"], 3.0)
        self.assertAlmostEqual(ratios["cpu_ratio"], 4.0)
        # CPU ratio preferred: -log2(4) = -2, clipped to -1
        self.assertEqual(quality.efficiency_score(ratios), -1.0)
        wall_only = quality.efficiency(0.1, 0.0, {"reference_duration_s": 0.2})
        self.assertEqual(wall_only, {"wall_ratio": 0.5, "cpu_ratio": None,
                                     "reference_duration_s": 0.2, "reference_cpu_time_s": None})
        self.assertEqual(quality.efficiency_score(wall_only), 1.0)  # -log2(0.5)

    def test_absent_or_invalid_reference_timing_is_null(self):
        self.assertIsNone(quality.efficiency(0.3, 0.3, {}))
        self.assertIsNone(quality.efficiency(0.3, 0.3, {"reference_duration_s": 0, "reference_cpu_time_s": "x"}))
        self.assertIsNone(quality.efficiency_score(None))


if __name__ == "__main__":
    unittest.main()
