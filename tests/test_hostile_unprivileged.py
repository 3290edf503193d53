"""The sandbox path taken by ordinary users (no real root): run inside `unshare -Ur`.

There the worker is root only of a user namespace with a one-uid map, exactly like an
unprivileged user's, so it must create its own user namespace and strip the program's
capabilities with a nested one. Skipped when `unshare` or user namespaces are unavailable.
"""

import json
import shutil
import subprocess
import sys
import unittest

import support

SCRIPT = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor
PROBE = """import os, resource, socket
def probe():
    try:
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        raised = "raised"
    except (ValueError, OSError) as error:
        raised = type(error).__name__
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=1).close()
        network = "connected"
    except OSError as error:
        network = type(error).__name__
    return raised, os.getuid(), os.path.exists("/etc/passwd"), network
"""
task = Task(task_id="x/f", source="example", prompt="", entry_point="f", starter_code="",
            public_tests=("assert f(1) == 2",), hidden_tests=(), setup_code="",
            reference_solution=None, split=None, metadata={})
with Executor(ExecutionConfig(workers=1, timeout_s=2.0, static_scan=False)) as executor:
    observed = executor.call_function(PROBE, "probe", [[]], per_call_timeout_s=3.0)[0].value
    good = executor.run(task, "def f(x):\n    return x + 1\n")
    equal = executor.run(task, "class A:\n    __eq__ = lambda s, o: True\ndef f(x):\n    return A()\n")
    print(json.dumps({"isolation": executor.isolation, "observed": observed,
                      "good": good.status, "always_equal": equal.status}))
'''

# Java's warm compiler (languages/compile_server.py) makes a user namespace of its own here too
JAVA_SCRIPT = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor
prompt = "class Problem {\n    public static long f(long x) {\n"
task = Task(task_id="java/f", source="example", prompt=prompt, entry_point="f", starter_code=prompt,
            public_tests=("assert(f((1l)) == (2l));",), hidden_tests=(), setup_code="",
            reference_solution=None, split=None, language="java")
with Executor(ExecutionConfig(workers=1, timeout_s=2.0)) as executor:
    runs = [executor.run(task, prompt + "        return " + body + ";\n    }\n}\n") for body in ("x + 1", "y", "x + 1")]
    sys.path.insert(0, sys.argv[2])
    from language_cases import descendants, is_compile_server
    servers = sum(map(is_compile_server, descendants(executor.worker_pids()[0])))
    print(json.dumps({"isolation": executor.isolation, "runs": [[r.status, r.message[:200]] for r in runs],
                      "servers": servers}))
'''


class UnprivilegedPathTest(unittest.TestCase):
    def setUp(self):
        self.unshare = shutil.which("unshare")
        if self.unshare is None:
            self.skipTest("util-linux `unshare` not installed")
        if subprocess.run([self.unshare, "-Ur", "true"], capture_output=True).returncode != 0:
            self.skipTest("user namespaces are not available to this process")

    def test_java_compiles_on_the_warm_compiler_as_namespace_root(self):
        from codeself.execution.languages.toolchains import missing

        if missing("java"):
            self.skipTest(missing("java"))
        done = subprocess.run([self.unshare, "-Ur", sys.executable, "-c", JAVA_SCRIPT, str(support.REPO_ROOT / "src"),
                               str(support.REPO_ROOT / "tests")], capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        report = json.loads(done.stdout)
        self.assertEqual(report["isolation"], "namespaces")
        self.assertEqual([status for status, _ in report["runs"]], ["passed", "compile_error", "passed"])
        self.assertIn("cannot find symbol", report["runs"][1][1])
        self.assertEqual(report["servers"], 1)  # compiled by the worker's warm javac, not in the child

    def test_sandbox_as_namespace_root(self):
        unshare = self.unshare
        done = subprocess.run([unshare, "-Ur", sys.executable, "-c", SCRIPT, str(support.REPO_ROOT / "src")],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        report = json.loads(done.stdout)
        self.assertEqual(report["isolation"], "namespaces")
        raised, uid, etc_passwd, network = report["observed"]
        self.assertIn(raised, ("ValueError", "PermissionError"))
        self.assertEqual((uid, etc_passwd), (65534, False))
        self.assertNotEqual(network, "connected")
        self.assertEqual((report["good"], report["always_equal"]), ("passed", "failed"))


if __name__ == "__main__":
    unittest.main()
