"""`ExecutionConfig`: the limits and pool size of an Executor, in a module of its own so the
parent-side runner can type its parameters without importing the engine (which imports it)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from codeself.execution import codec

SANDBOXES = ("auto", "namespaces", "rlimits", "bwrap")
EXECUTORS = ("local", "ray")  # where programs run: this machine, or Ray actors (docs/scaling.md)


@dataclass(frozen=True)
class ExecutionConfig:
    """Limits and pool size; every field is documented in docs/schemas.md, "Execution results".
    The field metadata is the help of the flag a script offers for it (`codeself.cli.add_execution_flags`)."""

    workers: int = field(default=os.cpu_count() or 1, metadata={
        "help": "warm sandbox worker processes, the programs running at once", "default_help": "CPU count"})
    sandbox: str = field(default="auto", metadata={
        "choices": SANDBOXES, "help": "isolation: auto (namespaces if the kernel allows, else rlimits), "
                                      "namespaces, rlimits, bwrap (docs/safety.md)"})
    timeout_s: float = field(default=5.0, metadata={
        "help": "per-test (and import) wall timeout in seconds for tasks with no timeout_s, no reference_time_s "
                "and no reference solution to calibrate from"})
    program_timeout_s: float = field(default=30.0, metadata={"help": "whole-program backstop in seconds"})
    memory_mb: int = field(default=1024, metadata={
        "help": "address-space limit per program, in MiB above the worker's own size"})
    max_output_bytes: int = field(default=64 * 1024, metadata={"help": "captured stdout/stderr tail per program"})
    max_value_bytes: int = field(default=codec.DEFAULT_MAX_BYTES, metadata={
        "help": "largest encoded value a probe may return"})
    max_program_bytes: int = field(default=1 << 20, metadata={"help": "larger programs are refused without running"})
    max_file_mb: int = field(default=16, metadata={"help": "largest file a program may write (RLIMIT_FSIZE)"})
    scratch_mb: int = field(default=64, metadata={"help": "size of the per-program tmpfs (namespaces mode)"})
    max_processes: int = field(default=32, metadata={"help": "processes per program (RLIMIT_NPROC)"})
    # RLIMIT_NPROC counts per uid: as root each worker's programs get a uid of their own (execution/uids.py)
    sandbox_uid_base: int = field(default=2_000_000_000, metadata={
        "help": "as root: the first uid of the range the workers' programs run as, one uid per running worker "
                "machine-wide, so RLIMIT_NPROC counts each sandbox alone (pick a range no account owns)"})
    sandbox_uid_count: int = field(default=4096, metadata={
        "help": "as root: how many uids the range holds (the workers running at once on this machine)"})
    static_scan: bool = field(default=True, metadata={
        "help": "refuse clearly hostile programs before running them (status blocked)"})
    # per-test timeout = max(floor, factor x reference time) when the reference's time is known or measured
    timeout_factor: float = field(default=4.0, metadata={"help": "per-test timeout as a multiple of the reference's time"})
    timeout_floor_s: float = field(default=1.0, metadata={"help": "least per-test timeout scaled from a reference time"})
    calibrate_timeouts: bool = field(default=True, metadata={
        "flag": "--no-calibrate", "help": "do not time each task's reference solution (once, at first use) to scale "
                                          "its per-test timeouts; use --timeout-s for every task that sets none"})
    rerun_timeouts: bool = field(default=True, metadata={
        "flag": "--no-rerun-timeouts", "help": "count a timeout without first re-running the program once under limits "
                                               "re-measured now (the reference re-timed, or the machine's slowdown), "
                                               "so verdicts depend on the load"})
    prestart_interpreters: bool = field(default=True, metadata={
        "flag": "--no-prestart", "help": "never start a program's interpreter before its job arrives (by default, "
                                         "after a JavaScript job a worker's next child starts node at once: "
                                         "docs/languages.md, JavaScript specifics)"})
    pin_workers: bool = field(default=True, metadata={
        "flag": "--no-pin-workers",
        "help": "let the workers move between CPUs (by default, when the workers are exactly as many as the CPUs "
                "this process may use, each worker, with its forker and its programs, stays on one CPU of its own: "
                "HumanEval x5 on 2 CPUs, about 5 per cent more programs a second on average; docs/schemas.md, Execution "
                "results)"})
    split_tests: bool = field(default=True, metadata={
        "flag": "--no-split-tests", "help": "in a batch, run every sample in one process, never a dominating one's "
                                            "tests in parts on several workers (each part is a fresh process, so a "
                                            "program whose answers depend on its earlier calls may be judged "
                                            "differently split; docs/schemas.md, Split runs)"})
    calibration_timeout_s: float = field(default=60.0, metadata={"help": "per-phase limit while timing a reference"})
    max_program_timeout_s: float = field(default=300.0, metadata={
        "help": "cap on a backstop raised to cover scaled limits"})
    calibration_cache: str = field(default="", metadata={
        "metavar": "FILE", "help": "keep the timed reference solutions (per-test timeout calibration) in this JSON "
                                   "file, so later runs on the same tasks and machine skip timing them again (like "
                                   "EvalPlus's cached ground truth)", "default_help": "none: calibrations last this run only"})
    stop_at_first_failure: bool = field(default=False, metadata={
        "help": "judge each test as its answer arrives and stop a program at its first failed test (same verdicts, "
                "faster when most samples fail; later tests are reported as NotRun, so per-test counts and "
                "partial-credit rewards stop there too)"})
    executor: str = field(default="local", metadata={
        "choices": EXECUTORS, "help": "where programs run: local (this machine's sandbox workers) or ray (sandbox "
                                      "actors on a Ray cluster, same verdicts; needs pip install "
                                      "'codeself[distributed]'; --workers is then the workers of each actor; see "
                                      "docs/scaling.md)"})
    ray_address: str = field(default="", metadata={
        "metavar": "HOST:PORT", "help": "with --executor ray: the cluster's head (`ray start --head` prints it)",
        "default_help": "none: start a local Ray instance for this run, stop it at the end"})
    efficiency: bool = field(default=False, metadata={
        "help": "also measure each passing answer's efficiency on the task's metadata.scale_inputs: Python "
                "instructions executed against the reference's at growing sizes, a score in [0, 1] and a growth "
                "exponent that do not depend on machine load (results gain `efficiency`; docs/schemas.md)"})

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {self.executor!r}")
        if self.ray_address and self.executor != "ray":
            raise ValueError("ray_address is only used with executor 'ray' (--executor ray)")
        if self.sandbox not in SANDBOXES:
            raise ValueError(f"sandbox must be one of {', '.join(SANDBOXES)}, got {self.sandbox!r}")
        if not (1 <= self.sandbox_uid_base and self.sandbox_uid_count >= 1
                and self.sandbox_uid_base + self.sandbox_uid_count <= 2**32 - 1):
            raise ValueError(f"sandbox uids {self.sandbox_uid_base}..+{self.sandbox_uid_count} must be a non-empty "
                             "range of uids 1..4294967294")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        for name in ("timeout_s", "program_timeout_s", "timeout_floor_s", "calibration_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not self.timeout_factor >= 1:
            raise ValueError(f"timeout_factor must be >= 1 (the reference must fit), got {self.timeout_factor}")
        if not self.max_program_timeout_s >= self.program_timeout_s:
            raise ValueError(f"max_program_timeout_s ({self.max_program_timeout_s}) must be >= "
                             f"program_timeout_s ({self.program_timeout_s})")
