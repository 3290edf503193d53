"""run_agentic.py on C++ and JavaScript tasks (issue 18 item 4): replayed answers that do not
compile, then fail the public test, then pass, and the feedback each turn gets in the task's own
terms (fence tag, compiler message, the call and the values as the language writes them).
(The Ray executor with language tasks: tests/test_ray_executor.py.) A language whose toolchain
is missing is skipped with its one-line reason."""

import support

import json
import tempfile
import unittest
from pathlib import Path

from codeself.agents.agentic import feedback as fb
from codeself.datasets.generated import GeneratorConfig
from codeself.datasets.generated_languages import generate_language_tasks
from codeself.datasets.task import PublicTask
from codeself.execution.languages.literals import shown
from codeself.execution.languages.toolchains import missing

CONFIG = GeneratorConfig(seed=0, version=2, train=0, validation=0, test=0, test_heldout_families=1)
# The first held-out task of version 2 in every language is index_of_max (`position_of_max(values)`).
ANSWERS = {
    "cpp": ["```cpp\nlong position_of_max(std::vector<long> values) {\n    return 0\n}\n```",
            "```cpp\nlong position_of_max(std::vector<long> values) {\n    return values.size();\n}\n```",
            "```cpp\nlong position_of_max(std::vector<long> values) {\n"
            "    return std::max_element(values.begin(), values.end()) - values.begin();\n}\n```"],
    "js": ["```javascript\nfunction position_of_max(values) {\n  return values.indexOf(Math.max(...values);\n}\n```",
           "```javascript\nfunction position_of_max(values) {\n  return values.length;\n}\n```",
           "```javascript\nfunction position_of_max(values) {\n  return values.indexOf(Math.max(...values));\n}\n```"],
}


def traces_for(languages: list[str], tmp: str) -> dict[str, list[dict]]:
    """Each language's traces of run_agentic.py on its task and ANSWERS, the runs at the same time."""
    calls, outputs = [], {}
    for language in languages:
        tasks, answers, out = (Path(tmp, f"{language}.{name}.jsonl") for name in ("tasks", "answers", "traces"))
        [task] = generate_language_tasks(CONFIG, language)
        tasks.write_text(json.dumps(task.to_json()) + "\n", encoding="utf-8")
        answers.write_text(json.dumps({"task_id": task.task_id, "sample_index": 0, "turns": ANSWERS[language]})
                           + "\n", encoding="utf-8")
        calls.append(("run_agentic.py", "--tasks", tasks, "--backend", "static", "--completions", answers,
                      "--template", "chat_multipl_e", "--max-revisions", "2", "--workers", "1",
                      "--trace-output", out, "--quiet"))
        outputs[language] = out
    for done in support.run_scripts(*calls):
        assert done.returncode == 0, done.stderr
    return {language: [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
            for language, out in outputs.items()}


class LanguageFeedbackTest(unittest.TestCase):
    """The feedback text without running anything."""

    def test_fixed_messages_name_the_language_and_python_is_unchanged(self):
        task = PublicTask("t", "p", "f", "", ("assert(candidate(1) == (2));",), language="cpp")
        run = fb.PublicRun((), 1, no_code=True)
        self.assertEqual(fb.render_test_feedback(task, run), fb.NO_CODE_FEEDBACK.replace("Python", "C++")
                         .replace("```python", "```cpp"))
        python = PublicTask("t", "p", "f", "", ("assert f(1) == 2",))
        self.assertEqual(fb.render_test_feedback(python, run), fb.NO_CODE_FEEDBACK)
        compile_run = fb.PublicRun((), 1, "compile_error", "CompileError: " + "x" * 1000)
        text = fb.render_test_feedback(task, compile_run, value_chars=100)
        self.assertTrue(text.startswith("Your code does not compile:\nCompileError: "), text)
        self.assertLess(len(text), 400)  # the compiler's message is cut like every value
        self.assertIn("```cpp fenced code block", text)

    def test_failing_public_test_shows_the_call_and_values_in_the_language(self):
        task = PublicTask("t", "p", "add_k", "", ("assert(candidate((std::vector<long>({(long)1}))) == (5));",),
                          language="cpp")
        run = fb.PublicRun((fb.PublicOutcome(0, False, "AssertionError", "expected {1, 2}, got {2}"),), 1)
        text = fb.render_test_feedback(task, run)
        self.assertIn("  call: add_k((std::vector<long>({(long)1})))", text)
        self.assertIn("  expected: {1, 2}\n  got: {2}", text)

    def test_values_are_written_as_the_language_writes_them(self):
        value = [("a", 2), ("b", 1)]
        self.assertEqual(shown(value, "cpp"), '{std::make_tuple("a", 2), std::make_tuple("b", 1)}')
        self.assertEqual(shown(value, "java"), '[Pair.with("a", 2), Pair.with("b", 1)]')
        self.assertEqual(shown(value, "js"), '[["a", 2], ["b", 1]]')
        self.assertEqual(shown(value, "rust"), 'vec![("a", 2), ("b", 1)]')
        self.assertEqual(shown({"x": True, "y": None}, "java"), 'Map.of("x", true, "y", Optional.empty())')
        self.assertEqual(shown((b"Optional", 3), "java"), "Optional.of(3)")
        self.assertLessEqual(len(shown(list(range(10 ** 4)), "rust")), 300)


class AgenticLanguageRunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # both languages' runs at once: two processes, each with an Executor of one worker
        with tempfile.TemporaryDirectory() as tmp:
            cls.traces = traces_for([language for language in ANSWERS if not missing(language)], tmp)

    def run_language(self, language: str) -> list[dict]:
        reason = missing(language)
        if reason:
            self.skipTest(reason)
        [trace] = self.traces[language]
        return trace["turns"]

    def test_cpp_compile_error_then_wrong_then_fixed(self):
        turns = self.run_language("cpp")
        self.assertEqual([t["execution"]["status"] for t in turns], ["compile_error", "failed", "passed"])
        first, second = turns[0]["feedback"], turns[1]["feedback"]
        self.assertTrue(first.startswith("Your code does not compile:\nCompileError: "), first)
        self.assertRegex(first, r"candidate\.cpp:\d+:\d+: error: expected .;. before")  # g++'s own message
        self.assertNotIn("#include", first)  # no source excerpt (g++ would quote lines shifted by the harness's)
        self.assertTrue(first.endswith("in one ```cpp fenced code block."), first)
        self.assertIn("  call: position_of_max((std::vector<long>({", second)
        self.assertRegex(second, r"  expected: \d+\n  got: \d+")

    def test_js_syntax_error_then_wrong_then_fixed(self):
        turns = self.run_language("js")
        self.assertEqual([t["execution"]["status"] for t in turns], ["compile_error", "failed", "passed"])
        self.assertIn("SyntaxError: missing ) after argument list", turns[0]["feedback"])
        self.assertIn("```javascript fenced code block", turns[0]["feedback"])
        self.assertIn("  call: position_of_max([", turns[1]["feedback"])
        self.assertRegex(turns[1]["feedback"], r"  expected: \d+\n  got: 6\n")  # values.length of 6 values


if __name__ == "__main__":
    unittest.main()
