"""MultiPL-E end to end: convert the fixture, judge C++ and JavaScript answers with
execute_samples.py, evaluate and analyse them, and roll out a static run with the MultiPL-E
prompt. A language whose toolchain is missing is skipped with its one-line reason."""

import support

import json
import tempfile
import unittest
from pathlib import Path

from codeself.agents.backends.mock import MockBackend
from codeself.datasets.task import load_tasks
from codeself.execution.languages.toolchains import missing
from codeself.reporting.error_analysis import analyse
from codeself.reporting.evaluation import evaluate_file

F = support.FIXTURES
CPP, JS, JS_MBPP = "multipl-e/humaneval-cpp/901", "multipl-e/humaneval-js/901", "multipl-e/mbpp-js/902"
# (sample, expected status, hidden tests passed, parse status); one id form per task, as the script asks
CASES = [
    # the fixture's continuation (its own `int main() {}` cut off at the stop token "\n}")
    ({"task_id": CPP, "completion": "    for (auto &x : xs) x += 1;\n    return xs;\n}\nint main() {}\n"},
     "passed", 2, "ok"),
    # MultiPL-E's own id + language; three fenced blocks, the one defining add_one is taken
    ({"task_id": "HumanEval_901_add_one", "language": "js",
      "completion": "```js\nconsole.log(add_one([1]));\n```\n```js\nfunction add_one(xs) { return xs.map(x => x + 1); }"
                    "\n```\n```js\nconsole.log(add_one([2]));"}, "passed", 2, "multiple_blocks"),
    ({"task_id": JS_MBPP, "completion": "I cannot help with that"}, "failed", 0, "no_code"),  # not run
    ({"task_id": CPP, "completion": "    return xs;\n}\n"}, "failed", 1, "ok"),  # wrong: the empty case passes
    # a MultiPL-E continuation that goes on past the function: cut at "\nconsole.log"
    ({"task_id": "HumanEval_901_add_one", "language": "js",
      "completion": "  return xs.map(x => x + 1);\n}\n\nconsole.log(add_one([1]));\n"}, "passed", 2, "ok"),
    # ending the process with status 0 passes MultiPL-E's harness; here no result is a failure
    ({"task_id": "HumanEval_901_add_one", "language": "js",
      "completion": "```js\nfunction add_one(xs) { process.exit(0); }\n```"}, "runtime_error", 0, "ok"),
    ({"task_id": "HumanEval_901_add_one", "language": "js",
      "completion": "```javascript\nfunction add_one(xs) { return xs.map(x => x + 2); }\n```"}, "failed", 1, "ok"),
]
LANGUAGES = {CPP: "cpp", "HumanEval_901_add_one": "js", JS_MBPP: "js"}


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


class MultiplEPipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = Path(cls.tmp.name)
        cls.tasks, cls.samples, cls.results = root / "tasks.jsonl", root / "samples.jsonl", root / "results.jsonl"
        converted = support.run_script("prepare_datasets.py", "--format", "multipl-e", "--input",
                                       F / "multipl_e_small.jsonl", "--output", cls.tasks, "--quiet")
        assert converted.returncode == 0, converted.stderr
        cls.skipped = {language: missing(language) for language in ("cpp", "js") if missing(language)}
        cls.cases = [case for case in CASES if LANGUAGES[case[0]["task_id"]] not in cls.skipped]
        if not cls.cases:
            return
        cls.samples.write_text("".join(json.dumps(sample) + "\n" for sample, *_ in cls.cases), encoding="utf-8")
        cls.executed = support.run_script("execute_samples.py", "--tasks", cls.tasks, "--samples", cls.samples,
                                          "--output", cls.results, "--workers", "2", "--quiet")
        cls.records = read_jsonl(cls.results) if cls.executed.returncode == 0 else []

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def require(self, language):
        if language in self.skipped:
            self.skipTest(self.skipped[language])

    def verdicts(self, language):
        return [(record["parse_status"], record["execution"]["status"], record["execution"]["hidden"]["passed"])
                for record in self.records if record["language"] == language]

    def messages(self, language):
        """What each run said: a sandbox_error (e.g. EAGAIN when other sandboxes hold the sandbox
        user's processes) is the machine's failure, not the answer's."""
        return [record["execution"]["message"] for record in self.records if record["language"] == language]

    def expected(self, language):
        return [(parse, status, hidden) for sample, status, hidden, parse in self.cases
                if LANGUAGES[sample["task_id"]] == language]

    def test_results_keep_input_order_and_the_samples(self):
        if not self.cases:
            self.skipTest("; ".join(self.skipped.values()))
        self.assertEqual(self.executed.returncode, 0, self.executed.stderr)
        self.assertEqual(len(self.records), len(self.cases))
        for position, (record, (sample, *_)) in enumerate(zip(self.records, self.cases)):
            self.assertEqual({key: record[key] for key in sample}, sample)  # the sample as written
            self.assertEqual(record["completion_id"], position)
            self.assertEqual(record["language"], LANGUAGES[sample["task_id"]])
        not_run = [r for r in self.records if r["parse_status"] == "no_code"]
        self.assertEqual([r["execution"]["extra"] for r in not_run], [{"executed": False}] * len(not_run))

    def test_cpp_verdicts(self):
        self.require("cpp")
        self.assertEqual(self.verdicts("cpp"), self.expected("cpp"), self.messages("cpp"))

    def test_js_verdicts(self):
        self.require("js")
        self.assertEqual(self.verdicts("js"), self.expected("js"), self.messages("js"))
        crashed = next(r for r in self.records if r["execution"]["status"] == "runtime_error")
        self.assertEqual(crashed["execution"]["error_type"], "ProcessDied")

    def test_evaluation_and_error_analysis_break_down_by_language(self):
        if len(self.skipped) > 0:
            self.skipTest("needs both C++ and JavaScript: " + "; ".join(self.skipped.values()))
        summary = evaluate_file(self.results, resamples=50)
        self.assertEqual(summary["n_tasks"], 3)  # HumanEval_901_add_one (js) and the C++ task are two tasks
        breakdown = summary["per_language"]
        self.assertEqual(list(breakdown), ["cpp", "js"])
        self.assertEqual((breakdown["cpp"]["n_samples"], breakdown["cpp"]["pass_at_k"]["1"]), (2, 0.5))
        # js: HumanEval_901_add_one passes 2 of 4, mbpp_902 0 of 1 -> mean 0.25
        self.assertEqual((breakdown["js"]["n_samples"], breakdown["js"]["pass_at_k"]["1"]), (5, 0.25))
        self.assertEqual(breakdown["js"]["parse_status_counts"], {"multiple_blocks": 1, "no_code": 1, "ok": 3})
        self.assertEqual(breakdown["js"]["error_category_counts"]["crash"], 1)
        self.assertEqual(breakdown["cpp"]["status_counts"]["failed"], 1)
        errors = analyse([str(self.results)])["files"][0]["per_language"]
        self.assertEqual({language: counts["passed"] for language, counts in errors.items()}, {"cpp": 1, "js": 2})
        self.assertEqual(errors["js"]["no_code"], 1)
        # Python-only files get no breakdown: their outputs stay as they were
        self.assertNotIn("per_language", evaluate_file(F / "eval_rollouts.jsonl", resamples=50))
        self.assertNotIn("per_language", analyse([str(F / "errors_baseline.jsonl")])["files"][0])

    def test_static_rollouts_with_the_multipl_e_prompt(self):
        self.require("js")
        root = Path(self.tmp.name)
        tasks = root / "js_tasks.jsonl"
        tasks.write_text("".join(json.dumps(task.to_json()) + "\n" for task in load_tasks(self.tasks)
                                 if task.task_id == JS), encoding="utf-8")
        completions = root / "static.jsonl"
        completions.write_text(json.dumps({"task_id": JS, "completion": CASES[4][0]["completion"]}) + "\n"
                               + json.dumps({"task_id": JS, "completion": "  return xs;\n}\n"}) + "\n", encoding="utf-8")
        out = root / "rollouts.jsonl"
        base = ("run_rollouts.py", "--tasks", tasks, "--backend", "static", "--completions", completions, "--quiet")
        done, refused = support.run_scripts((*base, "--output", out, "--template", "completion_multipl_e"),
                                            (*base, "--output", root / "refused.jsonl"))
        self.assertEqual(done.returncode, 0, done.stderr)
        rollouts = read_jsonl(out)
        task = next(load_tasks(tasks))
        self.assertEqual([(r["language"], r["prompt"], r["parse_status"], r["execution"]["status"], r["reward"]["reward"])
                          for r in rollouts], [("js", task.starter_code, "ok", "passed", 1.0),
                                               ("js", task.starter_code, "ok", "failed", 0.0)])
        diagnostics = rollouts[0]["reward"]["diagnostics"]
        self.assertEqual((diagnostics["syntax_valid"], diagnostics["quality"], diagnostics["quality_score"]),
                         (True, None, None))
        # MultiPL-E's program up to its tests: prompt + completion cut at "\nconsole.log" + "\n"
        self.assertEqual(rollouts[0]["code"], task.starter_code + "  return xs.map(x => x + 1);\n}\n\n")
        self.assertEqual(refused.returncode, 2)
        self.assertEqual(refused.stderr, f"run_rollouts.py: error: task {JS} is written in js; prompt template "
                                         "'chat_default' asks for python (bundled templates for js: chat_multipl_e, "
                                         "completion_multipl_e)\n")

    def test_bad_samples_are_refused_in_one_line_before_anything_runs(self):
        script, samples = support.load_script("execute_samples"), Path(self.tmp.name, "bad.jsonl")
        out = Path(self.tmp.name, "bad-results.jsonl")
        cases = [
            ({"task_id": "HumanEval_901_add_one", "completion": "x"},
             "task_id 'HumanEval_901_add_one' is ambiguous: it is the original id of multipl-e/humaneval-cpp/901, multipl-e/humaneval-java/901, "
             "multipl-e/humaneval-js/901, multipl-e/humaneval-rust/901 in --tasks; give a task file holding only "
             "one of them, or key the samples by canonical task_id, or give each sample its `language`"),
            ({"task_id": CPP, "language": "rs", "completion": "x"},
             f"the sample's language is 'rs' but task {CPP} is written in cpp"),
            ({"task_id": CPP, "language": "go", "completion": "x"},
             "language 'go' is not one of python, cpp, java, js, rust (or MultiPL-E's rs)"),
        ]
        for sample, message in cases:
            with self.subTest(message=message):
                samples.write_text(json.dumps(sample) + "\n", encoding="utf-8")
                code, stdout, stderr = support.run_in_process(script, "--tasks", self.tasks, "--samples", samples,
                                                      "--output", out, "--quiet")
                self.assertEqual((code, stdout), (2, ""))
                self.assertEqual(stderr, f"execute_samples.py: error: {samples}:1: {message}\n")
        samples.write_text(json.dumps({"task_id": CPP, "completion": "x"}) + "\n", encoding="utf-8")
        code, _, stderr = support.run_in_process(script, "--tasks", self.tasks, "--samples", samples, "--results-format",
                                         "evalplus", "--output", out, "--quiet")
        self.assertEqual((code, stderr), (2, "execute_samples.py: error: --results-format evalplus holds Python "
                                              f"tasks only (EvalPlus judges HumanEval+ and MBPP+); task {CPP} is "
                                              "written in cpp\n"))
        self.assertFalse(out.exists())

    def test_mock_backend_refuses_other_languages(self):
        task = next(load_tasks(self.tasks))
        with self.assertRaisesRegex(ValueError, f"^task {CPP} is written in cpp; the mock backend .* handles Python "
                                                "tasks only$"):
            MockBackend().sample(task, 0, 0)


if __name__ == "__main__":
    unittest.main()
