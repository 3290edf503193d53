import support  # noqa: F401

import json
import re
import unittest

from codeself.execution.languages import SplitAssert, assert_statements, split_assert


class SplitShapesTest(unittest.TestCase):
    def test_cpp(self):
        got = split_assert(
            "cpp", 'assert(candidate((std::vector<long>({(long)1, (long)2})), (3)) == (std::vector<long>({(long)3})));',
            "f")
        self.assertEqual(got, SplitAssert("candidate", "(std::vector<long>({(long)1, (long)2})), (3)",
                                          "(std::vector<long>({(long)3}))", "cpp_eq"))
        self.assertEqual(got.call, "candidate((std::vector<long>({(long)1, (long)2})), (3))")

    def test_cpp_literals_hide_brackets_and_operators(self):
        # the ')' and '==' inside the string and the char literal must not end the call
        got = split_assert("cpp", "assert(candidate((\"a) == (b\"), (')')) == (\"x\"));", "f")
        self.assertEqual((got.args, got.expected), ("(\"a) == (b\"), (')')", '("x")'))

    def test_java_both_rules(self):
        eq = split_assert("java", "assert(isPrime((6l)) == (false));", "isPrime")
        self.assertEqual(eq, SplitAssert("isPrime", "(6l)", "(false)", "java_eq"))
        equals = split_assert("java", 'assert(encode(("TEST")).equals(("tgst")));', "encode")
        # .equals's own parentheses are removed; the expected value's are kept as written
        self.assertEqual(equals, SplitAssert("encode", '("TEST")', '("tgst")', "java_equals"))
        opt = split_assert("java", "assert(f((1l)).equals(Optional.of(2l)));", "f")
        self.assertEqual(opt.expected, "Optional.of(2l)")

    def test_js_and_rust(self):
        js = split_assert("js", "assert.deepEqual(candidate([1, ')'], 'a,b'),[1]);", "f")
        self.assertEqual(js, SplitAssert("candidate", "[1, ')'], 'a,b'", "[1]", "js_deep_equal"))
        rs = split_assert("rust", 'assert_eq!(candidate(r#"a"),b"#, \'(\'), HashMap::<String, isize>::new());', "f")
        self.assertEqual((rs.args, rs.expected, rs.equality),
                         ('r#"a"),b"#, \'(\'', "HashMap::<String, isize>::new()", "rust_eq"))

    def test_unsplittable_shapes_are_refused_in_one_line(self):
        bad = [
            ("cpp", "assert(std::abs(candidate(1) - 2) < 1e-6);", "start with a call"),
            ("cpp", "assert(candidate(1) < 2);", "no comparison"),
            ("java", "assert(other((1l)) == (2l));", "start with a call to f"),
            ("js", "assert.equal(candidate(1), 2);", "expected assert.deepEqual("),
            ("rust", "assert_eq!(candidate(1), 2); exit(0);", "text after"),
            ("rust", 'assert_eq!(candidate("1), 2);', "unterminated"),
            ("python", "assert f(1) == 2", "unknown language"),
        ]
        for language, source, why in bad:
            with self.subTest(source=source), self.assertRaises(ValueError) as ctx:
                split_assert(language, source, "f")
            self.assertIn(why, str(ctx.exception))
            self.assertNotIn("\n", str(ctx.exception))

    def test_round_trip_json(self):
        got = split_assert("rust", "assert_eq!(candidate(1), 2);", "f")
        self.assertEqual(SplitAssert.from_json(json.loads(json.dumps(got.to_json()))), got)

    def test_assert_statements_spans_lines_inside_literals(self):
        tests = 'fn main() {\n    let candidate = f;\n    assert_eq!(candidate("a;\nb"), 1);\n    assert_eq!(candidate("}"), 2);\n}\n'
        self.assertEqual(assert_statements("rust", tests),
                         ['assert_eq!(candidate("a;\nb"), 1);', 'assert_eq!(candidate("}"), 2);'])


class MultiplEFilesTest(unittest.TestCase):
    """Every assert of the eight MultiPL-E files splits, and as many as the files hold."""

    FILES = {"cpp": "cpp", "java": "java", "js": "js", "rust": "rs"}

    def test_every_assert_splits(self):
        for language, suffix in self.FILES.items():
            counts = {}
            for dataset in ("humaneval", "mbpp"):
                path = support.data_file(self, f"multipl-e/{dataset}-{suffix}.jsonl")
                with open(path, encoding="utf-8") as handle:
                    for line in handle:
                        row = json.loads(line)
                        # only Java's asserts name the entry point (the method's, before its body)
                        entry_point = "f"
                        if language == "java":
                            entry_point = re.findall(r"(\w+)\([^()]*\)\s*\{", row["prompt"])[-1]
                        found = assert_statements(language, row["tests"])
                        lines = [s for s in row["tests"].splitlines() if s.strip().startswith("assert")]
                        self.assertEqual(len(found), len(lines), row["task_id"])
                        for statement in found:
                            rule = split_assert(language, statement, entry_point).equality
                            counts[rule] = counts.get(rule, 0) + 1
            # totals read from the files (one assert per line but for two multi-line ones)
            expected = {"cpp": {"cpp_eq": 2363}, "java": {"java_eq": 1306, "java_equals": 995},
                        "js": {"js_deep_equal": 2363}, "rust": {"rust_eq": 2190}}[language]
            self.assertEqual(counts, expected, language)


if __name__ == "__main__":
    unittest.main()
