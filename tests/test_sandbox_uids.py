"""RLIMIT_NPROC bounds each sandbox alone: a program's threads never depend on its neighbours.

RLIMIT_NPROC counts per uid. When every worker's programs ran as uid 65534, a program holding
threads in one worker made a program in another fail to start its own (a JVM's dozen threads:
a wrong verdict). Each scenario runs two programs at once on two workers: one holds as many
threads as its limit allows for a moment, the other starts a few threads meanwhile. Both the
root path (a uid per worker, execution/uids.py) and the ordinary user's path (`unshare -Ur`: a
user namespace per program) are checked. Harmless even with a broken sandbox: threads only,
a bounded number, each ending by itself within seconds.
"""

import json
import os
import sys
import threading
import unittest

import support

from codeself.execution import ExecutionConfig, Executor, sandbox, uids

# max_processes of these Executors: below what their address-space limit allows (glibc reserves
# 64 MiB of address space per thread's malloc arena), so the thread count is bounded by RLIMIT_NPROC
LIMIT = 12
HOLDER = """import os, threading, time
def f():
    until = time.monotonic() + 1.0
    started = []
    for _ in range(40):
        try:
            thread = threading.Thread(target=lambda: time.sleep(max(0.0, until - time.monotonic())))
            thread.start()
        except RuntimeError:
            break
        started.append(thread)
    for thread in started:
        thread.join()
    return [len(started), os.getuid()]
"""
NEIGHBOUR = """import os, threading, time
def f():
    time.sleep(0.3)
    started = 0
    for _ in range(10):
        try:
            threading.Thread(target=time.sleep, args=(0.05,)).start()
        except RuntimeError:
            break
        started += 1
    return [started, os.getuid()]
"""


def run_side_by_side(config: ExecutionConfig) -> dict:
    """The holder's and the neighbour's [threads started, uid], run at once on two workers."""
    found = {}
    with Executor(config) as executor:
        def call(name, program):
            outcome = executor.call_function(program, "f", [[]], per_call_timeout_s=10.0)[0]
            found[name] = outcome.value if outcome.ok else f"{outcome.error_type}: {outcome.message}"

        threads = [threading.Thread(target=call, args=pair) for pair in (("holder", HOLDER), ("neighbour", NEIGHBOUR))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        found["isolation"] = executor.isolation
    return found


SCRIPT = """import json, sys
sys.path[:0] = sys.argv[1:3]  # tests/, src/
import test_sandbox_uids as case
from codeself.execution import ExecutionConfig
print(json.dumps(case.run_side_by_side(ExecutionConfig(workers=2, max_processes=case.LIMIT, static_scan=False))))
"""


class SandboxUidTest(unittest.TestCase):
    def assert_separate(self, found, isolation):
        self.assertEqual(found["isolation"], isolation)
        # the limit still binds each sandbox: the main thread plus LIMIT - 1 more
        self.assertEqual(found["holder"][0], LIMIT - 1, found)
        self.assertEqual(found["neighbour"][0], 10, found)

    def test_root_workers_get_uids_of_their_own(self):
        if not sandbox.is_host_root():
            self.skipTest("the per-worker uids are the real-root path")
        # rlimits as root keeps uid 0 when other uids cannot read the interpreter (pyenv under /root),
        # and the kernel never enforces RLIMIT_NPROC on uid 0: nothing to check there
        levels = ("namespaces", "rlimits") if _others_can_read(os.path.dirname(os.__file__)) else ("namespaces",)
        for level in levels:
            with self.subTest(sandbox=level):
                config = ExecutionConfig(workers=2, max_processes=LIMIT, static_scan=False, sandbox=level,
                                         sandbox_uid_base=2_000_100_000, sandbox_uid_count=64)
                found = run_side_by_side(config)
                self.assert_separate(found, level)
                used = {found["holder"][1], found["neighbour"][1]}
                self.assertEqual(len(used), 2, found)
                self.assertTrue(all(2_000_100_000 <= uid < 2_000_100_064 for uid in used), found)

    def test_unprivileged_path_counts_each_program_alone(self):
        """An ordinary user's Executor (its programs share one host uid, each in a user namespace
        of its own): run as an unprivileged uid with setpriv. (`unshare -Ur` as root would not
        do: the kernel never enforces RLIMIT_NPROC on host uid 0.)"""
        found = json.loads(support.run_unprivileged(self, SCRIPT, 2_000_300_000))
        self.assert_separate(found, "namespaces")
        self.assertEqual((found["holder"][1], found["neighbour"][1]), (65534, 65534))

    def test_claims_are_exclusive_and_released(self):
        first_uid, first = uids.claim(2_000_200_000, 2)
        second_uid, second = uids.claim(2_000_200_000, 2)
        self.assertEqual((first_uid, second_uid), (2_000_200_000, 2_000_200_001))
        with self.assertRaisesRegex(uids.NoFreeUid, "no free sandbox uid"):
            uids.claim(2_000_200_000, 2)
        first.close()
        again_uid, again = uids.claim(2_000_200_000, 2)
        self.assertEqual(again_uid, 2_000_200_000)
        for holder in (second, again):
            holder.close()


def _others_can_read(directory: str) -> bool:
    """Every ancestor searchable and the directory readable by a uid owning none of them."""
    path = os.path.realpath(directory)
    while True:
        if not os.stat(path).st_mode & (0o005 if path == os.path.realpath(directory) else 0o001):
            return False
        if path == "/":
            return True
        path = os.path.dirname(path)
