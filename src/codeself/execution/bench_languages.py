"""`bench_execution.py --language L`: the engine against a MultiPL-E-style harness (issue 18, item 6).

Both contenders judge the same reference answers of MultiPL-E's HumanEval file for one
language (`reference_solution`, the `gpt_solution` parsed as a model's answer is, converted by
the project's own converter), and both run two programs at a time:

* **the engine**: an `Executor` (sandbox, verdicts in the parent), `run_many` over the
  (task, reference) pairs, timed from the first sample to the last result. Its cost includes
  the per-task one-off work (the expected-value program, the C++ harness object): at one
  sample per task that is part of every sample's cost. What is built once per *machine* (C++'s
  precompiled header, Java's and Rust's runtimes) is not: a tiny warm-up run builds it into a
  fresh cache directory first, and that directory keeps no per-task product of the measured
  tasks (bench_execution.py makes one per run, so an earlier run cannot make this one cheaper).
* **a MultiPL-E-style harness**: for each task the program MultiPL-E builds (`prompt +
  completion + "\\n" + tests`: here the answer as the parser extracted it, then the file's own
  `tests` text, which first closes the function), compiled and run in plain subprocesses
  with MultiPL-E's commands (`MULTIPL_E_COMMANDS`), exit status 0 a pass, from a thread pool.

CPU is the whole process tree's, read with getrusage: this process's own (RUSAGE_SELF: parsing,
judging, threads) plus RUSAGE_CHILDREN, which holds every descendant once it is waited for.
The engine's workers are children of this process; each waits for its forker, which waits for
the programs it forks, and each program (PID 1 of its namespace) waits for its compilers, so
all of their CPU reaches this process when `Executor.close()` has reaped the workers. The engine's figure therefore comes
from an Executor started and closed around the timed batch (its two workers' start-up, tens of
milliseconds, is in it; the warm-up ran on another Executor, closed before). Builds that
trusted code runs in this process (C++ harness objects) are its children directly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from codeself.code_mask import mask, matching_close
from codeself.datasets.convert import ConvertOptions, iter_source_tasks
from codeself.datasets.multipl_e import multipl_e_tests
from codeself.datasets.task import Task
from codeself.execution.engine import ExecutionConfig, Executor
from codeself.execution.languages.toolchains import JAVATUPLES_JAR, missing
from codeself.parsing_languages import CLOSING

LANGUAGES = ("cpp", "java", "js", "rust")
DATA_FILES = {"cpp": "humaneval-cpp.jsonl", "java": "humaneval-java.jsonl", "js": "humaneval-js.jsonl",
              "rust": "humaneval-rs.jsonl"}  # under $CODESELF_DATA_DIR/multipl-e/
CPU_TARGETS_S = {"cpp": 0.5, "rust": 0.3, "java": 0.25, "js": 0.15}  # engine CPU per sample (issue 18)
THROUGHPUT_TARGET = 3.0  # engine / MultiPL-E style over the four together; no language below 1
COMPILE_TIMEOUT_S = 60.0  # the baseline's compile step; its run step takes --baseline-timeout-s
HEAD_CHARS = 160  # stderr quoted for a differing verdict

# MultiPL-E's own commands (its evaluation/src/eval_*.py): the source file, then each step's
# argv ({src} the source, {out} the build directory). Rust: plain rustc, as MultiPL-E calls it
# (edition 2015, debug: overflow checks on); Java: UTF-8 source, javatuples on the class path.
MULTIPL_E_COMMANDS = {
    "cpp": ("main.cpp", (("g++", "{src}", "-o", "{out}/main", "-std=c++17"), ("{out}/main",))),
    "java": ("Problem.java", (("javac", "-encoding", "UTF8", "-cp", JAVATUPLES_JAR, "-d", "{out}", "{src}"),
                              ("java", "-ea", "-cp", "{out}:" + JAVATUPLES_JAR, "Problem"))),
    "js": ("main.js", (("node", "{src}"),)),
    "rust": ("main.rs", (("rustc", "{src}", "-o", "{out}/main"), ("{out}/main",))),
}

# A task per language for the warm-up run (builds the per-machine caches; never measured).
_WARM_UP = {
    "cpp": ("#include<assert.h>\n#include<bits/stdc++.h>\nlong warm_up(long x) {\n", "    return x + 1;\n}\n",
            "assert(candidate((1)) == (2));"),
    "java": ("import java.util.*;\nimport org.javatuples.*;\nclass Problem {\n    public static long warm_up(long x) {\n",
             "        return x + 1L;\n    }\n}\n", "assert(warm_up((1l)) == (2l));"),
    "js": ("function warm_up(x){\n", "  return x + 1;\n}\n", "assert.deepEqual(candidate(1),2);"),
    "rust": ("fn warm_up(x: isize) -> isize {\n", "    x + 1\n}\n", "assert_eq!(candidate(1), 2);"),
}


@dataclass(frozen=True)
class BaselineOutcome:
    """One MultiPL-E-style run: passed = every step exited 0; else the step that did not."""

    passed: bool
    step: str = ""  # "compile" / "run" (the failing step), "" when passed
    exit_code: int | None = None  # None: the step timed out
    stderr_head: str = ""


@dataclass
class Figures:
    """One contender's run on one language's samples."""

    label: str
    samples: int
    wall_s: float
    cpu_s: float
    passed: int

    @property
    def throughput(self) -> float:
        return self.samples / max(self.wall_s, 1e-9)

    @property
    def cpu_per_sample(self) -> float:
        return self.cpu_s / max(self.samples, 1)

    def line(self) -> str:
        return (f"  {self.label:<34} {self.samples} samples in {self.wall_s:.1f} s = {self.throughput:.2f} samples/s; "
                f"CPU {self.cpu_per_sample:.3f} s/sample; {self.passed} passed")


@dataclass
class Parity:
    """Pass/fail of the engine against the MultiPL-E-style harness, per task."""

    both_pass: int = 0
    both_fail: int = 0
    differ: list[str] = field(default_factory=list)  # one printable line per differing task

    @property
    def same(self) -> int:
        return self.both_pass + self.both_fail


def cpu_tree() -> float:
    """CPU seconds of this process and every descendant it has waited for (see the docstring)."""
    return sum(getattr(resource.getrusage(who), name) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for name in ("ru_utime", "ru_stime"))


def load_references(data_dir: str, language: str, limit: int = 0) -> tuple[int, list[Task]]:
    """(tasks read, those with a reference answer) of the language's HumanEval file, through the
    project's converter; `limit` > 0 reads only the first `limit` tasks."""
    if not data_dir:
        raise ValueError("no data directory: pass --data-dir or set CODESELF_DATA_DIR")
    path = Path(data_dir) / "multipl-e" / DATA_FILES[language]
    if not path.is_file():
        raise ValueError(f"{path} not found (MultiPL-E's HumanEval file for {language})")
    tasks = []
    for task in iter_source_tasks(path, ConvertOptions("multipl-e")):
        tasks.append(task)
        if len(tasks) == limit:
            break
    return len(tasks), [task for task in tasks if task.reference_solution]


def multipl_e_program(task: Task, answer: str) -> str:
    """MultiPL-E's program for a whole-function answer: the answer, then the file's `tests`.

    MultiPL-E writes `prompt + completion + "\\n" + tests`, whose tests begin by closing the
    prompt's function (`}`; Java: the method's `    }`). A whole-function answer closes it
    itself, so that first line is dropped; Java's tests then hold `main` and the `}` of
    `class Problem`, so they go in place of the answer's own closing brace of that class.
    """
    tests = multipl_e_tests(task)
    opening = CLOSING[task.language].split("\n")[0]
    rest = tests[len(opening) + 1:] if opening and tests.startswith(opening + "\n") else tests
    if task.language == "java":
        masked = mask(answer, "java")
        found = re.search(r"\bclass\s+Problem\b", masked)
        brace = masked.find("{", found.end()) if found else -1
        close = matching_close(masked, brace) if brace >= 0 else None
        if close is not None:
            return answer[:close].rstrip() + "\n" + rest + answer[close + 1:]
    return answer.rstrip() + "\n" + rest


def run_multipl_e(language: str, program: str, timeout_s: float) -> BaselineOutcome:
    """Compile (60 s) and run (`timeout_s`) one program as MultiPL-E does, in a temp directory."""
    source_name, steps = MULTIPL_E_COMMANDS[language]
    with tempfile.TemporaryDirectory(prefix="codeself-multipl-e-") as directory:
        source = os.path.join(directory, source_name)
        with open(source, "w", encoding="utf-8") as handle:
            handle.write(program)
        for index, step in enumerate(steps):
            argv = [part.format(src=source, out=directory) for part in step]
            compiling = index < len(steps) - 1
            try:
                done = subprocess.run(argv, cwd=directory, stdin=subprocess.DEVNULL, capture_output=True,
                                      timeout=COMPILE_TIMEOUT_S if compiling else timeout_s)
            except subprocess.TimeoutExpired:
                return BaselineOutcome(False, "compile" if compiling else "run", None, "timed out")
            if done.returncode != 0:
                head = " ".join(done.stderr.decode("utf-8", "replace").split())[:HEAD_CHARS]
                return BaselineOutcome(False, "compile" if compiling else "run", done.returncode, head)
    return BaselineOutcome(True)


def bench_baseline(language: str, jobs: list[tuple[Task, str]], threads: int,
                   timeout_s: float) -> tuple[Figures, list[BaselineOutcome]]:
    """Every job's MultiPL-E-style program, `threads` at a time; CPU from getrusage."""
    programs = [multipl_e_program(task, answer) for task, answer in jobs]
    before, started = cpu_tree(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(lambda program: run_multipl_e(language, program, timeout_s), programs))
    wall = time.perf_counter() - started
    figures = Figures(f"MultiPL-E style ({threads} at a time)", len(jobs), wall, cpu_tree() - before,
                      sum(outcome.passed for outcome in outcomes))
    return figures, outcomes


@contextlib.contextmanager
def language_cache(directory: str = "", keep_expected: bool = False):
    """Point `$CODESELF_LANGUAGE_CACHE` at `directory`, or at a fresh one (removed at the end)
    beside the default cache (not under /tmp, which the sandbox replaces), so no per-task product
    of an earlier run is reused. Set before any Executor starts: workers bind it at start.
    The on-disk expected values (languages/expected_cache.py) are per-task work: off, so every
    run measures them as a first evaluation of the tasks does; `keep_expected`: kept in a fresh
    directory of their own (for `--warm-tasks`), removed at the end too."""
    created = "" if directory else tempfile.mkdtemp(prefix="bench-", dir=_cache_parent())
    expected = tempfile.mkdtemp(prefix="bench-expected-", dir=_cache_parent()) if keep_expected else ""
    settings = {"CODESELF_LANGUAGE_CACHE": directory or created, "CODESELF_EXPECTED_CACHE": expected or "off"}
    previous = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield directory or created
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for made in (created, expected):
            if made:
                shutil.rmtree(made, ignore_errors=True)


def _cache_parent() -> str:
    root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "codeself")
    os.makedirs(root, mode=0o755, exist_ok=True)
    return root


def warm_up_job(language: str) -> tuple[Task, str]:
    """A one-test task of the language and its answer: runs the per-machine builds."""
    prompt, body, test = _WARM_UP[language]
    task = Task(task_id=f"bench/warm-up-{language}", source="bench", prompt=prompt, entry_point="warm_up",
                starter_code=prompt, public_tests=(), hidden_tests=(test,), setup_code="", reference_solution=None,
                split=None, language=language)
    return task, prompt + body


def warm_up(language: str, config: ExecutionConfig) -> float:
    """Build the per-machine caches (not timed by the figures); wall seconds it took."""
    started = time.perf_counter()
    with Executor(config) as executor:
        result = executor.run(*warm_up_job(language))
    if not result.passed:
        raise ValueError(f"{language}: the warm-up task did not pass ({result.status}, {result.error_type}: "
                         f"{result.message[:200]})")
    return time.perf_counter() - started


def bench_engine(jobs: list[tuple[Task, str]], config: ExecutionConfig) -> tuple[Figures, list]:
    """The jobs through a fresh Executor (its expected values and harnesses not yet built);
    wall time of run_many, CPU of the whole tree once the Executor is closed."""
    before = cpu_tree()
    executor = Executor(config)
    try:
        started = time.perf_counter()
        results = list(executor.run_many(jobs))
        wall = time.perf_counter() - started
    finally:
        executor.close()
    figures = Figures(f"engine ({executor.isolation}, {config.workers} workers)", len(jobs), wall,
                      cpu_tree() - before, sum(result.passed for result in results))
    return figures, results


def bench_lone(language: str, data_dir: str, config: ExecutionConfig, count: int, pause_s: float = 0.3) -> list[str]:
    """Latency of lone samples, as a multi-turn episode asks for one at a time: the first `count`
    references run one by one on one worker, `pause_s` apart (the machine otherwise idle, as
    while a model writes), with and without pre-started interpreters (supervise.prestart).
    An untimed pass over the same samples first measures their expected values and builds
    each answer once, so the figures are a sample's run alone (for C++/Rust/Java, without its
    compile: built once per Executor)."""
    _, tasks = load_references(data_dir, language, count)
    jobs = [(task, task.reference_solution) for task in tasks[:count]]
    lines = []
    for prestart in (False, True):
        with Executor(dataclasses.replace(config, workers=1, prestart_interpreters=prestart)) as executor:
            for task, program in jobs:
                executor.run(task, program)
            walls = []
            for task, program in jobs:
                time.sleep(pause_s)
                started = time.perf_counter()
                executor.run(task, program)
                walls.append(time.perf_counter() - started)
        lines.append(f"  lone samples ({len(jobs)}, one worker, {pause_s:g} s apart), pre-started interpreters "
                     f"{'on ' if prestart else 'off'}: mean {1000 * statistics.mean(walls):.1f} ms, "
                     f"median {1000 * statistics.median(walls):.1f} ms per sample")
    return lines


def compare(tasks: list[Task], results: list, outcomes: list[BaselineOutcome]) -> Parity:
    """Per task: the engine's `passed` against the baseline's; the differing ones described
    with what each side saw, to classify them against docs/languages.md's known exceptions."""
    parity = Parity()
    for task, result, outcome in zip(tasks, results, outcomes):
        if result.passed == outcome.passed:
            if outcome.passed:
                parity.both_pass += 1
            else:
                parity.both_fail += 1
            continue
        exit_code = "timeout" if outcome.exit_code is None else f"exit {outcome.exit_code}"
        baseline = "passed" if outcome.passed else f"{outcome.step} {exit_code}: {outcome.stderr_head}"
        message = " ".join((result.message or "").split())[:HEAD_CHARS]
        parity.differ.append(f"{task.task_id} ({task.metadata.get('original_task_id', '')}): engine "
                             f"{result.status}/{result.error_type or '-'}{f' {message!r}' if message else ''}; "
                             f"MultiPL-E style {baseline}")
    return parity


@dataclass
class LanguageRun:
    """One language's figures, ready to print."""

    language: str
    tasks: int
    engine: Figures
    baseline: Figures | None
    parity: Parity | None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        target = CPU_TARGETS_S[self.language]
        met = "met" if self.engine.cpu_per_sample <= target else "NOT met"
        lines = [f"{self.language}: {self.tasks} tasks read, {self.engine.samples} samples (reference answers)",
                 *(f"  note: {note}" for note in self.notes),
                 f"{self.engine.line()}  (CPU target <= {target} s/sample: {met})"]
        if self.baseline is None:
            return lines
        ratio = self.engine.throughput / max(self.baseline.throughput, 1e-9)
        lines += [self.baseline.line(),
                  f"  engine / MultiPL-E style throughput = {ratio:.2f}  (target >= 1 per language, "
                  f">= {THROUGHPUT_TARGET:g} over the four together)"]
        if self.parity is not None:
            lines.append(f"  verdicts: {self.parity.same} same ({self.parity.both_pass} both pass, "
                         f"{self.parity.both_fail} both fail), {len(self.parity.differ)} differ")
            lines += [f"    differs: {line}" for line in self.parity.differ]
        return lines


def together_lines(runs: list[LanguageRun]) -> list[str]:
    """The four languages as one batch: total samples / total wall time per contender."""
    samples = sum(run.engine.samples for run in runs)
    engine_wall = sum(run.engine.wall_s for run in runs)
    engine_cpu = sum(run.engine.cpu_s for run in runs)
    lines = [f"together: {samples} samples; engine {samples / max(engine_wall, 1e-9):.2f} samples/s "
             f"({engine_wall:.1f} s), CPU {engine_cpu / max(samples, 1):.3f} s/sample"]
    if all(run.baseline is not None for run in runs):
        baseline_wall = sum(run.baseline.wall_s for run in runs)
        baseline_cpu = sum(run.baseline.cpu_s for run in runs)
        ratio = baseline_wall / max(engine_wall, 1e-9)
        slower = [run.language for run in runs if run.baseline.wall_s < run.engine.wall_s]
        lines += [f"  MultiPL-E style {samples / max(baseline_wall, 1e-9):.2f} samples/s ({baseline_wall:.1f} s), "
                  f"CPU {baseline_cpu / max(samples, 1):.3f} s/sample",
                  f"  engine / MultiPL-E style throughput = {ratio:.2f}  (target >= {THROUGHPUT_TARGET:g}: "
                  f"{'met' if ratio >= THROUGHPUT_TARGET else 'NOT met'}); languages slower than it: "
                  f"{', '.join(slower) or 'none'} (target: none)"]
    return lines


def bench_language(language: str, data_dir: str, config: ExecutionConfig, *, repeat: int = 1, limit: int = 0,
                   baseline: bool = True, baseline_timeout_s: float = 15.0, warm_tasks: bool = False,
                   log=print) -> LanguageRun:
    """Warm up, then the engine, then the MultiPL-E-style harness, on one language.
    `warm_tasks`: an untimed engine pass over the same tasks first builds their per-task
    products (harness objects, expected values: kept on disk), as every evaluation of these
    tasks after the first on a machine finds them; each answer is still compiled in the timed
    pass (a fresh Executor)."""
    read, tasks = load_references(data_dir, language, limit)
    reason = missing(language)
    if reason:
        raise ValueError(reason)
    jobs = [(task, task.reference_solution) for task in tasks] * repeat
    notes = [f"x{repeat}: each reference {repeat} times; the engine's per-task work is shared by the copies"] \
        if repeat > 1 else []
    if language == "java" and not os.path.isfile(JAVATUPLES_JAR):
        notes.append(f"{JAVATUPLES_JAR} is missing: the MultiPL-E-style programs import org.javatuples and fail")
    log(f"{language}: warm-up (per-machine caches) took {warm_up(language, config):.1f} s, not timed; "
        f"load average {os.getloadavg()[0]:.2f}")
    if warm_tasks:
        notes.append("warm tasks: harness objects and expected values built by an untimed pass first")
        log(f"{language}: per-task products built in {bench_engine(jobs, config)[0].wall_s:.1f} s, not timed")
    engine, results = bench_engine(jobs, config)
    log(f"{language}: engine done; load average {os.getloadavg()[0]:.2f}")
    if not baseline:
        return LanguageRun(language, read, engine, None, None, notes)
    figures, outcomes = bench_baseline(language, jobs, config.workers, baseline_timeout_s)
    log(f"{language}: MultiPL-E style done; load average {os.getloadavg()[0]:.2f}")
    parity = compare(tasks, results[:len(tasks)], outcomes[:len(tasks)])  # the first copy of each
    return LanguageRun(language, read, engine, figures, parity, notes)
