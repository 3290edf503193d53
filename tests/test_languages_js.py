"""JavaScript through the sandbox: verdicts made in the parent, hostile programs fail cleanly."""

import dataclasses
import os
import unittest
from unittest import mock

import support
from language_cases import SECRET, BatchMixin, make_task, references_or_none
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor
from codeself.execution.languages import program
from codeself.execution.languages.equality import js_deep_equal, js_string_to_number

PROMPT = "// add one\nfunction f(x){\n"


def task(public=("assert.deepEqual(candidate(1),2);",),
         hidden=("assert.deepEqual(candidate(2),3);", "assert.deepEqual(candidate(5),6);")):
    return make_task("js", PROMPT, "f", public, hidden)


FRAME = ("const fs = require('fs');\n"
         "for (const b of ['{\"ok\":true}', '{\"values\":[2]}', '{\"values\":[3]}', '{\"values\":[6]}']) {\n"
         "  const p = Buffer.from(b), h = Buffer.alloc(4); h.writeUInt32BE(p.length);\n"
         "  fs.writeSync(4, Buffer.concat([h, p]));\n}\n")


class JavaScriptTest(BatchMixin, unittest.TestCase):
    """The hostile programs and MultiPL-E's reference answers of the first five HumanEval tasks
    (when the data is there), in one batch."""

    LANGUAGE = "js"

    @classmethod
    def cases(cls):
        plain = task()
        looping = dataclasses.replace(plain, metadata={"timeout_s": 0.25})
        references = {task.task_id: (task, answer) for task, answer in references_or_none("js", "js", 5)}
        cls.references = list(references)
        return {
            # first, so that they start first: the loop (waits out a limit) and the memory bomb
            # the loop's own limit, 0.25 s a test (task metadata timeout_s; the others keep the batch's 1 s):
            # an endless loop waits it out, and under load once more x the slowdown measured then
            "endless_loop": (looping, "function f(x) { for (;;) {} }\n"),
            "memory_bomb": (plain, "function f(x) { const a = [];\n"
                                   "  for (let i = 0; i < 64; i++) a.push(Buffer.alloc(64 * 2 ** 20, 1));\n"
                                   "  return x + 1; }\n"),
            **references,
            "correct": (plain, "function f(x) { return x + 1; }\n"),
            "continuation": (plain, PROMPT + "  return x + 1;\n}\n"),
            "wrong": (plain, "function f(x) { return x === 1 ? 2 : 0; }\n"),
            "loose_string": (plain, "function f(x) { return String(x + 1); }\n"),  # deepEqual('2', 2) holds
            "syntax": (plain, "function f(x) { return x + ; }\n"),
            "missing_entry": (plain, "function g(x) { return x + 1; }\n"),
            "throws": (plain, "function f(x) { if (x > 1) throw new RangeError('no'); return 2; }\n"),
            "exit_at_load": (plain, "process.exit(0);\nfunction f(x) { return x + 1; }\n"),
            "exit_in_call": (plain, "function f(x) { process.exitCode = 0; process.exit(0); }\n"),
            "patch_assert": (plain, "const a = require('node:assert'); a.deepEqual = () => {};\n"
                                    "require('assert').deepEqual = () => {};\nfunction f(x) { return 0; }\n"),
            "patch_builtins": (plain, "Array.isArray = () => false; JSON.stringify = () => '3';\n"
                                      "Object.keys = () => []; require('fs').writeSync = () => 0;\n"
                                      "function f(x) { return [x]; }\n"),
            "forged_frames": (plain, FRAME + "function f(x) { return 0; }\n"),
            "exit_handler": (plain, "process.on('exit', () => { process.exitCode = 0; });\n"
                                    "function f(x) { throw new Error('boom'); }\n"),
            "fork_bomb": (plain, "const cp = require('child_process');\nfunction f(x) {\n"
                                 "  for (let i = 0; i < 50; i++) {\n    try { cp.spawn('/bin/sleep', ['20'], "
                                 "{detached: true, stdio: 'ignore'}); } catch (e) { break; }\n  }\n  return 0; }\n"),
            "network": (plain, "function f(x) { const out = require('child_process').execFileSync(process.execPath,"
                               " ['-e', \"const s = require('net').connect({host: '1.1.1.1', port: 53});"
                               " s.on('connect', () => { console.log('CONNECTED'); process.exit(0); });"
                               " s.on('error', e => { console.log('NETERR ' + e.code); process.exit(0); });"
                               " setTimeout(() => { console.log('NETWAIT'); process.exit(0); }, 1000);\"]);\n"
                               "  console.log(String(out)); return 0; }\n"),
            "write_outside": (plain, f"function f(x) {{ try {{ require('fs').writeFileSync({cls.outside!r}, 'hi'); }}"
                                     " catch (e) {} return 0; }\n"),
            "hidden_search": (task(hidden=(f"assert.deepEqual(candidate(2),'{SECRET}');",)),
                              "const fs = require('fs');\nfunction walk(dir, found) {\n  let names = [];\n"
                              "  try { names = fs.readdirSync(dir); } catch (e) { return; }\n"
                              "  for (const name of names) { const p = dir + '/' + name;\n"
                              "    try { if (fs.statSync(p).isDirectory()) { if (found.length < 1000) walk(p, found); }"
                              " else if (String(fs.readFileSync(p)).includes(['zq', 'secret', '7731'].join('-'))) found.push(p); }"
                              " catch (e) {} } }\n"
                              "function f(x) { const found = []; walk('/tmp', found); walk(process.cwd(), found);\n"
                              "  if (process.argv.join(' ').includes(['zq', 'secret', '7731'].join('-'))) found.push('argv');\n"
                              "  console.log('FOUND', JSON.stringify(found)); return found.length ? 'found' : x + 1; }\n"),
        }

    def test_correct_and_continuation_pass(self):
        for name in ("correct", "continuation"):
            result = self.results[name]
            self.assertEqual((result.status, result.public, result.hidden),
                             ("passed", {"passed": 1, "total": 1}, {"passed": 2, "total": 2}), result.message)
            self.assertEqual(result.extra["language"], "js")

    def test_wrong_answer_fails_with_message(self):
        result = self.assert_fails("wrong", "failed")
        self.assertEqual((result.public["passed"], result.hidden["passed"]), (1, 0))
        self.assertEqual(result.error_category, "wrong_answer")
        # hidden tests never quote expected values
        self.assertEqual(result.tests[1].message, "hidden test failed: returned value of type int did not match")

    def test_loose_equality_as_node(self):
        self.assertTrue(self.results["loose_string"].passed, self.results["loose_string"].message)

    def test_syntax_error_is_compile_error(self):
        result = self.assert_fails("syntax", "compile_error")
        self.assertEqual((result.error_type, result.error_category), ("CompileError", "syntax"))
        self.assertIn("candidate.js:1", result.message)

    def test_missing_entry_and_exceptions(self):
        self.assertEqual(self.assert_fails("missing_entry", "import_error").error_type, "ReferenceError")
        result = self.assert_fails("throws", "failed")
        self.assertEqual([t.error_type for t in result.tests], [None, "RangeError", "RangeError"])

    def test_early_exit_and_exit_status_tricks_fail(self):
        self.assert_fails("exit_at_load", "runtime_error")
        self.assert_fails("exit_in_call", "runtime_error")
        self.assert_fails("exit_handler", "failed")

    def test_patching_assert_or_builtins_fails(self):
        self.assert_fails("patch_assert", "failed")
        self.assert_fails("patch_builtins", "failed")

    def test_forged_frames_fail(self):
        self.assertEqual(self.assert_fails("forged_frames", "runtime_error").error_type, "MalformedAnswer")

    def test_resources_bounded_and_nothing_left(self):
        self.assert_fails("endless_loop", "timeout")
        self.assert_fails("memory_bomb")
        self.assert_fails("fork_bomb", "failed")
        self.assert_no_leftovers()

    def test_no_network_no_host_writes_no_expected_values(self):
        network = self.assert_fails("network")
        self.assertNotIn("CONNECTED", network.stdout_tail)
        self.assert_fails("write_outside", "failed")
        self.assertFalse(os.path.exists(self.outside))
        search = self.assert_fails("hidden_search", "failed")
        self.assertIn('FOUND []', search.stdout_tail)

    def test_references_pass(self):
        """MultiPL-E's reference answers of the first HumanEval tasks pass (MultiPL-E passes them)."""
        if not self.references:
            support.data_file(self, "multipl-e/humaneval-js.jsonl")  # skips, saying why
        self.assertEqual(len(self.references), 5)
        for name in self.references:
            self.assertEqual(self.results[name].status, "passed", (name, self.results[name].message))


def python_task():
    return Task(task_id="py/x", source="example", prompt="", entry_point=None, starter_code="",
                public_tests=("assert x == 1",), hidden_tests=(), setup_code="", reference_solution=None, split=None)


class MissingToolchainTest(unittest.TestCase):
    def test_every_sample_of_a_language_without_its_toolchain_says_what_to_install(self):
        reason = "JavaScript needs node (Debian: apt-get install nodejs)"
        with mock.patch.object(program, "missing", lambda language: reason if language == "js" else ""), \
                Executor(ExecutionConfig(workers=1)) as executor:
            results = list(executor.run_many([(task(), "function f(x){ return x + 1; }"), (python_task(), "x = 1")]))
        self.assertEqual((results[0].status, results[0].error_type, results[0].message),
                         ("sandbox_error", "ToolchainMissing", reason))
        self.assertNotEqual(results[1].error_type, "ToolchainMissing")  # the batch went on


class LooseEqualityTest(unittest.TestCase):
    def test_node_legacy_deep_equal(self):
        # each pair checked against node 20's assert.deepEqual
        cases = [(1, "1", True), ("1.0", 1, True), (" 0x10 ", 16, True), ("", 0, True), (None, None, True),
                 ([1], 1, False), (True, 1, True), ([[1]], [["1"]], True), ({"a": None}, {}, False),
                 ({"a": 1, "b": 2}, {"b": 2, "a": 1}, True), (float("nan"), float("nan"), True),
                 ([1, 2], {"0": 1, "1": 2}, False), ("abc", float("nan"), False), (None, 0, False)]
        for left, right, equal in cases:
            self.assertEqual(js_deep_equal(left, right), equal, (left, right))

    def test_string_to_number(self):
        self.assertEqual(js_string_to_number(" 1e3\n"), 1000.0)
        self.assertEqual(js_string_to_number("-Infinity"), float("-inf"))
        self.assertNotEqual(js_string_to_number("1_000"), js_string_to_number("1_000"))  # NaN
        self.assertNotEqual(js_string_to_number("inf"), js_string_to_number("inf"))


if __name__ == "__main__":
    unittest.main()
