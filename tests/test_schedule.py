"""run_many starts the longest-expected samples first (execution/schedule.py), results in input order."""

import threading
import unittest
from concurrent.futures import ThreadPoolExecutor

import support  # noqa: F401
from codeself.execution.schedule import LongestFirst


class LongestFirstTest(unittest.TestCase):
    def test_longest_waiting_job_starts_first_and_ties_keep_order(self):
        started, gate, blocking = [], threading.Event(), threading.Event()

        def run(name):
            if name == "blocker":
                blocking.set()
                gate.wait(5)
            started.append(name)
            return name.upper()

        with ThreadPoolExecutor(max_workers=1) as pool:
            starts = LongestFirst(pool, run)
            first = starts.submit(0.0, "blocker")  # holds the only thread while the rest queue up
            self.assertTrue(blocking.wait(5))
            futures = [starts.submit(expected, name) for expected, name in
                       ((0.0, "a"), (5.0, "long"), (0.0, "b"), (1.0, "mid"))]
            gate.set()
            self.assertEqual([future.result(5) for future in (first, *futures)],
                             ["BLOCKER", "A", "LONG", "B", "MID"])
        self.assertEqual(started, ["blocker", "long", "mid", "a", "b"])

    def test_an_error_reaches_its_own_future(self):
        def run(value):
            if value < 0:
                raise ValueError("negative")
            return value

        with ThreadPoolExecutor(max_workers=2) as pool:
            starts = LongestFirst(pool, run)
            bad, good = starts.submit(1.0, -1), starts.submit(0.0, 3)
            with self.assertRaisesRegex(ValueError, "negative"):
                bad.result(5)
            self.assertEqual(good.result(5), 3)


if __name__ == "__main__":
    unittest.main()
