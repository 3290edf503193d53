"""Expected values in batches (languages/expected_batch.py): one program for several tasks,
each task's values and verdicts exactly those of its own program, broken tasks still named."""

import json
import os
import subprocess
import tempfile
import unittest
from unittest import mock

import support  # noqa: F401
from language_cases import make_task
from codeself.execution import ExecutionConfig, Executor
from codeself.execution.languages import cpp, expected_batch, program
from codeself.execution.languages.toolchains import missing

CPP = "#include<assert.h>\n#include<bits/stdc++.h>\n"


def cpp_task(name, prompt, expected, public="assert(candidate((1)) == (2));"):
    return make_task("cpp", CPP + prompt, "f", (public,), (f"assert(candidate((2)) == ({expected}));",),
                     task_id=f"cpp/{name}")


# The same entry point and type names in every task, with other meanings: each task's prompt is
# a namespace of its own in the batch
ADD = cpp_task("add", "struct P { long a; };\nlong f(long x) {\n", "3")
TEXT = cpp_task("text", "struct P { std::string s; };\nstd::string f(long x) {\n", 'std::string("xx")',
                'assert(candidate((1)) == (std::string("x")));')
BROKEN = cpp_task("broken", "long f(long x) {\n", 'std::string("no")')  # long == string: does not compile
CRASH = cpp_task("crash", "long f(long x) {\n", "*(volatile long*)nullptr")  # the tests program dies
ANOTHER = cpp_task("another", "#define TWICE(x) ((x) * 2)\nlong f(long x) {\n", "TWICE(2)")


def counting(store):
    """program.read_expected, recording each call: a task measured by its own program."""
    real = program.read_expected

    def read(*args, **kwargs):
        store.append(1)
        return real(*args, **kwargs)
    return read


def recording(runs):
    """ExpectedBatch._run, recording the tasks of each program it runs."""
    real = expected_batch.ExpectedBatch._run

    def run(batch, members):
        runs.append(tuple(task.task_id for task in members))
        return real(batch, members)
    return run


def run_batched(language, prompt, test, expected, answer):
    """One run_many on one worker of a task per expected value (public test f(1) == 2, hidden
    f(5) == value): the results, the task ids of each batch program, the tasks measured alone."""
    tasks = [make_task(language, prompt, "f", (test.format(1, 2),), (test.format(5, value),),
                       task_id=f"{language}/t{index}") for index, value in enumerate(expected)]
    alone, runs = [], []
    with tempfile.TemporaryDirectory() as root, mock.patch.dict(os.environ, {"CODESELF_EXPECTED_CACHE": root}), \
            Executor(ExecutionConfig(workers=1)) as executor, \
            mock.patch.object(program, "read_expected", side_effect=counting(alone)), \
            mock.patch.object(expected_batch.ExpectedBatch, "_run", recording(runs)):
        results = list(executor.run_many((task, answer) for task in tasks))
    return results, runs, alone


class CppBatchTest(unittest.TestCase):
    def setUp(self):
        if missing("cpp"):
            self.skipTest(missing("cpp"))
        self.root = tempfile.mkdtemp()
        self.addCleanup(lambda: __import__("shutil").rmtree(self.root, True))
        patch = mock.patch.dict(os.environ, {"CODESELF_EXPECTED_CACHE": self.root})
        patch.start()
        self.addCleanup(patch.stop)

    def test_a_batch_judges_as_each_task_alone_and_broken_tasks_are_still_named(self):
        answers = {"add": "long f(long x) { return x + 1; }\n",
                   "text": "std::string f(long x) { return std::string(x, 'x'); }\n",
                   "broken": "long f(long x) { return x + 1; }\n", "crash": "long f(long x) { return x + 1; }\n",
                   "another": "long f(long x) { return x == 1 ? 2 : 0; }\n"}
        tasks = [ADD, TEXT, BROKEN, CRASH, ANOTHER]
        alone, runs = [], []
        with Executor(ExecutionConfig(workers=1)) as executor, \
                mock.patch.object(program, "read_expected", side_effect=counting(alone)), \
                mock.patch.object(expected_batch.ExpectedBatch, "_run", recording(runs)):
            results = list(executor.run_many((task, answers[task.task_id[4:]]) for task in tasks))
        got = {task.task_id[4:]: result for task, result in zip(tasks, results)}
        self.assertEqual(got["add"].status, "passed", got["add"].message)
        self.assertEqual(got["text"].status, "passed", got["text"].message)
        self.assertEqual((got["broken"].status, got["broken"].error_type), ("failed", "BrokenTest"))
        self.assertIn("do not compile", got["broken"].message)
        # the crash ends the batch's program within its tests: it is measured alone (its own
        # program dies there too: the test's value did not compute), the tasks after it again
        self.assertEqual([t.error_type for t in got["crash"].tests], [None, "BrokenTest"])
        # its #define keeps it out of the batches; its own program judges it
        self.assertEqual([t.error_type for t in got["another"].tests], [None, "AssertionError"])
        self.assertEqual(len(alone), 3)  # broken, crash and another: their own programs; add and text not
        # one batch of the four, which does not compile: g++'s errors name broken, so the rest
        # runs at once; it stops within crash's tests, after add's and text's
        self.assertEqual(runs, [("cpp/add", "cpp/text", "cpp/broken", "cpp/crash"), ("cpp/add", "cpp/text", "cpp/crash")])

    def test_the_batch_keeps_each_tasks_values_under_its_own_programs_key(self):
        with Executor(ExecutionConfig(workers=1)) as executor:
            batches = expected_batch.plan([ADD, TEXT], executor.config, executor._dispatch_wire, 1)
            self.assertIs(batches[expected_batch.key(ADD)], batches[expected_batch.key(TEXT)])
            for task in (ADD, TEXT):
                self.assertTrue(program.measure_expected(task, executor.config, executor._dispatch_wire,
                                                         batches[expected_batch.key(task)]).values)
        # a later Executor runs no tests program for them, batch or alone
        self.assertEqual(expected_batch.plan([ADD, TEXT], ExecutionConfig(), None, 1), {})
        with Executor(ExecutionConfig(workers=1)) as executor, \
                mock.patch.object(program, "read_expected", side_effect=AssertionError("ran the tests program")):
            self.assertEqual(executor.run(ADD, "long f(long x) { return x + 1; }\n").status, "passed")

    def test_what_a_batch_cannot_hold(self):
        self.assertFalse(cpp.batchable(CPP + "#define N 3\nlong f(long x) {\n"))
        self.assertFalse(cpp.batchable(CPP + "#include <vector> \\\n\nlong f(long x) {\n"))
        self.assertTrue(cpp.batchable(CPP + "long f(long x) {\n"))
        unsplit = make_task("cpp", CPP + "long f(long x) {\n", "f", ("assert(true);",), (), task_id="cpp/unsplit")
        python = make_task("python", "def f(x):\n", "f", ("assert f(1) == 2",), (), task_id="py/f")
        self.assertFalse(expected_batch.eligible(unsplit))
        self.assertFalse(expected_batch.eligible(python))
        self.assertEqual(expected_batch.plan([ADD], ExecutionConfig(), None, 2), {})  # one task: no batch


def harness_task(name, prompt, entry_point, value):
    return make_task("cpp", CPP + prompt, entry_point, (f"assert(candidate((1)) == ({value}));",), (),
                     task_id=f"cpp/{name}")


# Harnesses in one compile: each entry point at global scope, so clashing prompts are built alone
HARNESSES = [harness_task("g", "long g(long x) {\n", "g", "2"), harness_task("h", "std::string h(long x) {\n", "h", '"1"'),
             harness_task("f_long", "struct P { long a; };\nlong f(long x) {\n", "f", "2"),
             harness_task("f_text", "struct P { std::string s; };\nstd::string f(long x) {\n", "f", '"1"'),
             harness_task("k", "#define TWICE(x) ((x) * 2)\nlong k(long x) {\n", "k", "TWICE(1)")]
HARNESS_ANSWERS = {"g": "long g(long x) { return x + 1; }\n", "h": "std::string h(long x) { return std::to_string(x); }\n",
                   "f_long": "long f(long x) { return x + 1; }\n",
                   "f_text": "std::string f(long x) { return std::to_string(x); }\n", "k": "long k(long x) { return 2; }\n"}


def symbols(path, *flags):
    done = subprocess.run([cpp.toolchain("cpp").tools["nm"], *flags, "--format=posix", path],
                          capture_output=True, text=True, check=True)
    return [line.split()[0] for line in done.stdout.splitlines()]


class CppHarnessBatchTest(unittest.TestCase):
    """cpp.prepare_many: a batch's harness objects from one compile, each judging as its own."""

    def setUp(self):
        if missing("cpp"):
            self.skipTest(missing("cpp"))
        self.root = tempfile.mkdtemp(dir=os.path.expanduser("~"))
        self.addCleanup(lambda: __import__("shutil").rmtree(self.root, True))
        real = cpp._harness_path
        for patch in (mock.patch.dict(os.environ, {"CODESELF_EXPECTED_CACHE": self.root}),
                      mock.patch.object(cpp, "_harness_path", lambda *part: os.path.join(
                          self.root, os.path.basename(real(*part))))):
            patch.start()
            self.addCleanup(patch.stop)

    def parts(self, tasks):
        return [(task.entry_point, program._splits(program.task_tests(task)), program._prompt(task)) for task in tasks]

    def test_one_compile_builds_the_harnesses_that_do_not_clash(self):
        parts = self.parts(HARNESSES)
        compiles = []
        real_run = cpp.subprocess.run

        def run(argv, *args, **kwargs):
            if "-c" in argv:
                compiles.append(argv[argv.index("-c") + 1])
            return real_run(argv, *args, **kwargs)
        with mock.patch.object(cpp.subprocess, "run", side_effect=run):
            cpp.prepare_many(parts)
        built = [os.path.exists(cpp._harness_path(*part)) for part in parts]
        # g++ names f_text's clashing lines (and notes f_long's): both wait for their own compile,
        # as does k (a #define would reach the parts after it); g and h come from the batch's second compile
        self.assertEqual(built, [True, True, False, False, False])
        self.assertEqual(compiles, ["lean.cpp", "lean.cpp"])
        names = symbols(cpp._harness_path(*parts[0]), "--defined-only", "--extern-only")
        self.assertIn("main", names)
        self.assertFalse([name for name in names if name.startswith(cpp.BATCH_MAIN)], names)

    def test_batch_built_harnesses_judge_as_their_own(self):
        # h's answer also defines g (another part's entry point) and a batch entry's name: nothing changes
        intruding = HARNESS_ANSWERS["h"] + 'long g(long x) { return 0; }\nextern "C" int codeself_main0() { return 0; }\n'
        with Executor(ExecutionConfig(workers=1)) as executor:
            results = list(executor.run_many((task, HARNESS_ANSWERS[task.task_id[4:]]) for task in HARNESSES))
            self.assertTrue(all(os.path.exists(cpp._harness_path(*part)) for part in self.parts(HARNESSES)))
            # g's object came from the batch: h's entry point is in it, as an undefined symbol nothing uses
            self.assertTrue([name for name in symbols(cpp._harness_path(*self.parts(HARNESSES)[0]), "--undefined-only")
                             if name.startswith("_Z1h")])
            self.assertEqual([r.status for r in results], ["passed"] * 5, [r.message for r in results])
            self.assertEqual(executor.run(HARNESSES[1], intruding).status, "passed")
            # the batch's object still needs the candidate's own entry point (other parts' it does not)
            missing_entry = executor.run(HARNESSES[0], "long other(long x) { return x + 1; }\n")
        self.assertEqual(missing_entry.status, "compile_error")
        self.assertIn("undefined reference", missing_entry.message)
        # the same message from g's harness built alone: the batch's part reads as a harness of its own
        os.remove(cpp._harness_path(*self.parts(HARNESSES)[0]))
        with Executor(ExecutionConfig(workers=1)) as executor:
            alone = executor.run(HARNESSES[0], "long other(long x) { return x + 1; }\n")
        self.assertFalse(symbols(cpp._harness_path(*self.parts(HARNESSES)[0]), "--undefined-only").count("_Z1hB5cxx11l"))
        self.assertEqual(alone.message, missing_entry.message)


class OtherLanguagesBatchTest(unittest.TestCase):
    """Rust modules, Java classes and JavaScript expressions: each task's verdicts from a batch."""

    CASES = {
        "rust": ("use std::collections::HashMap;\nfn f(x: i64) -> i64 {\n", "assert_eq!(candidate({0}), {1});",
                 "fn f(x: i64) -> i64 {{ x + {0} }}\n"),
        "js": ("function f(x) {\n", "assert.deepEqual(candidate({0}),{1});", "function f(x) {{ return x + {0}; }}\n"),
        # every task's class is Problem: renamed in the batch
        "java": ("import java.util.*;\nclass Problem {\n    public static long f(long x) {\n", "assert(f({0}l) == ({1}l));",
                 "class Problem {{ public static long f(long x) {{ return x + {0}; }} }}\n"),
    }

    def test_rust_java_and_javascript(self):
        for language, (prompt, test, answer) in self.CASES.items():
            if missing(language):
                continue
            with self.subTest(language):
                results, runs, alone = run_batched(language, prompt, test, ["6", "7", "8"], answer.format(1))
                self.assertEqual((runs, alone), ([(f"{language}/t0", f"{language}/t1", f"{language}/t2")], []))
                self.assertEqual([(r.status, [t.passed for t in r.tests]) for r in results],
                                 [("passed", [True, True]), ("failed", [True, False]), ("failed", [True, False])])

    def test_a_rust_batch_that_does_not_compile_is_halved(self):
        if missing("rust"):
            self.skipTest(missing("rust"))
        prompt, test, answer = self.CASES["rust"]
        # the last does not compile (i64 against &str)
        results, runs, alone = run_batched("rust", prompt, test, ["6", "7", "8", '"eight"'], answer.format(1))
        # rustc's errors are not read: halves, until the broken task stands alone (with t2)
        self.assertEqual(runs, [("rust/t0", "rust/t1", "rust/t2", "rust/t3"), ("rust/t0", "rust/t1"),
                                ("rust/t2", "rust/t3"), ("rust/t2",), ("rust/t3",)])
        self.assertEqual(len(alone), 2)
        self.assertEqual([r.status for r in results], ["passed", "failed", "failed", "failed"])
        self.assertEqual(results[3].error_type, "BrokenTest")

    def test_a_program_that_stops_within_a_task_runs_the_tasks_after_it_again(self):
        if missing("js"):
            self.skipTest(missing("js"))
        prompt, test, answer = self.CASES["js"]
        # the second task's tests program ends the process
        results, runs, alone = run_batched("js", prompt, test, ["6", "process.exit(0)", "7", "8"], answer.format(1))
        self.assertEqual(runs, [("js/t0", "js/t1", "js/t2", "js/t3"), ("js/t2", "js/t3")])
        self.assertEqual(len(alone), 1)  # t1, alone: its value did not compute there either
        self.assertEqual([[t.error_type for t in r.tests] for r in results],
                         [[None, None], [None, "BrokenTest"], [None, "AssertionError"], [None, "AssertionError"]])


class CheckScriptTest(unittest.TestCase):
    def test_values_compare_exactly_but_maps_and_sets_in_any_order(self):
        same = expected_batch._canonical
        self.assertEqual(same({"a": 1, "b": (2, {3})}), same({"b": (2, {3}), "a": 1}))  # Rust's, Java's hashing
        self.assertEqual(same(float("nan")), same(float("nan")))
        for one, other in ((1, 1.0), (True, 1), ([1, 2], (1, 2)), ([1, 2], [2, 1]), (0.1, 0.1 + 1e-17 * 2 ** 4)):
            self.assertNotEqual(same(one), same(other), (one, other))

    def test_the_check_compares_every_task_a_batch_holds(self):
        if missing("js"):
            self.skipTest(missing("js"))
        prompt, test, _ = OtherLanguagesBatchTest.CASES["js"]
        tasks = [make_task("js", prompt, "f", (test.format(1, 2),), (test.format(5, value),), task_id=f"js/t{index}")
                 for index, value in enumerate(["6", "[7, 'x']", "{a: 8}"])]
        with tempfile.TemporaryDirectory() as root:
            path = os.path.join(root, "tasks.jsonl")
            with open(path, "w") as handle:
                handle.writelines(json.dumps(task.to_json()) + "\n" for task in tasks)
            done = support.run_script("check_expected_batches.py", path, "--workers", "1", "--quiet")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("3 of 3 tasks compared (the rest no batch holds), 0 differing", done.stderr)


if __name__ == "__main__":
    unittest.main()
