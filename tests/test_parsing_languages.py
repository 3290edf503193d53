import support

import json
import re
import unittest
from pathlib import Path

from codeself import code_structure
from codeself.code_mask import balanced, mask
from codeself.datasets.multipl_e import LANGUAGE_NAMES, multipl_e_to_task
from codeself.datasets.task_ids import TaskIndex
from codeself.parsing import find_fenced_blocks
from codeself.parsing_languages import (CLOSING, cut_at_stop_tokens, parse_for_task, parse_language_completion,
                                        parse_samples)

F = support.FIXTURES
CPP_PROMPT = "#include<bits/stdc++.h>\n// Twice.\nlong twice(long x) {\n"
JAVA_PROMPT = "import java.util.*;\nclass Problem {\n    // Twice.\n    public static long twice(long x) {\n"


def fixture_tasks():
    with (F / "multipl_e_small.jsonl").open(encoding="utf-8") as lines:
        return [multipl_e_to_task(record) for record in map(json.loads, lines)]


class MaskTest(unittest.TestCase):
    def test_comments_and_literals_are_blanked_in_place(self):
        cases = [
            ('f("}") // }\n', "cpp", 'f(" ") //  \n'),
            ("char c = '}'; x = 1'000;", "cpp", "char c = ' '; x = 1'000;"),  # digit separator stays code
            ("fn f<'a>(s: &'a str) -> char { '{' }", "rust", "fn f<'a>(s: &'a str) -> char { ' ' }"),  # lifetimes
            ('r#"a"}b"#; /* a /* b */ } */ x', "rust", 'r#"    "#; /*             */ x'),  # nested comment
            ('s.replace(/[}"]/g, ""); a = b / c / d;', "js", 's.replace(/    /g, ""); a = b / c / d;'),
            ('auto s = R"x(})")x"; y', "cpp", 'auto s = R"x(   )x"; y'),
            ('t = """\n}\n"""; z', "java", 't = """\n \n"""; z'),
            ("x = `a}${b}`; // it's", "js", "x = `      `; //     "),
        ]
        for source, language, expected in cases:
            with self.subTest(source=source):
                self.assertEqual(mask(source, language), expected)

    def test_broken_code_never_raises_and_keeps_length(self):
        for source in ('"open\n}', "/* open", "'", "r#\"open", 'R"x(open'):
            for language in ("cpp", "java", "js", "rust"):
                self.assertEqual(len(mask(source, language)), len(source))
        # an unclosed "..." ends at its line, so the next line's brace is still code
        self.assertEqual(mask('"open\n}', "cpp"), '"    \n}')
        self.assertEqual(mask('"open\n}', "js", multiline_strings=True), '"    \n ')
        with self.assertRaisesRegex(ValueError, "no source mask for language 'go'"):
            mask("x", "go")

    def test_balanced(self):
        self.assertTrue(balanced(mask('f(a[1], "(") { }', "cpp")))
        self.assertFalse(balanced(mask("f(a[1)]", "cpp")))
        self.assertFalse(balanced(mask("{", "js")))


class StructureTest(unittest.TestCase):
    def test_definitions_per_language(self):
        cases = [
            ("cpp", "std::vector<long> f(std::vector<long> xs) {\n}\n", True),
            ("cpp", "int g() { return f(1); }\n", False),  # a call, not a definition
            ("cpp", "long f(long x);\n", False),  # a declaration without a body
            ("cpp", "template <typename T>\nT f(T x) const noexcept {\n}\n", True),
            ("java", "class P {\n    public static long f(long x) throws Exception {\n    }\n}\n", True),
            ("java", "class P {\n    public long f(long x) {\n    }\n}\n", False),  # not static
            ("java", "public static long f(long x) {\n}\n", True),  # a method alone
            ("js", "function f(x) { return 1; }", True),
            ("js", "const f = (x) => x + 1;", True),
            ("js", "let f = async function (x) {};", True),
            ("js", "console.log(f(1));", False),
            ("js", "function g() { function f() {} }", False),  # nested: not top level
            ("rust", "pub fn f<T: Clone>(x: T) -> T { x }", True),
            ("rust", "impl S { fn f(&self) {} }", False),
            ("rust", "// fn f(x: i64) {}\nlet s = \"fn f(\";", False),
        ]
        for language, code, expected in cases:
            with self.subTest(language=language, code=code):
                self.assertEqual(code_structure.defines(code, language, "f"), expected)

    def test_remove_main(self):
        cpp = "int f() { return 1; }\nint main(int argc, char** argv) {\n    puts(\"}\");\n}\nint g;\n"
        self.assertEqual(code_structure.remove_main(cpp, "cpp"), ("int f() { return 1; }\nint g;\n", 1))
        rust = "fn f() {}\n#[allow(unused)] fn main() -> Result<(), String> { Ok(()) }\n"
        self.assertEqual(code_structure.remove_main(rust, "rust"), ("fn f() {}\n", 1))
        java = "class P {\n    static int f() { return 1; }\n    public static void main(String[] a) {\n    }\n}\n"
        self.assertEqual(code_structure.remove_main(java, "java"),
                         ("class P {\n    static int f() { return 1; }\n}\n", 1))
        unclosed = "int main() {\n  return 0;\n"
        self.assertEqual(code_structure.remove_main(unclosed, "cpp"), (unclosed, 0))
        self.assertEqual(code_structure.remove_main("function main() {}", "js"), ("function main() {}", 0))

    def test_missing_header_lines(self):
        prompt = "use std::collections::HashMap;\nuse std::cmp::max;\nfn f() {\n"
        code = "use std::collections::{HashMap, HashSet};\nfn f() {}\n"
        # HashMap is already imported (importing it twice does not compile); max is not
        self.assertEqual(code_structure.missing_header_lines(code, prompt, "rust"), ["use std::cmp::max;"])
        self.assertEqual(code_structure.missing_header_lines("#include <bits/stdc++.h>\n", CPP_PROMPT, "cpp"), [])
        self.assertEqual(code_structure.header_lines("function f(){\n", "js"), [])


class ParseTest(unittest.TestCase):
    def test_cut_at_stop_tokens_takes_the_earliest(self):
        self.assertEqual(cut_at_stop_tokens("a\n//b\nfunction c", ["\nfunction ", "\n//"]), "a")
        self.assertEqual(cut_at_stop_tokens("no stop here", ["\n}"]), "no stop here")

    def test_continuation_is_multipl_e_program_before_its_tests(self):
        result = parse_language_completion("    return 2 * x;\n}\nint main() { return 1; }", "cpp", "twice",
                                           CPP_PROMPT, mode="continuation")
        # cut at "\n}", then prompt + completion + "\n" + "}\n"
        self.assertEqual(result.code, CPP_PROMPT + "    return 2 * x;\n}\n")
        self.assertEqual((result.parse_status, result.detail), ("ok", "prompt + completion (cut at a stop token) + closing"))
        java = parse_language_completion("        return 2 * x;\n    }\n", "java", "twice", JAVA_PROMPT,
                                         stop_tokens=["\n    }\n"], mode="continuation")
        self.assertEqual(java.code, JAVA_PROMPT + "        return 2 * x;" + "\n" + CLOSING["java"])
        self.assertTrue(java.usable)

    def test_continuation_that_does_not_balance_is_a_syntax_error_with_its_code(self):
        result = parse_language_completion("    return (2 * x;", "cpp", "twice", CPP_PROMPT, mode="continuation")
        self.assertEqual(result.parse_status, "syntax_error")
        self.assertEqual(result.code, CPP_PROMPT + "    return (2 * x;\n}\n")

    def test_auto_without_fence(self):
        continuation = parse_language_completion("    return 2 * x;\n}\n", "cpp", "twice", CPP_PROMPT)
        self.assertEqual(continuation.detail, "prompt + completion (cut at a stop token) + closing")
        prose = parse_language_completion("Sorry, I do not know.", "cpp", "twice", CPP_PROMPT)
        self.assertEqual((prose.code, prose.parse_status), (None, "no_code"))
        other = parse_language_completion("```python\ndef twice(x): ...\n```", "cpp", "twice", CPP_PROMPT)
        self.assertEqual((other.parse_status, other.detail), ("no_code", "only fenced blocks of other languages (python)"))

    def test_program_mode_takes_the_completion_whole_without_its_main(self):
        result = parse_language_completion("long twice(long x) { return 2 * x; }\nint main() {}\n", "cpp", "twice",
                                           CPP_PROMPT, mode="program")
        self.assertEqual(result.code, "#include<bits/stdc++.h>\nlong twice(long x) { return 2 * x; }\n")
        self.assertEqual(result.detail, "completion as the whole source; its main removed; "
                                        "1 header line(s) of the prompt added")

    def test_java_definition_in_another_class_is_flagged(self):
        answer = "```java\nclass Solution {\n    public static long twice(long x) { return 2 * x; }\n}\n```"
        result = parse_language_completion(answer, "java", "twice", JAVA_PROMPT)
        self.assertTrue(result.detail.endswith("; twice is in class Solution, not Problem"), result.detail)

    def test_bad_arguments_are_refused(self):
        with self.assertRaisesRegex(ValueError, "no answer parser for language 'go'"):
            parse_language_completion("x", "go", "f", "")
        with self.assertRaisesRegex(ValueError, "unknown parse mode 'exact'"):
            parse_language_completion("x", "cpp", "f", "", mode="exact")


class FixtureAnswersTest(unittest.TestCase):
    """tests/fixtures/multipl_e_answers.jsonl against the tasks of multipl_e_small.jsonl."""

    def test_answers_parse_in_input_order(self):
        index = TaskIndex(fixture_tasks())
        samples = [json.loads(line) for line in (F / "multipl_e_answers.jsonl").read_text(encoding="utf-8").splitlines()]
        parsed = list(parse_samples(samples, index))
        self.assertEqual([(task.task_id, result.parse_status) for task, result in parsed], [
            ("multipl-e/humaneval-cpp/901", "ok"),  # continuation cut at "\n}" (its main dropped with it)
            ("multipl-e/humaneval-java/901", "ok"),  # MultiPL-E id + language; fenced class with a main
            ("multipl-e/humaneval-js/901", "multiple_blocks"),  # the defining block 2 of 3
            ("multipl-e/humaneval-rust/901", "truncated"),  # cut before the closing fence
            ("multipl-e/mbpp-rust/902", "ok"),  # "rs" names rust; unfenced, chat noise and prose around
            ("multipl-e/mbpp-js/902", "no_code"),  # prose only
        ])
        java = parsed[1][1]
        self.assertEqual(java.code, "import java.util.*;\nimport java.util.stream.*;\nclass Problem {\n"
                                    "    public static ArrayList<Long> addOne(ArrayList<Long> xs) {\n"
                                    "        return xs;\n    }\n}\n")
        self.assertEqual(java.detail, "one ```java block; its main removed; 2 header line(s) of the prompt added")
        self.assertEqual(parsed[2][1].code, "function add_one(xs) { return xs.map(x => x + 1); }\n")
        self.assertEqual(parsed[4][1].code, 'fn shout(text: String) -> String {\n    text.to_uppercase() + "!"\n}\n')
        self.assertEqual(parsed[4][1].detail, "unfenced whole function; dropped 1 prose line(s)")

    def test_shared_original_id_without_language_is_ambiguous(self):
        index = TaskIndex(fixture_tasks())
        with self.assertRaisesRegex(ValueError, "'HumanEval_901_add_one' is ambiguous"):
            list(parse_samples([{"task_id": "HumanEval_901_add_one", "completion": "x"}], index))
        with self.assertRaisesRegex(ValueError, "has no string 'completion'"):
            list(parse_samples([{"task_id": "multipl-e/mbpp-js/902"}], index))

    def test_python_tasks_keep_the_python_rules(self):
        from codeself.datasets.task import Task

        task = Task("t/1", "t", "p", "f", "def f():\n", (), ("assert f() == 1",), "", None, None)
        self.assertEqual(parse_for_task(task, "    return 1\n", mode="continuation").code, "def f():\n    return 1\n")


class RealReferencesTest(unittest.TestCase):
    """Every gpt_solution of the eight MultiPL-E files, read as a model's answer."""

    # gpt_solutions that define no function of the entry point's name (they rename it, e.g.
    # Rust's differ_At_One_Bit_Pos -> differ_at_one_bit_pos): counted once, by hand, per file
    WITHOUT_DEFINITION = {"humaneval-cpp": 0, "humaneval-java": 2, "humaneval-js": 0, "humaneval-rs": 0,
                          "mbpp-cpp": 5, "mbpp-java": 8, "mbpp-js": 9, "mbpp-rs": 46}

    def test_every_reference_parses_to_the_block_defining_the_entry_point(self):
        # the tasks test_datasets_multipl_e converted in this process, when it ran before
        from test_datasets_multipl_e import LOADED

        for name, expected_missing in self.WITHOUT_DEFINITION.items():
            path = support.data_file(self, f"multipl-e/{name}.jsonl")
            with path.open(encoding="utf-8") as handle:
                records = [json.loads(line) for line in handle]
            tasks = LOADED.pop(name, None) or [multipl_e_to_task({**record, "gpt_solution": None})
                                               for record in records]
            self.assertEqual([task.metadata["original_task_id"] for task in tasks],
                             [record["task_id"] for record in records])
            missing = []
            for task, record in zip(tasks, records):
                result = parse_for_task(task, record["gpt_solution"])
                self.assertIsNotNone(result.code, f"{name} {record['task_id']}: {result.detail}")
                if "; no def " in result.detail:
                    missing.append(record["task_id"])
                    # independent check: no fenced block holds `entry_point(` outside a comment line
                    bodies = "\n".join(block.body for block in find_fenced_blocks(record["gpt_solution"]))
                    code_lines = [l for l in bodies.split("\n") if not l.lstrip().startswith(("//", "*", "/*"))]
                    self.assertNotRegex("\n".join(code_lines), rf"\b{re.escape(task.entry_point)}\s*\(",
                                        f"{name} {record['task_id']}")
                else:
                    self.assertTrue(code_structure.defines(result.code, task.language, task.entry_point))
            with self.subTest(file=name):
                self.assertEqual(len(missing), expected_missing, missing)
                self.assertEqual(LANGUAGE_NAMES[name.split("-")[1]], task.language)


if __name__ == "__main__":
    unittest.main()
