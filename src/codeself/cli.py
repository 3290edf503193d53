"""Shared pieces of every `scripts/*.py` entry point: error handling and progress.

Library code raises ValueError with a message that says what is wrong and what to do;
`run_main` turns that (and Ctrl-C) into one line on stderr and a non-zero exit code, so users
never see a traceback for bad input.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable

# library code (agents, training) imports these from their own modules, not from the CLI layer
from codeself.jsonl import refuse_overwriting_input
from codeself.progress import Progress

__all__ = ["EXIT_INTERRUPTED", "EXIT_USER_ERROR", "Progress", "add_dataclass_flags", "add_execution_flags",
           "dataclass_from_args", "execution_placement", "refuse_overwriting_input", "run_main"]

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


def add_dataclass_flags(parser, cls, *, help_overrides: dict[str, str] | None = None) -> None:
    """One flag per field of the dataclass `cls`, on `parser` (or an argument group): the name
    is `--field-name` unless the field's metadata gives "flag"; the help is the metadata's
    "help" (or `help_overrides[field]`) plus the field's default; the type is the annotation's
    (float, int, else str). `dataclass_from_args` reads them back."""
    for spec in dataclasses.fields(cls):
        text = (help_overrides or {}).get(spec.name, spec.metadata.get("help", ""))
        if spec.default is not None:
            text += f" (default {spec.default})"
        parser.add_argument(_flag(spec), dest=_dest(spec), type=_TYPES.get(str(spec.type).split(" ")[0], str),
                            default=spec.default, help=text)


def dataclass_from_args(cls, args):
    """The `cls` instance the flags of `add_dataclass_flags(parser, cls)` describe."""
    return cls(**{spec.name: getattr(args, _dest(spec)) for spec in dataclasses.fields(cls)})


_TYPES = {"float": float, "int": int}  # by annotation ("float | None" -> float); others are str


def _flag(spec) -> str:
    return spec.metadata.get("flag") or "--" + spec.name.replace("_", "-")


def _dest(spec) -> str:
    return _flag(spec).lstrip("-").replace("-", "_")


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
