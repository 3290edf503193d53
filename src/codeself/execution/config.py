"""`ExecutionConfig`: the limits and pool size of an Executor, in a module of its own so the
parent-side runner can type its parameters without importing the engine (which imports it)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from codeself.execution import codec

SANDBOXES = ("auto", "namespaces", "rlimits", "bwrap")
EXECUTORS = ("local", "ray")  # where programs run: this machine, or Ray actors (docs/scaling.md)


@dataclass(frozen=True)
class ExecutionConfig:
    """Limits and pool size; every field is documented in docs/schemas.md, "Execution results"."""

    workers: int = os.cpu_count() or 1  # warm worker processes
    sandbox: str = "auto"  # auto | namespaces | rlimits | bwrap
    timeout_s: float = 5.0  # default per-test (and import) wall timeout when the task has none
    program_timeout_s: float = 30.0  # whole-program backstop
    memory_mb: int = 1024  # address-space limit per program, above the worker's own size
    max_output_bytes: int = 64 * 1024  # captured stdout/stderr tail per program
    max_value_bytes: int = codec.DEFAULT_MAX_BYTES  # largest encoded value a probe may return
    max_program_bytes: int = 1 << 20  # larger programs are refused without running
    max_file_mb: int = 16  # RLIMIT_FSIZE
    scratch_mb: int = 64  # size of the per-program tmpfs (namespaces mode)
    max_processes: int = 32  # RLIMIT_NPROC
    static_scan: bool = True  # refuse clearly hostile programs before running (status blocked)
    timeout_factor: float = 4.0  # per-test timeout = max(floor, factor x reference time) ...
    timeout_floor_s: float = 1.0  # ... when the reference's time is known or measured
    calibrate_timeouts: bool = True  # time a task's reference solution once, at first use
    calibration_timeout_s: float = 60.0  # per-phase limit while timing the reference
    max_program_timeout_s: float = 300.0  # cap on a backstop raised to cover scaled limits
    calibration_cache: str = ""  # JSON file keeping calibrations across runs ("" = this Executor only)
    stop_at_first_failure: bool = False  # judge tests as they come; stop a program at its first failed test
    executor: str = "local"  # local | ray: run on this machine, or on a Ray cluster's actors (distributed extra)
    ray_address: str = ""  # executor "ray": cluster address HOST:PORT ("" = start a local Ray instance for the run)

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {self.executor!r}")
        if self.ray_address and self.executor != "ray":
            raise ValueError("ray_address is only used with executor 'ray' (--executor ray)")
        if self.sandbox not in SANDBOXES:
            raise ValueError(f"sandbox must be one of {', '.join(SANDBOXES)}, got {self.sandbox!r}")
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
