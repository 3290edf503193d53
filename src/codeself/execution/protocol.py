"""The worker protocol on the parent's side: `Job` (what one worker run gets) and `Reply` (its answer).

Why typed: the job dict was built by hand in four places (runner.plan_run, languages/program.job,
Executor.call_function, efficiency.measure_job) and the reply was read with `.get(...)`
everywhere, so a misspelt key was a silent default. The wire form does not change: worker.py
and supervise.py read plain dicts (marshal in, JSON out) and import nothing from here, because
every program is a fork of the worker's warm copy and each module it loads is paid again by
every fork.

`Reply.from_wire` reads the worker's JSON as data that may be wrong (the answers inside it come
from the candidate's process; the rest from our worker): a field of the wrong type or an
unknown outcome makes a `malformed` reply, which every reader turns into a failure
(`runtime_error` / `MalformedAnswer`), never an exception. Keys it does not know are ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

# what `Reply.outcome` takes: the worker's (supervise.py) and the parent's own "worker_died"
OUTCOMES = ("done", "timeout", "died", "sandbox", "stopped", "malformed", "worker_died")


@dataclass(frozen=True)
class Job:
    """One run in a worker's forked child: import the program, then answer one step per test.

    Steps are the messages the child answers, one per test: `{"probes": [expr, ...]}` (a split
    Python test's candidate-side calls), `{"fallback": snippet}` (an unsplittable test run
    in-process), `{"call": encoded_args}` (call_function), `{"t": index}` (a native program's
    test), `{"measure": [...], "budget": N}` (efficiency). They never hold an expected value."""

    program: str  # the program's text; "" when `code` holds it compiled
    steps: tuple[dict, ...]
    step_timeouts_s: tuple[float, ...]  # one per step, then the limit after the last step
    import_timeout_s: float  # running the program and `setup` (native: + compiling and starting it)
    program_timeout_s: float  # whole-run backstop (also sets the child's RLIMIT_CPU)
    code: bytes = b""  # the program compiled by the parent (marshal of a code object), or b""
    setup: str = ""  # the task's setup_code, run after the program in its namespace
    entry_point: str | None = None  # the function calls and probes are about
    native: dict | None = None  # C++/Java/JS/Rust: files, compile commands, argv (languages/program.py)
    stream: bool = False  # send each answer to the parent as it comes (stop at first failure, efficiency)
    measure: dict | None = None  # efficiency steps held until every test is answered (efficiency.held_measurement)
    sizes: int = 0  # scale inputs answered in one frame (a measurement job's frame bound)

    def to_wire(self) -> dict:
        """The dict the worker reads (keys it has always read; optional ones only when set)."""
        wire: dict[str, Any] = {"program": self.program, "code": self.code, "setup": self.setup,
                                "entry_point": self.entry_point}
        if self.native is not None:
            wire["native"] = self.native
        wire.update(steps=list(self.steps), step_timeouts_s=list(self.step_timeouts_s),
                    import_timeout_s=self.import_timeout_s, program_timeout_s=self.program_timeout_s)
        if self.stream:
            wire["stream"] = True
        if self.measure is not None:
            wire["measure"] = self.measure
        if self.sizes:
            wire["sizes"] = self.sizes
        return wire

    @classmethod
    def from_wire(cls, wire: dict) -> "Job":
        """A job from its wire dict (trusted: written by this process). Raises ValueError for a
        dict that is not a job, since only a bug of ours can make one."""
        try:
            return cls(program=wire["program"], steps=tuple(wire["steps"]),
                       step_timeouts_s=tuple(wire["step_timeouts_s"]), import_timeout_s=wire["import_timeout_s"],
                       program_timeout_s=wire["program_timeout_s"], code=wire.get("code", b""),
                       setup=wire.get("setup", ""), entry_point=wire.get("entry_point"), native=wire.get("native"),
                       stream=bool(wire.get("stream", False)), measure=wire.get("measure"),
                       sizes=int(wire.get("sizes", 0)))
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a worker job: {error}") from None

    def streaming(self, measure: dict | None = None) -> "Job":
        """This job answering as it goes (and holding `measure`, when given)."""
        return replace(self, stream=True, measure=measure if measure is not None else self.measure)


@dataclass(frozen=True)
class Reply:
    """What the worker answered for one job, with the parent's two timings.

    `answers` are the child's raw frames (JSON text, judged only by the parent): the import
    answer first, then one per step answered. `durations` pairs with them (seconds each)."""

    outcome: str  # one of OUTCOMES: "done" = every step answered (or the import failed)
    detail: str = ""  # why a sandbox / malformed outcome happened
    answers: tuple[str, ...] = ()
    durations: tuple[float, ...] = ()
    exit_code: int | None = None
    signal: int | None = None  # the child's terminating signal (SIGXCPU = its CPU limit)
    stdout: str = ""  # tails, capped by max_output_bytes
    stderr: str = ""
    duration_s: float = 0.0  # the worker's run time; the engine replaces it with the whole call's
    run_s: float = 0.0  # the worker's run time, kept by the engine when it sets duration_s
    cpu_s: float = 0.0
    peak_rss_kb: int = 0
    nivcsw: int = 0  # involuntary context switches: the program waited for a CPU (rerun.py)
    waited_s: float = 0.0  # time waiting for a CPU that the worker added to the deadlines (supervise.py)
    waits_capped: bool = False  # the waits reached their bound (supervise.MAX_STRETCH): not all credited
    prestarted: bool = False  # run by an interpreter started before the job arrived (supervise.prestart)
    isolation: str = "rlimits"
    measure: "Reply | None" = None  # a held efficiency measurement's part (outcome, answers, duration_s)
    built: str = ""  # the frame of a compile's outputs, sent before the program ran (languages/built.py)

    def to_wire(self) -> dict:
        """The JSON-shaped dict (what `from_wire` reads; what dict-reading code takes)."""
        wire = {"outcome": self.outcome, "detail": self.detail, "answers": list(self.answers),
                "durations": list(self.durations), "exit_code": self.exit_code, "signal": self.signal,
                "stdout": self.stdout, "stderr": self.stderr, "duration_s": self.duration_s, "run_s": self.run_s,
                "cpu_s": self.cpu_s, "peak_rss_kb": self.peak_rss_kb, "nivcsw": self.nivcsw,
                "waited_s": self.waited_s, "waits_capped": self.waits_capped, "prestarted": self.prestarted,
                "isolation": self.isolation}
        if self.measure is not None:
            wire["measure"] = self.measure.to_wire()
        if self.built:
            wire["built"] = self.built
        return wire

    @classmethod
    def from_wire(cls, wire: Any) -> "Reply":
        """A reply from the worker's JSON. Never raises: what is not a reply is `malformed`."""
        if isinstance(wire, Reply):
            return wire
        if not isinstance(wire, dict):
            return cls("malformed", detail=f"reply is a {type(wire).__name__}, not an object")
        problems: list[str] = []
        outcome = wire.get("outcome")
        if outcome not in OUTCOMES:
            problems.append(f"unknown outcome {str(outcome)[:40]!r}")
        answers = wire.get("answers") or []
        if not (isinstance(answers, list) and all(isinstance(answer, str) for answer in answers)):
            problems.append("answers are not a list of strings")
            answers = []
        durations = wire.get("durations") or []
        if not (isinstance(durations, list) and all(_seconds(value) for value in durations)):
            durations = []  # readers fall back to the whole run's time
        measure = wire.get("measure")
        return cls(
            outcome=outcome if not problems else "malformed",
            detail="; ".join(problems) if problems else _text(wire.get("detail")),
            answers=() if problems else tuple(answers), durations=tuple(float(value) for value in durations),
            exit_code=_integer(wire.get("exit_code")), signal=_integer(wire.get("signal")),
            stdout=_text(wire.get("stdout")), stderr=_text(wire.get("stderr")),
            duration_s=_number(wire.get("duration_s")), run_s=_number(wire.get("run_s")),
            cpu_s=_number(wire.get("cpu_s")), peak_rss_kb=_integer(wire.get("peak_rss_kb")) or 0,
            nivcsw=_integer(wire.get("nivcsw")) or 0, waited_s=_number(wire.get("waited_s")),
            waits_capped=wire.get("waits_capped") is True, prestarted=wire.get("prestarted") is True,
            isolation=wire["isolation"] if isinstance(wire.get("isolation"), str) else "rlimits",
            measure=cls.from_wire(measure) if measure is not None else None, built=_text(wire.get("built")))

    def timed(self, total_s: float) -> "Reply":
        """This reply with `run_s` = the worker's time and `duration_s` = `total_s` (the call's)."""
        return replace(self, run_s=self.duration_s, duration_s=total_s)


def as_reply(reply: "Reply | dict") -> Reply:
    """A Reply from either form (code that still passes the wire dict: languages/program.py)."""
    return reply if isinstance(reply, Reply) else Reply.from_wire(reply)


def _seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < math.inf


def _number(value: Any) -> float:
    return float(value) if _seconds(value) else 0.0


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
