import support  # noqa: F401

import argparse
import contextlib
import io
import unittest

from codeself.agents.backends.base import BackendOptions
from codeself.cli import Progress, add_dataclass_flags, dataclass_from_args, run_main


class ProgressTest(unittest.TestCase):
    def test_line_shows_count_rate_and_eta(self):
        meter = Progress("convert", total=200, quiet=True)
        meter.count = 50
        # 50 done in 2 s -> 25/s; 150 left at 25/s -> 6 s.
        self.assertEqual(meter.format_line(2.0), "convert: 50/200 25.0/s ETA 6s")

    def test_quiet_writes_nothing(self):
        stream = io.StringIO()
        with Progress("x", total=3, quiet=True, stream=stream) as meter:
            meter.update(3)
        self.assertEqual(stream.getvalue(), "")

    def test_close_draws_final_line(self):
        stream = io.StringIO()
        with Progress("x", total=2, stream=stream, interval=3600) as meter:
            meter.update(2)
        self.assertTrue(stream.getvalue().startswith("x: 2/2 "))
        self.assertTrue(stream.getvalue().endswith("\n"))


class RunMainTest(unittest.TestCase):
    def test_value_error_becomes_exit_2(self):
        def body():
            raise ValueError("bad input: fix it")
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            self.assertEqual(run_main(body, "prog"), 2)
        self.assertEqual(stderr.getvalue(), "prog: error: bad input: fix it\n")

    def test_success_returns_body_code(self):
        self.assertEqual(run_main(lambda: None, "prog"), 0)
        self.assertEqual(run_main(lambda: 1, "prog"), 1)


class DataclassFlagsTest(unittest.TestCase):
    def test_backend_options_round_trip(self):
        parser = argparse.ArgumentParser()
        add_dataclass_flags(parser, BackendOptions)
        self.assertEqual(dataclass_from_args(BackendOptions, parser.parse_args([])), BackendOptions())
        args = parser.parse_args(["--request-timeout-s", "7", "--top-p", "0.5", "--model", "m", "--max-tokens", "9"])
        self.assertEqual(dataclass_from_args(BackendOptions, args),
                         BackendOptions(model="m", top_p=0.5, max_tokens=9, timeout_s=7.0))
        self.assertIn("seconds per HTTP request (default 120.0)", " ".join(parser.format_help().split()))


if __name__ == "__main__":
    unittest.main()
