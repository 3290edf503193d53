"""Pre-started single-use interpreters (execution/supervise.prestart): after a JavaScript job
the worker's next child starts node before its job exists.

Checked: the jobs after the first run in a pre-started node and judge as a freshly started
one does (a right answer passes, a wrong one fails, `require.main` is still the harness's
module, a hostile answer still fails); a job of another language after it gets a plain child;
each node serves one job. And the call behind the job's CPU limit: root without
CAP_SYS_RESOURCE limits a program of the sandbox uid by taking that uid for the call.
"""

import os
import resource
import signal
import unittest
from unittest import mock

import support  # noqa: F401
from language_cases import make_task
from codeself.execution import ExecutionConfig, Executor, sandbox
from codeself.execution.languages.toolchains import missing

JS = make_task("js", "function f(x) {\n", "f", ("assert.deepEqual(candidate(1),2);",),
               ("assert.deepEqual(candidate(5),6);",), task_id="js/f")
PY = make_task("python", "def f(x):\n", "f", ("assert f(1) == 2",), (), task_id="py/f")
RIGHT = "function f(x) { return x + 1; }\n"
WRONG = "function f(x) { return x; }\n"
# the harness's module is require.main, as under `node main.js`
MAIN = "function f(x) { return require.main === module && require.main.filename.endsWith('main.js') ? x + 1 : 0; }\n"
# the job's files (written by the worker for a pre-started node) are the program's own, as when
# its child writes them
OWN = "function f(x) { const fs = require('fs'); const uid = process.getuid();\n" \
      "  return ['candidate.js', 'main.js', 'codeself_rt.js'].every(n => fs.statSync(n).uid === uid) ? x + 1 : 0; }\n"
# an early exit that reports success: still a failure
EXIT = "function f(x) { process.exit(0); }\n"


class PrestartTest(unittest.TestCase):
    def setUp(self):
        if missing("js"):
            self.skipTest(missing("js"))
        # expected values measured by each Executor: its first job is the tests program's (JavaScript)
        patch = mock.patch.dict(os.environ, {"CODESELF_EXPECTED_CACHE": "off"})
        patch.start()
        self.addCleanup(patch.stop)

    def run_recorded(self, executor, jobs):
        """Results of `jobs` run one at a time, and whether each ran in a pre-started node."""
        replies = []
        dispatch = executor._dispatch

        def recording(job, *args, **kwargs):
            reply = dispatch(job, *args, **kwargs)
            if job.native is not None and "main.js" in job.native["files"] and \
                    "candidate.js" in job.native["files"]:
                replies.append(reply.prestarted)
            return reply
        with mock.patch.object(executor, "_dispatch", side_effect=recording):
            results = [executor.run(task, answer) for task, answer in jobs]
        return results, replies

    def test_later_jobs_run_in_a_prestarted_node_and_judge_alike(self):
        for level in ("namespaces", "rlimits"):
            with self.subTest(sandbox=level), Executor(ExecutionConfig(workers=1, sandbox=level)) as executor:
                jobs = [(JS, RIGHT), (JS, WRONG), (JS, MAIN), (JS, EXIT), (JS, OWN), (JS, RIGHT)]
                results, prestarted = self.run_recorded(executor, jobs)
                self.assertEqual([r.status for r in results],
                                 ["passed", "failed", "passed", "runtime_error", "passed", "passed"],
                                 [r.message for r in results])
                # the tests program ran first, on a plain child; every answer after it found a node
                self.assertEqual(prestarted, [True] * 6)
                # with pre-starting off, the same answer in a plain child, passing alike
                with Executor(ExecutionConfig(workers=1, sandbox=level, prestart_interpreters=False)) as plain:
                    results, prestarted = self.run_recorded(plain, [(JS, OWN)])
                self.assertEqual(([r.status for r in results], prestarted), (["passed"], [False]))

    def test_another_language_after_it_gets_a_plain_child(self):
        with Executor(ExecutionConfig(workers=1)) as executor:
            results, prestarted = self.run_recorded(
                executor, [(JS, RIGHT), (PY, "def f(x):\n    return x + 1\n"), (JS, RIGHT), (JS, RIGHT)])
        self.assertEqual([r.status for r in results], ["passed"] * 4, [r.message for r in results])
        # the node started after the first answer was not used by the Python job; the answer after
        # that found a plain child, the next one a node again
        self.assertEqual(prestarted, [True, False, True])


class LimitOtherTest(unittest.TestCase):
    def test_root_limits_a_program_of_the_sandbox_uid(self):
        if not sandbox.is_host_root():
            self.skipTest("the uid-swapping path is root's")
        uid = 2_000_500_000
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # a process of the sandbox uid waiting, as a pre-started interpreter does
            try:
                os.close(write)
                sandbox.become_user(uid)
                os.read(read, 1)
            finally:
                os._exit(0)
        os.close(read)
        try:
            sandbox.limit_other(pid, {"cpu": 7}, uid)
            self.assertEqual(resource.prlimit(pid, resource.RLIMIT_CPU), (7, 7))
            self.assertEqual((os.getresuid(), os.getresgid()), ((0, 0, 0), (0, 0, 0)))
            with self.assertRaises(PermissionError):  # not its uid, no capability: refused, not ignored
                with mock.patch.object(sandbox, "apply_rlimits", side_effect=PermissionError(1, "refused")):
                    sandbox.limit_other(pid, {"cpu": 5})
        finally:
            os.close(write)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)


if __name__ == "__main__":
    unittest.main()
