"""Shared pieces of every `scripts/*.py` entry point: error handling and progress.

Library code raises ValueError with a message that says what is wrong and what to do;
`run_main` turns that (and Ctrl-C) into one line on stderr and a non-zero exit code, so users
never see a traceback for bad input.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def run_main(
    body: Callable[[], int | None],
    prog: str,
) -> int:
    """Run a script body; map user errors to `prog: error: ...` and an exit code."""
    try:
        return body() or 0
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, OSError) as error:
        message = str(error) or type(error).__name__
        print(f"{prog}: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR


def add_execution_flags(parser, *, stop_at_first_failure: bool = True) -> None:
    """The sandbox options shared by the scripts that execute programs (argparse parser);
    `execution_placement(args)` turns --executor / --ray-address into ExecutionConfig fields."""
    parser.add_argument("--executor", choices=("local", "ray"), default="local",
                        help="where programs run: local (this machine's sandbox workers, the default) or ray "
                             "(sandbox actors on a Ray cluster, same verdicts; needs pip install "
                             "'codeself[distributed]'; --workers is then the workers of each actor; "
                             "see docs/scaling.md)")
    parser.add_argument("--ray-address", metavar="HOST:PORT", default="",
                        help="with --executor ray: the cluster's head (`ray start --head` prints it); "
                             "default: start a local Ray instance for this run and stop it at the end")
    parser.add_argument("--calibration-cache", metavar="FILE",
                        help="keep the timed reference solutions (per-test timeout calibration) in this JSON "
                             "file, so later runs on the same tasks and machine skip timing them again "
                             "(like EvalPlus's cached ground truth)")
    if not stop_at_first_failure:
        return
    parser.add_argument("--stop-at-first-failure", action="store_true",
                        help="judge each test as its answer arrives and stop a program at its first failed test "
                             "(same verdicts, faster when most samples fail; later tests are reported as "
                             "NotRun, so per-test counts and partial-credit rewards stop there too)")


def execution_placement(args) -> dict[str, str]:
    """The ExecutionConfig fields set by --executor and --ray-address."""
    if args.ray_address and args.executor != "ray":
        raise ValueError("--ray-address needs --executor ray")
    return {"executor": args.executor, "ray_address": args.ray_address}


def refuse_overwriting_input(inputs: Sequence[str], output: str) -> None:
    """Writing to the file being read would destroy it half-way; refuse up front."""
    from codeself.jsonl import same_file

    for path in inputs:
        if same_file(path, output):
            raise ValueError(f"--output {output} is also an input; choose another output path")


class Progress:
    """A one-line stderr progress meter: `label: count/total rate/s ETA`.

    Redrawn at most every `interval` seconds; silent when `quiet`. Uses only stderr so that
    stdout stays machine-readable.
    """

    def __init__(self, label: str, total: int | None = None, *, quiet: bool = False,
                 interval: float = 0.5, stream=None) -> None:
        self.label = label
        self.total = total
        self.quiet = quiet
        self.interval = interval
        self.stream = stream if stream is not None else sys.stderr
        self.count = 0
        self._start = time.monotonic()
        self._last_draw = 0.0

    def update(self, increment: int = 1) -> None:
        self.count += increment
        now = time.monotonic()
        if not self.quiet and now - self._last_draw >= self.interval:
            self._last_draw = now
            self._draw(now, end="\r")

    def close(self) -> None:
        if not self.quiet:
            self._draw(time.monotonic(), end="\n")

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _draw(self, now: float, end: str) -> None:
        self.stream.write(self.format_line(now - self._start) + end)
        self.stream.flush()

    def format_line(self, elapsed: float) -> str:
        """The meter's text after `elapsed` seconds, e.g. `convert: 50/200 25.0/s ETA 6s`."""
        rate = self.count / elapsed if elapsed > 0 else 0.0
        if self.total is None:
            return f"{self.label}: {self.count} {rate:.1f}/s {elapsed:.0f}s"
        remaining = self.total - self.count
        eta = f"{remaining / rate:.0f}s" if rate > 0 else "?"
        return f"{self.label}: {self.count}/{self.total} {rate:.1f}/s ETA {eta}"
