"""Shared pieces of every `scripts/*.py` entry point: error handling, progress, flags built
from config dataclasses, and the check that outputs overwrite neither inputs nor each other.

Library code raises ValueError with a message that says what is wrong and what to do;
`run_main` turns that (and Ctrl-C) into one line on stderr and a non-zero exit code, so users
never see a traceback for bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

# library code (agents, training) imports these from their own modules, not from the CLI layer
from codeself.jsonl import refuse_overwriting_input, same_file
from codeself.progress import Progress

__all__ = ["EXIT_INTERRUPTED", "EXIT_USER_ERROR", "TRAINER_FLAGS", "Progress", "add_dataclass_flags",
           "add_episode_flags", "add_execution_flags", "add_run_flags", "add_trainer_flags", "check_outputs",
           "dataclass_from_args", "episode_config", "execution_config", "execution_placement",
           "refuse_overwriting_input", "run_main", "run_settings_from_args", "trainer_overrides"]

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


def check_outputs(outputs: dict[str, str | None], inputs: Sequence[str] = ()) -> None:
    """Refuse, before any work, an output that would overwrite an input or another output.
    `outputs` maps how the user named each output (its flag) to its path; None or "" is an
    output this run does not write. Example: check_outputs({"--output": "r.md",
    "--json-output": "r.md"}) raises "--output and --json-output both name r.md; ..."."""
    named: dict[Path, str] = {}
    for flag, path in outputs.items():
        if not path:
            continue
        for source in inputs:
            if same_file(source, path):
                raise ValueError(f"{flag} {path} is also an input; choose another output path")
        first = named.setdefault(Path(path).resolve(), flag)
        if first != flag:
            raise ValueError(f"{first} and {flag} both name {path}; give each output its own file")


def add_dataclass_flags(parser, cls, *, only: Sequence[str] | None = None, exclude: Sequence[str] = (),
                        help_overrides: dict[str, str] | None = None) -> None:
    """One flag per field of the dataclass `cls`, on `parser` (or an argument group), so a setting
    is named, typed, defaulted and explained once, in its field. `only` / `exclude` pick fields by
    name (default: every field). Per field:

    - name `--field-name`, unless the metadata's "flag" gives one; the value lands in the dest of
      that name (`--request-timeout-s` -> `args.request_timeout_s`);
    - help: the metadata's "help" (or `help_overrides[field]`), then "(default X)" with X the
      metadata's "default_help" if any, else the default unless it is None or "";
    - a field without a default is a required flag; the metadata's "choices" and "metavar" pass on;
    - a `tuple[str, ...]` field is a repeatable flag (each use appends one value; default empty);
    - type from the annotation: float, int, else str; a bool is a switch: default False ->
      `--field-name` turns it on; default True -> `--field-name / --no-field-name`, or the
      metadata's "flag" alone turns it off (`--no-calibrate`).

    `dataclass_from_args` reads the values back."""
    for spec in dataclasses.fields(cls):
        if (only is not None and spec.name not in only) or spec.name in exclude:
            continue
        if spec.default is dataclasses.MISSING and spec.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{spec.name} has a default_factory and no flag form; exclude it")
        text = (help_overrides or {}).get(spec.name, spec.metadata.get("help", ""))
        parser.add_argument(_flag(spec), dest=_dest(spec), help=text + _default_text(spec), **_argument_kind(spec))


def dataclass_from_args(cls, args, **given):
    """The `cls` instance the flags of `add_dataclass_flags(parser, cls, ...)` describe: each field
    with a flag on the parser takes the flag's value, `given` sets fields by name (nested settings,
    values a script computes), the rest keep their defaults."""
    values = {spec.name: getattr(args, _dest(spec)) for spec in dataclasses.fields(cls)
              if spec.name not in given and hasattr(args, _dest(spec))}
    for spec in dataclasses.fields(cls):
        if _annotation(spec).startswith("tuple") and spec.name in values:
            values[spec.name] = tuple(values[spec.name] or ())
    return cls(**values, **given)


_TYPES = {"float": float, "int": int}  # by annotation ("float | None" -> float); others are str


def _flag(spec) -> str:
    return spec.metadata.get("flag") or "--" + spec.name.replace("_", "-")


def _dest(spec) -> str:
    return _flag(spec).lstrip("-").replace("-", "_")


def _annotation(spec) -> str:
    return str(getattr(spec.type, "__name__", spec.type)).split(" ")[0]  # "int | None" -> "int"


def _argument_kind(spec) -> dict:
    """The add_argument keywords that say how the flag parses (see add_dataclass_flags)."""
    keywords = {key: spec.metadata[key] for key in ("choices", "metavar") if key in spec.metadata}
    if spec.default is dataclasses.MISSING:
        return {**keywords, "required": True, "type": _TYPES.get(_annotation(spec), str)}
    if _annotation(spec).startswith("tuple"):
        return {**keywords, "action": "append", "default": None}
    if _annotation(spec) != "bool":
        return {**keywords, "default": spec.default, "type": _TYPES.get(_annotation(spec), str)}
    if not spec.default:
        return {"action": "store_true"}
    if "flag" in spec.metadata:
        return {"action": "store_false"}
    return {"action": argparse.BooleanOptionalAction, "default": True}


def _default_text(spec) -> str:
    if "default_help" in spec.metadata:
        return f" (default {spec.metadata['default_help']})"
    if spec.default in (None, "", (), dataclasses.MISSING) or isinstance(spec.default, bool):
        return ""
    return f" (default {spec.default})"


# ExecutionConfig fields whose flags every program-running script has: where programs run and
# the calibration cache; a script adds the fields it lets users set (workers, timeout_s, ...)
PLACEMENT_FIELDS = ("executor", "ray_address", "calibration_cache")


def add_execution_flags(parser, fields: Sequence[str] = PLACEMENT_FIELDS) -> None:
    """The flags of the ExecutionConfig fields named in `fields` (help and defaults from the
    dataclass); `execution_config(args)` reads them back."""
    from codeself.execution.config import ExecutionConfig

    add_dataclass_flags(parser, ExecutionConfig, only=fields)


def execution_config(args, **given):
    """The ExecutionConfig of the flags `add_execution_flags` put on the parser (other fields:
    `given`, else the defaults); a bad value is a ValueError naming the field."""
    from codeself.execution.config import ExecutionConfig

    if hasattr(args, "executor"):
        execution_placement(args)  # the flag-named message before the dataclass's field-named one
    return dataclass_from_args(ExecutionConfig, args, **given)


def execution_placement(args) -> dict[str, str]:
    """The ExecutionConfig fields set by --executor and --ray-address."""
    if args.ray_address and args.executor != "ray":
        raise ValueError("--ray-address needs --executor ray")
    return {"executor": args.executor, "ray_address": args.ray_address}


# fields of a run's settings (RolloutSettings, AgenticSettings) that are not flags of their own:
# run_settings_from_args fills them from the sandbox's and the backend's flags and the argv
RUN_NESTED_FIELDS = ("execution", "backend_options", "command_line")


def add_run_flags(parser, settings_cls, execution_fields: Sequence[str], *, exclude: Sequence[str] = (),
                  backend_help: dict[str, str] | None = None):
    """The flags of a run of a generation backend over tasks (scripts/run_rollouts.py,
    run_agentic.py): the fields of `settings_cls` (but `exclude`), the sandbox's
    `execution_fields`, and the BackendOptions in a "backend options" group, which is returned
    (`backend_help` rewords fields for this script)."""
    from codeself.agents.backends.base import BackendOptions

    add_dataclass_flags(parser, settings_cls, exclude=(*RUN_NESTED_FIELDS, *exclude))
    add_execution_flags(parser, execution_fields)
    group = parser.add_argument_group("backend options")
    add_dataclass_flags(group, BackendOptions, help_overrides=backend_help)
    return group


def run_settings_from_args(settings_cls, args, command_line: Sequence[str], **given):
    """The `settings_cls` instance of the flags `add_run_flags` built; `command_line` is kept in
    the output's sidecar; `given` sets the fields the flags do not (AgenticSettings.env, ...)."""
    from codeself.agents.backends.base import BackendOptions

    return dataclass_from_args(settings_cls, args, execution=execution_config(args),
                               backend_options=dataclass_from_args(BackendOptions, args),
                               command_line=tuple(command_line), **given)


# EnvConfig fields that are the environment's internals, not flags
_ENV_INTERNAL_FIELDS = ("reward", "max_failures_shown", "value_chars", "max_feedback_chars")


def add_episode_flags(parser, *, exclude: Sequence[str] = ()) -> None:
    """The flags of a multi-turn episode (scripts/run_agentic.py, serve_env.py): EnvConfig's
    and its EpisodeRewardConfig's fields (but `exclude`); `episode_config(args)` reads them back."""
    from codeself.agents.agentic.env import EnvConfig
    from codeself.agents.agentic.rewards import EpisodeRewardConfig

    add_dataclass_flags(parser, EnvConfig, exclude=(*_ENV_INTERNAL_FIELDS, *exclude))
    add_dataclass_flags(parser, EpisodeRewardConfig, exclude=exclude)


def episode_config(args):
    """The EnvConfig of the flags `add_episode_flags` built."""
    from codeself.agents.agentic.env import EnvConfig
    from codeself.agents.agentic.rewards import EpisodeRewardConfig

    return dataclass_from_args(EnvConfig, args, reward=dataclass_from_args(EpisodeRewardConfig, args))


def add_trainer_flags(parser, *, max_steps_help: str = "optimiser steps (overrides the config; changes its hash)"
                      ) -> None:
    """The flags of a real-model trainer besides its --config (train_grpo.py, train_sft.py): where
    the run goes, a step budget, and what to do with a run already there; `trainer_overrides`
    reads back the config values they override."""
    parser.add_argument("--output-dir", help="where the run's files go (default: the config's output_dir)")
    parser.add_argument("--max-steps", type=int, help=max_steps_help)
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --output-dir from its last trainer checkpoint")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the run in --output-dir (its files, checkpoints and trainer state)")
    parser.add_argument("--quiet", action="store_true", help="no progress output on stderr")


# config field -> the add_trainer_flags flag that sets it (load_training_config blames a bad value on it)
TRAINER_FLAGS = {"output_dir": "--output-dir", "max_steps": "--max-steps"}


def trainer_overrides(args) -> dict:
    """The config fields set by `add_trainer_flags`' flags (output_dir, max_steps), when given."""
    overrides = {}
    if args.output_dir:
        overrides["output_dir"] = args.output_dir
    if args.max_steps is not None:
        overrides["max_steps"] = args.max_steps
    return overrides
