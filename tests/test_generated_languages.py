"""Generated tasks in C++, Java, JavaScript and Rust (issue 18 item 5): the translation, the
Python output unchanged, and a few references through the real toolchains (every family's:
`CODESELF_LANGUAGE_REFERENCES=1`, or scripts/check_references.py as docs/generated_tasks.md shows).
A language whose toolchain is missing is skipped with its one-line reason."""

import support

import hashlib
import json
import os
import tempfile
import unittest
from pathlib import Path

from codeself.datasets import generated, generated_languages as gl
from codeself.datasets.task import load_tasks
from codeself.datasets.validate import TASK_CHECKS
from codeself.execution.languages import split_assert
from codeself.execution.languages.toolchains import JAVATUPLES_MISSING, missing, missing_javatuples

SMALL = generated.GeneratorConfig(seed=0, version=2, train=12, validation=4, test=4, test_heldout_families=6)
# sha256 of the Python files written before languages existed (train 8, validation 4, test 4, held-out 4)
PYTHON_SHA256 = {1: "eb7fc92b681e2799aeee29723eede1e3fbf6349ed0c359e294c3e0269c81ba24",
                 2: "163e654354fcaa8d94232d3264ecd7f7628d547e98e6d56c6630715b423e2178"}
# Families run through the toolchain in the fast test: count_char (a string constant; its wrong
# answer below) in every language, plus a dict (count_occurrences: from a list) or tuples in a
# list (run_length_encode) in each compiled language and both in JavaScript, which compiles
# nothing: each compile costs seconds, and every family in every language is the opt-in test's.
RUN = {"cpp": ("count_char", "count_occurrences"), "java": ("count_char", "run_length_encode"),
       "js": ("count_char", "count_occurrences", "run_length_encode"), "rust": ("count_char", "run_length_encode")}
# A wrong count_char answer per language: one more than the count (it compiles; the values differ).
WRONG = {"cpp": ("return std::count(", "return 1 + std::count("), "java": (".count();", ".count() + 1;"),
         "js": (".length - 1;", ".length;"), "rust": (".count() as isize", ".count() as isize + 1")}
# Version 2 with every practised family once in train and every held-out family once.
EACH_FAMILY = generated.GeneratorConfig(seed=0, version=2, train=33, validation=0, test=0, test_heldout_families=18)


def one_per_family(language: str, families: tuple[str, ...] | None = None) -> dict:
    tasks = {task.metadata["family"]: task for task in gl.generate_language_tasks(EACH_FAMILY, language)}
    assert len(tasks) == len(gl.FAMILY_TYPES), sorted(tasks)
    return {family: task for family, task in tasks.items() if families is None or family in families}


class TranslationTest(unittest.TestCase):
    def test_every_family_is_translated_or_skipped_with_a_reason(self):
        names = {family.name for family in generated.distribution(2).families}
        self.assertEqual(set(gl.FAMILY_TYPES) | set(gl.SKIPPED), names)
        self.assertFalse(set(gl.FAMILY_TYPES) & set(gl.SKIPPED))
        for language in gl.LANGUAGES:
            self.assertEqual(set(gl.bodies(language)), set(gl.FAMILY_TYPES), language)

    def test_tasks_split_validate_and_keep_the_python_draws(self):
        python = list(generated.generate_tasks(gl.language_config(SMALL, "cpp"), dist=gl.translated_distribution(2, "cpp")))
        for language in gl.LANGUAGES:
            tasks = list(gl.generate_language_tasks(SMALL, language))
            self.assertEqual(len(tasks), 26)
            self.assertEqual([t.split for t in tasks], [t.split for t in python])
            for task, source in zip(tasks, python):
                self.assertEqual(task.language, language)
                self.assertTrue(task.task_id.startswith(f"gen2-{language}/{source.metadata['family']}/"), task.task_id)
                self.assertEqual(task.metadata["translation"]["from"], source.task_id.replace("gen2-cpp/", "gen2/"))
                self.assertEqual(len(task.public_tests), 1)
                self.assertEqual(len(task.hidden_tests) + task.metadata["translation"]["dropped_tests"],
                                 len(source.hidden_tests))
                self.assertNotIn("evaluation_only", task.metadata)  # ours: may be practised on
                for test in task.public_tests + task.hidden_tests:
                    split_assert(language, test, task.entry_point)  # raises when it does not split
                problems = [message for check in TASK_CHECKS for message in check(task)]
                self.assertEqual(problems, [], task.task_id)
                self.assertTrue(task.reference_solution.startswith(task.starter_code))

    def test_java_names_and_prompt_idiom(self):
        [task] = gl.generate_language_tasks(generated.GeneratorConfig(seed=0, version=2, train=0, validation=0,
                                                                       test=0, test_heldout_families=1), "java")
        self.assertEqual(task.entry_point, "positionOfMax")
        self.assertIn("public static long positionOfMax(ArrayList<Long> values) {", task.starter_code)
        self.assertIn("array list", task.prompt)
        self.assertIn("class Problem {", task.starter_code)

    def test_prepare_datasets_language_flag(self):
        with tempfile.TemporaryDirectory() as tmp:
            out, manifest = Path(tmp, "rust.jsonl"), Path(tmp, "manifest.json")
            # in this process (the flag, not the script as a process, is tested here; the script's
            # own runs as a process: test_datasets_multipl_e and others)
            code, _, err = support.run_in_process(
                support.load_script("prepare_datasets"), "--format", "generated", "--generator-version", "2",
                "--language", "rust", "--train", "3", "--validation", "1", "--test", "1",
                "--output", out, "--manifest", manifest, "--quiet")
            self.assertEqual(code, 0, err)
            tasks = list(load_tasks(out))
            self.assertEqual(len(tasks), 5 + 12 * 18)  # every held-out family translates
            self.assertEqual({t.language for t in tasks}, {"rust"})
            record = json.loads(manifest.read_text())["generator"]
            self.assertEqual((record["language"], sorted(record["skipped_families"])),
                             ("rust", ["average", "celsius_to_fahrenheit", "invert_dict"]))
            refused = [support.refusal("prepare_datasets.py", *args, "--output", Path(tmp, "x.jsonl"), "--quiet")
                       for args in (("--format", "generated", "--language", "cpp", "--scale-inputs"),
                                    ("--format", "mbpp", "--input", out, "--language", "js"))]
            for done in refused:
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
            self.assertFalse(Path(tmp, "x.jsonl").exists())

    def test_python_output_is_unchanged(self):
        with tempfile.TemporaryDirectory() as tmp:
            for version, digest in PYTHON_SHA256.items():
                path = Path(tmp, f"v{version}.jsonl")
                generated.write_generated(path, generated.GeneratorConfig(
                    seed=0, version=version, train=8, validation=4, test=4, test_heldout_families=4))
                self.assertEqual(hashlib.sha256(path.read_bytes()).hexdigest(), digest, version)


class ReferencesRunTest(unittest.TestCase):
    """References pass and a wrong answer fails, through the sandbox and the real compilers."""

    @classmethod
    def setUpClass(cls):
        from codeself.execution.engine import ExecutionConfig, Executor

        cls.executor = Executor(ExecutionConfig(workers=2))
        cls.addClassCleanup(cls.executor.close)
        # the fast tests' jobs of every language here, in one batch (the compiled ones first:
        # each compile costs most); each test then checks its language's results
        batch = {language: cls.jobs(language, RUN[language]) for language in ("java", "cpp", "rust", "js")
                 if not missing(language)}
        results = iter(cls.executor.run_many([job for jobs in batch.values() for job in jobs]))
        cls.ran = {language: (jobs, [next(results) for _ in jobs]) for language, jobs in batch.items()}

    @staticmethod
    def jobs(language: str, families: tuple[str, ...] | None) -> list:
        """Each family's reference, then count_char's wrong answer (WRONG's edit of its reference)."""
        tasks = one_per_family(language, families)
        old, new = WRONG[language]
        wrong = tasks["count_char"].reference_solution
        return [*((task, task.reference_solution) for task in tasks.values()),
                (tasks["count_char"], wrong.replace(old, new))]

    def check(self, language: str, families: tuple[str, ...] | None):
        reason = missing(language)
        if reason:
            self.skipTest(reason)
        if families == RUN[language]:  # the fast test's: run in setUpClass
            jobs, results = self.ran[language]
        else:
            jobs = self.jobs(language, families)
            results = list(self.executor.run_many(jobs))
        old, _ = WRONG[language]
        self.assertEqual(jobs[-1][0].reference_solution.count(old), 1)  # the wrong answer is that one edit
        failing = {task.task_id: f"{r.status} {r.error_type}: {r.message}"
                   for (task, _), r in zip(jobs, results[:-1]) if not r.passed}
        untried = {task_id for task_id, why in failing.items() if JAVATUPLES_MISSING in why} \
            if language == "java" and missing_javatuples() else set()
        self.assertEqual({task_id: why for task_id, why in failing.items() if task_id not in untried}, {})
        self.assertEqual((results[-1].status, results[-1].public["passed"]), ("failed", 0))
        if untried:  # all else was checked; say what was not
            self.skipTest(f"{len(untried)} of {len(jobs) - 1} Java families not run: {JAVATUPLES_MISSING}")

    def test_cpp(self):
        self.check("cpp", RUN["cpp"])

    def test_java(self):
        self.check("java", RUN["java"])

    def test_js(self):
        self.check("js", RUN["js"])

    def test_rust(self):
        self.check("rust", RUN["rust"])

    @unittest.skipUnless(os.environ.get("CODESELF_LANGUAGE_REFERENCES") == "1",
                         "opt-in (CODESELF_LANGUAGE_REFERENCES=1): one reference per family and language, ~200 compiles")
    def test_every_family_in_every_language(self):
        for language in gl.LANGUAGES:
            with self.subTest(language=language):
                self.check(language, None)


if __name__ == "__main__":
    unittest.main()
