"""Hostile candidate programs: each must fail cleanly, the batch completes, nothing survives.

Every program here stays harmless even if the sandbox under test were broken: forks are
bounded (at most 50, each sleeping at most 20 s), memory bombs stop at 4 GiB, files are
only written under a temp directory this test creates, and nothing signals -1.
Most run with the static scan off, so the sandbox itself is what is tested.
"""

import os
import shutil
import socket
import tempfile
import time
import unittest

import support  # noqa: F401
from support import descendants
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor
from codeself.execution import sandbox as isolation

SECRET = "zq-secret-7731"
FALLBACK_SECRET = "zq-fallback-9"


def make_task(entry_point="f", public=("assert f(1) == 2",), hidden=("assert f(2) == 3",), **metadata):
    return Task(task_id="hostile/" + entry_point, source="example", prompt="", entry_point=entry_point,
                starter_code="", public_tests=tuple(public), hidden_tests=tuple(hidden), setup_code="",
                reference_solution=None, split=None, metadata=dict(metadata))


# Searches everything a candidate can reach for text shaped like an expected value:
# "zq-secret-<digits>" / "zq-fallback-<digits>" (the pattern itself has no digit after it).
SEARCH = '''
import gc, os, re, sys
SHAPE = re.compile(r"zq-(secret|fallback)-[0-9]")
BYTES_SHAPE = re.compile(rb"zq-(secret|fallback)-[0-9]")
def look(value, found):
    if isinstance(value, str) and SHAPE.search(value):
        found.append(value)
    elif isinstance(value, (bytes, bytearray)) and BYTES_SHAPE.search(value):
        found.append("bytes")
def search(extra_paths):
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            for key, value in list(obj.items()):
                look(key, found); look(value, found)
        elif isinstance(obj, (list, tuple, set, frozenset)):
            for value in list(obj):
                look(value, found)
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            look(value, found)
        frame = frame.f_back
    for value in os.environ.values():
        look(value, found)
    paths = ["/proc/self/cmdline", "/proc/self/environ", "/proc/%d/cmdline" % os.getppid(),
             "/proc/%d/environ" % os.getppid(), "/proc/1/cmdline", "/proc/1/environ"] + extra_paths
    for path in paths:
        try:
            with open(path, "rb") as handle:
                look(handle.read(1 << 24), found)
        except (OSError, ValueError):
            pass
    try:
        with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb") as mem:
            budget = 1 << 28
            for line in maps:
                start, end = (int(x, 16) for x in line.split()[0].split("-"))
                if "r" not in line.split()[1] or end - start > budget:
                    continue
                try:
                    mem.seek(start); look(mem.read(end - start), found)
                except (OSError, ValueError, OverflowError):
                    pass
                budget -= end - start
    except OSError:
        pass
    return found
'''


class HostileBatchBase:
    """Runs every hostile program in one run_many batch; each test checks one result."""

    sandbox = "auto"
    config_overrides: dict = {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.task_file = os.path.join(cls.tmp.name, "tasks.jsonl")
        with open(cls.task_file, "w") as handle:
            handle.write(f'{{"hidden": "{SECRET}", "fallback": "{FALLBACK_SECRET}"}}\n')
        os.chmod(cls.task_file, 0o600)
        # 0.5 s per test: the endless loops wait it out, and under load once more x the measured
        # slowdown (rerun.py); every other program ends in milliseconds or is stopped by its own limit
        config = ExecutionConfig(workers=2, sandbox=cls.sandbox, timeout_s=0.5, program_timeout_s=4.0,
                                 memory_mb=512, static_scan=False, **cls.config_overrides)
        cls.executor = Executor(config)
        cls.worker_pids = sorted(cls.executor.worker_pids())
        cls.programs = cls.hostile_programs()
        started = time.monotonic()
        cls.results = dict(zip(cls.programs, cls.executor.run_many(cls.programs.values())))
        cls.batch_seconds = time.monotonic() - started

    @classmethod
    def tearDownClass(cls):
        cls.executor.close()
        cls.tmp.cleanup()

    @classmethod
    def hostile_programs(cls):
        outside = os.path.join(cls.tmp.name, "escaped.txt")
        plain = make_task()
        secret_task = make_task(public=("assert f(1) == 'nothing'",),
                                hidden=(f"assert f(2) == {SECRET!r}",
                                        f"x = f(3)\nassert x == {FALLBACK_SECRET!r}"))
        return {
            "always_equal": (plain, "class A:\n    def __eq__(self, o): return True\n"
                                    "    __hash__ = object.__hash__\ndef f(x): return A()\n"),
            "int_subclass": (plain, "class I(int):\n    def __eq__(self, o): return True\n"
                                    "    __hash__ = int.__hash__\ndef f(x): return I(0)\n"),
            "exit_at_import": (plain, "import sys\nsys.exit(0)\ndef f(x): return x + 1\n"),
            "os_exit_at_import": (plain, "import os\nos._exit(0)\n"),
            "os_exit_in_test": (plain, "import os\ndef f(x):\n    os._exit(0)\n"),
            "atexit": (plain, "import atexit, os\natexit.register(lambda: os.write(1, b'PASSED'))\n"
                              "def f(x):\n    raise SystemExit(0)\n"),
            "base_exceptions": (make_task(public=("assert f(1) == 2",), hidden=("assert f(2) == 3", "assert f(3) == 4")),
                                "def f(x):\n    if x == 1: raise KeyboardInterrupt\n"
                                "    if x == 2: raise BaseException('no')\n    return x + 1\n"),
            "signal_games": (plain, "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                    "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                                    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                    "def f(x):\n    while True: pass\n"),
            "self_segv": (plain, "import os, signal\ndef f(x):\n    os.kill(os.getpid(), signal.SIGSEGV)\n"
                                 "    return None\n"),
            "fork_bomb": (plain, "import os, time\ndef f(x):\n    for _ in range(50):\n"
                                 "        try:\n            pid = os.fork()\n        except OSError:\n            break\n"
                                 "        if pid == 0:\n            time.sleep(20)\n            os._exit(0)\n"
                                 "    return x + 1 if x == 1 else 0\n"),
            "setsid_escapee": (plain, "import os, time\ndef f(x):\n    if os.fork() == 0:\n        os.setsid()\n"
                                      "        if os.fork() == 0:\n            time.sleep(20)\n        os._exit(0)\n"
                                      "    time.sleep(0.2)\n    return 0\n"),
            "exit_leaving_escapee": (plain, "import os, time\ndef f(x):\n    if os.fork() == 0:\n"
                                            "        os.setsid()\n        time.sleep(20)\n        os._exit(0)\n"
                                            "    os._exit(0)\n"),
            "forged_answers": (make_task(public=("assert f(1) == 2",), hidden=("for i in range(2):\n    assert f(i) == -7",)),
                               "import os, json, struct\n"
                               "for frame in ({'ok': True}, {'values': [2]}, {'ok': True}):\n"
                               "    body = json.dumps(frame).encode()\n"
                               "    os.write(4, struct.pack('>I', len(body)) + body)\n"
                               "def f(x):\n    return x + 1\n"),
            "memory_bomb": (plain, "def f(x):\n    hog = []\n    for _ in range(16):\n"
                                   "        hog.append(bytes(256 * 2**20))\n    return x + 1\n"),
            "output_bomb": (plain, "def f(x):\n    while True:\n        print('x' * 1000)\n"),
            "stdin_read": (plain, "def f(x):\n    return int(input()) + 1\n"),
            "kill_parent": (plain, "import os, signal\ndef f(x):\n    for target in (os.getppid(), 0):\n"
                                   "        try:\n            os.kill(target, signal.SIGKILL)\n"
                                   "        except OSError:\n            pass\n    return 0\n"),
            "hidden_search": (secret_task, SEARCH + f"def f(x):\n    found = search({cls.readable_files()!r})\n"
                                                    "    print(x, found)\n    return found[0] if found else 'nothing'\n"),
            "write_outside": (plain, f"def f(x):\n    try:\n        open({outside!r}, 'w').write('hi')\n"
                                     "    except OSError:\n        pass\n    return 0\n"),
            "slow_then_ok": (make_task(public=("assert f(1) == 2",), hidden=("assert f(2) == 3",)),
                             "def f(x):\n    return x + 1\n"),
        }

    @classmethod
    def readable_files(cls):
        """Host files the search tries; the rlimits sandbox cannot hide files (docs/safety.md)."""
        return [cls.task_file]

    def result(self, name):
        return self.results[name]

    def assert_clean_failure(self, name, *statuses):
        result = self.result(name)
        self.assertFalse(result.passed, name)
        self.assertEqual(result.isolation, self.executor.isolation)
        if statuses:
            self.assertIn(result.status, statuses, (name, result.message))
        return result

    def test_always_equal_object_fails(self):
        result = self.assert_clean_failure("always_equal", "failed")
        self.assertEqual(result.tests[0].error_type, "UnsupportedValue")

    def test_int_subclass_fails(self):
        result = self.assert_clean_failure("int_subclass", "failed")
        self.assertEqual(result.public["passed"] + result.hidden["passed"], 0)

    def test_exit_zero_at_import_fails(self):
        result = self.assert_clean_failure("exit_at_import", "import_error")
        self.assertEqual(result.error_type, "SystemExit")

    def test_os_exit_fails(self):
        self.assert_clean_failure("os_exit_at_import", "runtime_error")
        result = self.assert_clean_failure("os_exit_in_test", "runtime_error")
        self.assertEqual(result.phase, "public_tests")
        self.assertEqual([t.error_type for t in result.tests], ["ProcessDied", "NotRun"])

    def test_atexit_and_system_exit_in_function_fail(self):
        result = self.assert_clean_failure("atexit", "failed")
        self.assertEqual({t.error_type for t in result.tests}, {"SystemExit"})
        self.assertNotIn("PASSED", result.stdout_tail)

    def test_base_exceptions_fail_only_their_tests(self):
        result = self.assert_clean_failure("base_exceptions", "failed")
        self.assertEqual([t.error_type for t in result.tests], ["KeyboardInterrupt", "BaseException", None])
        self.assertEqual(result.hidden, {"passed": 1, "total": 2})

    def test_signal_games_still_time_out(self):
        result = self.assert_clean_failure("signal_games", "timeout")
        self.assertEqual(result.tests[0].error_type, "Timeout")

    def test_self_sigsegv_fails(self):
        self.assert_clean_failure("self_segv", "failed", "runtime_error")

    def test_fork_bomb_and_escapees_leave_nothing(self):
        self.assert_clean_failure("fork_bomb", "failed")
        self.assert_clean_failure("setsid_escapee", "failed")
        self.assert_no_leftovers()

    def test_forged_answer_frames_fail(self):
        result = self.assert_clean_failure("forged_answers", "runtime_error")
        self.assertEqual(result.error_type, "MalformedAnswer")

    def test_exit_is_seen_while_an_escapee_holds_the_pipes(self):
        result = self.assert_clean_failure("exit_leaving_escapee", "runtime_error")
        self.assertEqual(result.tests[0].error_type, "ProcessDied")
        self.assert_no_leftovers()

    def assert_no_leftovers(self):
        # worker (+ its forker and the forker's waiting child; under bwrap also bubblewrap's own pid-1 process)
        idle = {"namespaces": 3, "bwrap": 4}.get(self.executor.isolation, 2)
        for _ in range(50):
            counts = [len(descendants(pid)) for pid in self.executor.worker_pids()]
            if all(count <= idle for count in counts):
                break
            time.sleep(0.05)
        self.assertTrue(all(count <= idle for count in counts), counts)

    def test_memory_bomb_is_memory_error(self):
        result = self.assert_clean_failure("memory_bomb", "memory_error")
        self.assertEqual(result.tests[0].error_type, "MemoryError")

    def test_output_bomb_is_bounded(self):
        result = self.assert_clean_failure("output_bomb", "timeout")
        self.assertLessEqual(len(result.stdout_tail.encode()), self.executor.config.max_output_bytes)
        self.assertGreater(len(result.stdout_tail), 1000)

    def test_stdin_read_fails_fast(self):
        result = self.assert_clean_failure("stdin_read", "failed")
        self.assertEqual(result.tests[0].error_type, "EOFError")
        self.assertLess(result.duration_s, 1.0)

    def test_killing_the_parent_fails_and_batch_recovers(self):
        self.assert_clean_failure("kill_parent", "failed", "runtime_error")
        self.assertTrue(self.result("slow_then_ok").passed)
        after = self.executor.run(*self.programs["slow_then_ok"])
        self.assertTrue(after.passed, after.message)

    def test_hidden_expected_values_are_unreachable(self):
        result = self.result("hidden_search")
        self.assertEqual(result.public, {"passed": 1, "total": 1}, result.tests)  # ran, found nothing
        self.assertFalse(result.tests[1].passed)  # the split hidden test cannot be read
        self.assertEqual(result.stdout_tail.splitlines()[:2], ["1 []", "2 []"])  # nor the later fallback
        self.assertNotIn(SECRET, repr(result.to_json()))
        # A fallback test runs in the candidate's process by definition: its own snippet is
        # reachable while it runs, which is why results count tests judged in-process.
        self.assertTrue(result.tests[2].judged_in_process)
        self.assertEqual(result.tests_judged_in_process, 1)



class HostileNamespacesTest(HostileBatchBase, unittest.TestCase):
    sandbox = "auto"

    def observe(self, body):
        """Run `def probe(): ...` in the sandbox and return what it returned."""
        outcome = self.executor.call_function(body, "probe", [[]], per_call_timeout_s=2.0)[0]
        self.assertTrue(outcome.ok, outcome)
        return outcome.value

    def setUp(self):
        if self.executor.isolation != "namespaces":
            self.skipTest("kernel offers no user/PID namespaces here; rlimits tests cover the fallback")

    def test_no_program_could_kill_its_worker(self):
        # kill(getppid()), kill(0, SIGKILL), signal games: none reaches a worker here
        self.assertEqual(sorted(self.executor.worker_pids()), self.worker_pids)

    def test_no_network(self):
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            port = server.getsockname()[1]
            body = ("import socket\ndef probe():\n    try:\n"
                    f"        socket.create_connection(('127.0.0.1', {port}), timeout=1).close()\n"
                    "        return 'connected'\n    except OSError as e:\n        return type(e).__name__\n")
            self.assertNotEqual(self.observe(body), "connected")

    def test_host_files_environment_and_parent_are_invisible(self):
        body = ("import os\ndef probe():\n    seen = []\n"
                f"    for path in ('/etc/passwd', {self.task_file!r}, '/proc/1/cmdline', '/home', '/work', '/root/.bashrc'):\n"
                "        seen.append(os.path.exists(path))\n"
                "    return seen, dict(os.environ), os.getppid()\n")
        exists, environ, parent = self.observe(body)
        self.assertEqual(exists, [False] * 6)
        self.assertEqual(environ, {})
        self.assertEqual(parent, 0)  # the parent is outside its PID namespace

    def test_rlimits_cannot_be_raised_and_uid_is_unprivileged(self):
        body = ("import os, resource\ndef probe():\n    try:\n"
                "        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
                "        raised = 'raised'\n    except (ValueError, OSError) as e:\n        raised = type(e).__name__\n"
                "    return raised, os.getuid()\n")
        raised, uid = self.observe(body)
        self.assertIn(raised, ("ValueError", "PermissionError"))
        if isolation.is_host_root():  # a uid of this worker's own (RLIMIT_NPROC counts per uid)
            config = self.executor.config
            self.assertIn(uid, range(config.sandbox_uid_base, config.sandbox_uid_base + config.sandbox_uid_count))
        else:  # a user namespace of its own, where the uid shows unmapped
            self.assertEqual(uid, 65534)

    def test_writing_outside_scratch_fails(self):
        self.assert_clean_failure("write_outside", "failed")
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "escaped.txt")))

    def test_real_segfault_is_runtime_error(self):
        program = "import ctypes\ndef f(x):\n    return ctypes.c_char.from_address(8).value\n"
        result = self.executor.run(make_task(), program)
        self.assertEqual((result.status, result.error_type), ("runtime_error", "SIGSEGV"))


class HostileBwrapTest(HostileBatchBase, unittest.TestCase):
    """The optional bubblewrap sandbox: the batch plus the view, network and privilege checks."""

    sandbox = "bwrap"

    @classmethod
    def setUpClass(cls):
        if shutil.which("bwrap") is None:
            raise unittest.SkipTest("bubblewrap is not installed (apt-get install bubblewrap)")
        super().setUpClass()

    def observe(self, body):
        outcome = self.executor.call_function(body, "probe", [[]], per_call_timeout_s=2.0)[0]
        self.assertTrue(outcome.ok, outcome)
        return outcome.value

    def test_isolation_is_recorded(self):
        self.assertEqual(self.executor.isolation, "bwrap")
        self.assertEqual(self.result("always_equal").isolation, "bwrap")

    def test_no_network(self):
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            body = ("import socket\ndef probe():\n    try:\n"
                    f"        socket.create_connection(('127.0.0.1', {server.getsockname()[1]}), timeout=1).close()\n"
                    "        return 'connected'\n    except OSError as e:\n        return type(e).__name__\n")
            self.assertNotEqual(self.observe(body), "connected")

    def test_host_files_and_environment_are_invisible_and_uid_is_nobody(self):
        body = ("import os, resource\ndef probe():\n"
                f"    seen = [os.path.exists(p) for p in ('/etc/passwd', {self.task_file!r}, '/home', '/root/.bashrc')]\n"
                "    try:\n        resource.setrlimit(resource.RLIMIT_AS, (-1, -1))\n        raised = 'raised'\n"
                "    except (ValueError, OSError) as e:\n        raised = type(e).__name__\n"
                "    return seen, dict(os.environ), os.getuid(), raised\n")
        seen, environ, uid, raised = self.observe(body)
        self.assertEqual((seen, environ, uid), ([False] * 4, {}, 65534))
        self.assertIn(raised, ("ValueError", "PermissionError"))

    def test_writing_outside_scratch_fails(self):
        self.assert_clean_failure("write_outside", "failed")
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "escaped.txt")))


class HostileRlimitsTest(HostileBatchBase, unittest.TestCase):
    """The fallback sandbox: same holes must stay closed (network and files are its gaps)."""

    sandbox = "rlimits"

    @classmethod
    def readable_files(cls):
        return []

    def test_rlimits_cannot_be_raised(self):
        body = ("import resource\ndef probe():\n    try:\n"
                "        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
                "        return 'raised'\n    except (ValueError, OSError) as e:\n        return type(e).__name__\n")
        outcome = self.executor.call_function(body, "probe", [[]], per_call_timeout_s=2.0)[0]
        self.assertIn(outcome.value, ("ValueError", "PermissionError"))


class StaticScanTest(unittest.TestCase):
    """With the scan on, clearly hostile programs are refused before running."""

    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(workers=1, timeout_s=1.0))

    @classmethod
    def tearDownClass(cls):
        cls.executor.close()

    def test_blocked_programs(self):
        for program in ("import ctypes\ndef f(x):\n    return ctypes.string_at(0, 1)\n",
                        "import os\ndef f(x):\n    os.fork()\n    return x + 1\n",
                        "import socket\ndef f(x):\n    return x + 1\n"):
            result = self.executor.run(make_task(), program)
            self.assertEqual(result.status, "blocked", program)
            self.assertEqual(result.blocked_reason, result.message)
            self.assertEqual(result.tests, ())


if __name__ == "__main__":
    unittest.main()
