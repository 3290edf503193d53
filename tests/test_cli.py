import support  # noqa: F401

import argparse
import contextlib
import dataclasses
import importlib.util
import io
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from codeself.agents.backends.base import BackendOptions
from codeself.cli import (Progress, add_dataclass_flags, add_execution_flags, check_outputs, dataclass_from_args,
                          execution_config, run_main)
from codeself.execution.config import ExecutionConfig


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


class TerminalStream(io.StringIO):
    def isatty(self):
        return True


def draw(stream, times, interval=0.5):
    """What a meter over 10 items writes when its clock reads `times` (start, then one per update)."""
    clock = iter(times)
    with mock.patch("codeself.progress.time.monotonic", lambda: next(clock)):
        with Progress("x", total=10, stream=stream, interval=interval) as meter:
            for _ in times[1:-1]:
                meter.update()
    return stream.getvalue()


class ProgressLogTest(unittest.TestCase):
    def test_terminal_redraws_one_line(self):
        text = draw(TerminalStream(), [0, 1, 2, 3, 4])
        self.assertEqual(text.count("\r"), 3)  # every update (0.5 s apart at least), then the final line
        self.assertEqual(text.count("\n"), 1)

    def test_log_file_gets_plain_lines_at_most_every_30_s_and_the_last(self):
        # a log (stderr redirected to a file or a pipe): no carriage returns; at 0-29 s nothing,
        # at 31 s a line, at 40 s nothing (only 9 s later), at 62 s a line, then the final one
        text = draw(io.StringIO(), [0, 1, 29, 31, 40, 62, 63, 70])
        self.assertNotIn("\r", text)
        self.assertEqual([line.split(" ")[1] for line in text.splitlines()], ["3/10", "5/10", "6/10"])

    def test_terminal_final_line_covers_a_longer_one(self):
        # a shorter final line (ETA 10s -> 0s) leaves no stale characters of the previous one
        meter = Progress("x", total=10, stream=TerminalStream(), interval=0)
        with mock.patch.object(meter, "format_line", side_effect=["long line", "short"]):
            meter.update()
            meter.close()
        self.assertTrue(meter.stream.getvalue().endswith("long line\rshort    \n"))


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

    def test_kinds_of_field(self):
        @dataclasses.dataclass(frozen=True)
        class Settings:
            path: str = dataclasses.field(metadata={"help": "input"})  # no default: a required flag
            mode: str = dataclasses.field(default="a", metadata={"choices": ("a", "b"), "help": "mode"})
            fast: bool = dataclasses.field(default=False, metadata={"help": "go fast"})
            check: bool = dataclasses.field(default=True, metadata={"help": "check"})
            scan: bool = dataclasses.field(default=True, metadata={"flag": "--no-scan", "help": "do not scan"})
            hidden: int = 3

        parser = argparse.ArgumentParser()
        add_dataclass_flags(parser, Settings, exclude=("hidden",))
        self.assertEqual(dataclass_from_args(Settings, parser.parse_args(["--path", "p"])), Settings(path="p"))
        args = parser.parse_args(["--path", "p", "--mode", "b", "--fast", "--no-check", "--no-scan"])
        # hidden has no flag: it keeps its default unless given
        self.assertEqual(dataclass_from_args(Settings, args, hidden=7),
                         Settings("p", "b", fast=True, check=False, scan=False, hidden=7))
        with contextlib.redirect_stderr(io.StringIO()):
            for argv in ([], ["--path", "p", "--mode", "c"], ["--path", "p", "--hidden", "1"]):
                with self.subTest(argv=argv), self.assertRaises(SystemExit):
                    parser.parse_args(argv)

    def test_only_picks_fields_and_the_rest_keep_defaults(self):
        parser = argparse.ArgumentParser()
        add_execution_flags(parser, ("workers", "timeout_s"))
        self.assertEqual(execution_config(parser.parse_args(["--workers", "3", "--timeout-s", "2"])),
                         ExecutionConfig(workers=3, timeout_s=2.0))
        self.assertNotIn("--memory-mb", parser.format_help())
        # the default shown is the metadata's words, not this machine's CPU count
        self.assertIn("(default CPU count)", " ".join(parser.format_help().split()))

    def test_execution_flags_refuse_bad_values_in_one_line(self):
        parser = argparse.ArgumentParser()
        add_execution_flags(parser, ("workers", "executor", "ray_address"))
        for argv, message in ((["--ray-address", "h:1"], "--ray-address needs --executor ray"),
                              (["--workers", "0"], "workers must be >= 1, got 0")):
            with self.subTest(argv=argv), self.assertRaisesRegex(ValueError, f"^{message}$"):
                execution_config(parser.parse_args(argv))

    def test_every_execution_field_has_help(self):
        for spec in dataclasses.fields(ExecutionConfig):
            self.assertTrue(spec.metadata.get("help"), spec.name)


class CheckOutputsTest(unittest.TestCase):
    def test_outputs_overwrite_neither_inputs_nor_each_other(self):
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "in.jsonl"
            source.write_text("")
            check_outputs({"--output": f"{tmp}/a.md", "--json-output": None, "--archive": ""}, [str(source)])
            with self.assertRaisesRegex(ValueError, "^--json-output .*in.jsonl is also an input"):
                check_outputs({"--output": f"{tmp}/a.md", "--json-output": str(source)}, [str(source)])
            # the same file spelled two ways
            with self.assertRaisesRegex(ValueError, "^--output and --json-output both name .*; give each output"):
                check_outputs({"--output": f"{tmp}/a.md", "--json-output": f"{tmp}/./a.md"})


class ScriptFlagsHelpTest(unittest.TestCase):
    SCRIPTS = ("run_rollouts", "run_agentic", "execute_samples", "serve_env", "check_references")

    def test_every_flag_of_the_dataclass_built_scripts_has_help(self):
        for name in self.SCRIPTS:
            spec = importlib.util.spec_from_file_location(f"script_{name}", support.SCRIPTS / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            with mock.patch.object(sys, "path", [str(support.SCRIPTS), *sys.path]):  # for `import _bootstrap`
                spec.loader.exec_module(module)
            for action in module.build_parser()._actions:
                with self.subTest(script=name, flag=action.option_strings):
                    self.assertTrue(action.help, action.option_strings)


if __name__ == "__main__":
    unittest.main()
