"""The suite runs the ordinary ways from the repository root: one module as `tests.test_x`, and
`discover -s tests` (README, CI). Each run here is one fast test, so the check costs well under a second."""

import support

import os
import subprocess
import sys
import unittest

ONE_TEST = "test_jsonl.JsonlTest.test_nan_is_refused"


def unittest_run(*args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}  # nothing on the path but the root
    return subprocess.run([sys.executable, "-m", "unittest", *args], cwd=support.REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


class InvocationTest(unittest.TestCase):
    def test_one_module_by_dotted_name(self):
        # `import support` inside the module must resolve without `-s tests` putting tests/ on sys.path
        done = unittest_run(f"tests.{ONE_TEST}")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Ran 1 test", done.stderr)

    def test_discover_from_the_tests_directory(self):
        done = unittest_run("discover", "-s", "tests", "-p", "test_jsonl.py", "-k", "test_nan_is_refused")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Ran 1 test", done.stderr)


if __name__ == "__main__":
    unittest.main()
