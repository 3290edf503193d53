"""Supervising one program run in the worker: feed the child, read its answers, enforce time.

Why a separate module: this is the part that must hold against a hostile child. It runs in
the worker's single thread as a select loop over the child's pipes; it never parses the
child's values (the parent does), only frames them, checks that every answer carries the
nonce of the message it answers, and stops the run on a deadline, an exit, an oversized or
forged frame. Output is kept as a bounded tail at the pipe.
"""

from __future__ import annotations

import functools
import json
import marshal
import os
import select
import struct
import time
from typing import TYPE_CHECKING

from codeself.execution import child as harness
from codeself.execution import sandbox
from codeself.execution.languages import compile_server  # imported before the sandbox hides src/
from codeself.execution.languages.native import MAX_BUILT_FRAME, write_files

if TYPE_CHECKING:
    from codeself.execution.worker import Child, Context

READY_FRAME = b'{"ready":true}'
BATCH_AHEAD = 64  # probe steps queued before their answers arrive (bounded pipe use)
MAX_COMPILED_PROBE = 1 << 16  # longer probes are left to the child to compile (bounded worker time)
CACHED_PROBE_CHARS = 2048  # longer ones are compiled for each run (compiled_probe)
# Waits for a CPU stretch a test's (and the run's) wall time to at most this many times its limit.
# Low, since a program can load the machine itself (its own processes, each under its own
# RLIMIT_CPU) and so wait; a run that reaches it is not counted as credited (rerun.py re-runs it
# if it waited).
MAX_STRETCH = 3.0
MIN_WAIT_CREDIT_S = 0.001  # less new waiting than this at a deadline, and the deadline stands
# A wait still going on is not in the counters yet (the kernel adds it when the thread gets a
# CPU): a test's first deadline without credit is looked at once more this much later.
WAIT_GRACE_S = 0.02


def compiled_probe(probe: str) -> object:
    """A probe expression compiled in the worker, shipped to the child as a code object.

    A probe is trusted text from the task (inputs and the entry-point call, never candidate
    code), so compiling it here is safe; the child then skips a compile() per probe, which
    in a fresh fork costs far more than unmarshalling. Compiled exactly as the child would
    (`compile(probe, "<test>", "eval", dont_inherit=True)`); a probe that does not compile,
    or is very long, travels as text and fails (or compiles) in the child as before.

    Probes up to CACHED_PROBE_CHARS are kept for the runs that follow (a task's samples share
    their probes; at most 4096 of them, so a few tens of MiB at worst): no child is a fork of
    the worker any more (forker.py), so the hidden inputs this holds never reach one.
    """
    return _cached_probe(probe) if len(probe) <= CACHED_PROBE_CHARS else _compile_probe(probe)


def _compile_probe(probe: str) -> object:
    if len(probe) > MAX_COMPILED_PROBE:
        return probe
    try:
        return compile(probe, "<test>", "eval", dont_inherit=True, optimize=0)
    except Exception:  # noqa: BLE001 - the child reports the same error
        return probe


_cached_probe = functools.lru_cache(maxsize=4096)(_compile_probe)


class Tail:
    """Keeps only the last `cap` bytes written to it: output bombs cannot grow memory."""

    def __init__(self, cap: int) -> None:
        self.cap, self.data, self.dropped = cap, bytearray(), 0

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        excess = len(self.data) - self.cap
        if excess > self.cap:
            del self.data[:excess]
            self.dropped += excess

    def text(self) -> str:
        tail = bytes(self.data[-self.cap:]) if self.cap else b""
        return tail.decode("utf-8", errors="replace")


class Run:
    """One program run: the select loop that feeds steps and enforces deadlines."""

    def __init__(self, job: dict, child: Child, context: Context, parent: tuple[int, int] | None = None) -> None:
        # a Java job's compile, answered first by the worker's warm compiler (compile_server.py)
        compiled = time.monotonic()
        self.compile_cpu_s, native = 0.0, job.get("native")
        if native and any("server" in command for command in native["compile"]):
            native, self.compile_cpu_s = compile_server.precompile(native, context)
        self.compile_s = time.monotonic() - compiled
        # the child may first send what the compile produced (languages/built.py), before the program runs
        self.keep, self.built = bool(native and native.get("keep")), ""
        self.child, self.steps = child, job["steps"]
        # streaming (stop_at_first_failure, a held measurement): each answer also goes to the parent
        # at once, and the parent, which alone can judge it, may answer "stop" on the job pipe
        self.parent = parent if job.get("stream") else None
        self.step_timeouts = job["step_timeouts_s"]
        # efficiency (efficiency_run.py): steps held until every test is answered, then sent to the
        # same child at once; the parent, judging the streamed answers, sends "stop" if a test failed
        self.held, self.tests, self.checkpoint = job.get("measure"), len(self.steps), None
        extra_s = self.held["program_timeout_s"] if self.held else 0.0
        self.import_timeout = job["import_timeout_s"]
        cap = context.config["max_output_bytes"]
        self.out, self.err = Tail(cap), Tail(cap)
        # an answer holds one value per probe, each bounded by max_value_bytes (approximately);
        # a measurement's answer one per size (efficiency.held_measurement's "sizes")
        self.max_frame = context.config["max_value_bytes"] * (8 + job.get("sizes", 0)) + (1 << 20)
        if self.held:
            self.max_frame += context.config["max_value_bytes"] * self.held.get("sizes", 0)
        if self.keep:  # base64 of the outputs
            self.max_frame += MAX_BUILT_FRAME
        self.buffer, self.answers, self.durations = bytearray(), [], []
        self.ready = False
        self.sent = 0
        self.pending = bytearray()
        self.start = time.monotonic()
        self.program_deadline = self.start + job["program_timeout_s"]
        self.step_deadline = self.start + self.import_timeout
        self.step_cap = self.start + MAX_STRETCH * self.import_timeout  # how far waits may move it
        self.step_started = self.start
        self.outcome, self.detail = "", ""
        self.exited = False
        # seconds the program or this worker waited for a CPU, added to the deadlines (_credit_waits)
        self.waited, self.looked_at, self.graced, self.capped = 0.0, self.start, None, False
        self.program_counters, self.worker_waits = (0.0, 0.0), own_run_queue_wait_s(context.own_schedstat_fd)
        self.stretch_end = self.start + MAX_STRETCH * (job["program_timeout_s"] + extra_s)
        self.proc_fd, self.own_schedstat_fd = context.proc_fd, context.own_schedstat_fd
        self.nonces: list[bytes] = []  # one per message sent; its answer must end with it
        # drawn together (one getrandom call per program, not per test), after the child was
        # forked and in this process only, so each is unknown to the child until sent
        held_steps = len(self.held["steps"]) + 1 if self.held else 0
        self.fresh_nonces = os.urandom(8 * (len(self.steps) + 1 + held_steps)).hex()
        header = {"program": job["program"], "code": job.get("code", b""), "setup": job.get("setup", ""),
                  "entry_point": job.get("entry_point"),
                  "limits": context.limits(job["program_timeout_s"] + extra_s)}
        # a native job (C++, Java, JavaScript, Rust): the header still goes to the Python child,
        # which compiles and execs the program; the steps go to that program, as JSON
        self.native, self.prestarted = bool(native), child.prestart is not None
        if self.prestarted:
            self._start_prestarted(native, header["limits"]["cpu"], context)
            return
        if self.native:
            header["native"] = native
        # Not root, the child makes a user namespace of its own, which takes the child's RLIMIT_NPROC
        # *at that moment* as the ceiling of the worker's namespace above it (kernel ucounts): lowered
        # from here first (a race), the worker's own processes would count against the program's
        # budget. So that limit is set by the child itself, after its namespace exists.
        nested = context.isolation == "namespaces" and not context.host_root
        own = {"nproc": header["limits"].pop("nproc")} if nested else {}
        try:
            sandbox.apply_rlimits(header["limits"], child.pid, context.hard_limits)
            header["limits"] = own  # set from here; else the child sets them itself
        except OSError:
            header["limits"].update(own)
        self._queue(header)

    def _start_prestarted(self, native: dict, cpu_s: int, context: Context) -> None:
        """The job for a child already running its interpreter (prestart): it set every limit
        jobs share before it started; the job's CPU limit is set from here now, and the job's
        files are written here into its working directory (this worker's scratch directory,
        which its programs use one at a time), as its own; then the start message, JSON (the
        only form the interpreter reads), holds just the nonce."""
        as_uid = context.sandbox_uid if context.host_root and (
            context.isolation == "namespaces" or context.drop_to_nobody) else None
        try:
            sandbox.limit_other(self.child.pid, {"cpu": cpu_s}, as_uid)
            write_files(native["files"], context.scratch, as_uid)
        except OSError as error:  # the program never starts: a sandbox error, not the candidate's
            self.outcome, self.detail = "sandbox", f"could not start the pre-started interpreter's job ({error})"
            return
        self._queue({})

    def _queue(self, message: dict) -> None:
        """Send a message tagged with a fresh nonce. The harness echoes it as the answer's
        last key, so an answer the program forged before that message existed is refused."""
        index = len(self.nonces)
        nonce = self.fresh_nonces[16 * index:16 * index + 16]
        self.nonces.append(b',"n":"' + nonce.encode() + b'"}')
        if "probes" in message:
            message = {**message, "probes": [compiled_probe(probe) for probe in message["probes"]]}
        if self.native and (index or self.prestarted):  # {"t": test index, "n": nonce}: another language
            body = json.dumps({**message, "n": nonce}, separators=(",", ":")).encode()
        else:
            body = marshal.dumps({**message, "n": nonce})
        self.pending += struct.pack(">I", len(body)) + body

    def loop(self) -> None:
        readers = {self.child.result, self.child.out, self.child.err, self.child.exit_fd} - {-1}
        if self.parent is not None:
            readers.add(self.parent[0])
        while not self.outcome:
            now = time.monotonic()
            deadline = min(self.step_deadline, self.program_deadline)
            if now >= deadline:
                if not self.exited and (self._answered_meanwhile(readers) or self._credit_waits(now)):
                    continue
                self.outcome = "died" if self.exited else "timeout"
                break
            writers = [self.child.control] if self.pending else []
            readable, writable, _ = select.select(list(readers), writers, [], deadline - now)
            if writable:
                self._flush()
            for fd in readable:
                self._read(fd, readers)

    def _answered_meanwhile(self, readers: set) -> bool:
        """At a deadline: did an answer arrive that this worker, itself kept waiting for a CPU
        on a loaded machine, has not read yet? Read what is there first; the program is not
        timed out for the worker's own lateness."""
        before = len(self.answers)
        for fd in select.select(list(readers), [], [], 0)[0]:
            self._read(fd, readers)
        return len(self.answers) > before or bool(self.outcome)

    def _credit_waits(self, now: float) -> bool:
        """At a deadline: add the time spent waiting for a CPU since the last look to the
        deadlines, so a limit counts the time the program ran (or slept), not the time a loaded
        machine kept it waiting (item 8 of issue 18; rerun.py re-runs only a timeout not
        credited so). Two waits count: the program's (its threads' run-queue delay) and this
        worker's own (a worker kept waiting is late to feed the program its next test and to
        read its answer), together never more than the time since the last look in this test.
        The worker's wait counts only while the program was blocked (neither running nor
        waiting for a CPU: waiting for its next test, or sleeping): where both share one CPU
        (pin_workers, a single CPU), the worker waits while the program runs, and crediting
        that time gave the program more than its limit in CPU, look after look, up to
        MAX_STRETCH (measured: an endless loop ran 0.45 s of CPU under a 0.3 s limit).

        Read from the kernel's scheduler counters (schedstat), once per deadline reached, never
        per test. Bounded: waiting never stretches a test past MAX_STRETCH times its limit, nor
        the run past that many times its backstop (then `capped`), and RLIMIT_CPU still bounds
        each process's CPU. A wait still going on at the deadline is not counted yet, so a
        test's first look that finds none moves the deadlines WAIT_GRACE_S on and looks again
        (a timeout costs that much more, credited or not). False (the deadline
        stands) when the kernel keeps no counters or nothing waited since that second look."""
        if now >= min(self.step_cap, self.stretch_end):
            self.capped = True
            return False
        new, since = 0.0, now - max(self.looked_at, self.step_started)
        blocked = since  # of it, how long the program neither ran nor waited for a CPU
        program = run_queue_counters(self.proc_fd, self.child.pid)
        if program is not None:
            ran, waited = program[0] - self.program_counters[0], program[1] - self.program_counters[1]
            new, blocked, self.program_counters = waited, max(0.0, since - ran - waited), program
        worker = own_run_queue_wait_s(self.own_schedstat_fd)
        if worker is not None and self.worker_waits is not None:
            new, self.worker_waits = new + min(worker - self.worker_waits, blocked), worker
        new = min(new, since)
        self.looked_at = now
        if new < MIN_WAIT_CREDIT_S:
            if self.graced == self.step_started or (program is None and worker is None):
                return False
            self.graced, new = self.step_started, WAIT_GRACE_S  # a wait not counted yet: look again
        else:
            self.waited += new
        self.step_deadline = min(self.step_deadline + new, self.step_cap)
        self.program_deadline = min(self.program_deadline + new, self.stretch_end)
        return True

    def _flush(self) -> None:
        try:
            written = os.write(self.child.control, self.pending)
        except BlockingIOError:
            return
        except BrokenPipeError:
            self.pending.clear()
            return
        del self.pending[:written]

    def _read(self, fd: int, readers: set) -> None:
        if self.parent is not None and fd == self.parent[0]:  # only ever "stop" (or the parent's end)
            read_message(fd)
            self.outcome = self.outcome or "stopped"  # after the tests: the measurement's, which is dropped
            return
        if fd == self.child.exit_fd:  # exited: take what is already in the pipes, then stop
            readers.discard(fd)
            self.exited = True
            self.step_deadline = min(self.step_deadline, time.monotonic() + 0.05)
            return
        data = os.read(fd, 1 << 16)
        if fd == self.child.out:
            self.out.add(data)
        elif fd == self.child.err:
            self.err.add(data)
        else:
            self.buffer += data
            self._take_frames()
            if not data and not self.outcome:
                self.outcome = "died"
        if not data:
            readers.discard(fd)

    def _take_frames(self) -> None:
        while len(self.buffer) >= 4 and not self.outcome:
            size = struct.unpack(">I", self.buffer[:4])[0]
            if size > self.max_frame:
                self.outcome, self.detail = "malformed", f"answer frame of {size} bytes"
                return
            if len(self.buffer) < 4 + size:
                return
            frame = bytes(self.buffer[4:4 + size])
            del self.buffer[:4 + size]
            self._on_frame(frame)

    def _on_frame(self, frame: bytes) -> None:
        now = time.monotonic()
        if not self.ready:
            self.ready = frame == READY_FRAME
            if not self.ready:
                self.outcome, self.detail = "sandbox", "child did not report ready"
            return
        index = len(self.answers)
        if self.keep and index == 0 and not self.built and frame.startswith(b'{"built":') and \
                frame.endswith(self.nonces[0]):  # sent by the child before it ran the program
            self.built = frame.decode("ascii", errors="replace")
            return
        if index >= len(self.nonces) or not frame.endswith(self.nonces[index]):
            self.outcome, self.detail = "malformed", "an answer that does not belong to the test sent"
            return
        self.answers.append(frame.decode("ascii", errors="replace"))
        self.durations.append(now - self.step_started)
        if self.parent is not None and self.checkpoint is None:  # the measurement's answers: in the reply only
            harness.write_frame(self.parent[1], {"progress": index, "answer": self.answers[-1]})
        answered = len(self.answers) - 1  # answers after the import answer
        if answered >= len(self.steps) or (answered == 0 and not self.answers[0].startswith('{"ok"')):
            if self.held is not None and self.checkpoint is None and answered == self.tests > 0:
                self._measure(now)
            else:
                self.outcome = "done"
            return
        self._feed(answered)
        self.step_started = now
        self.step_deadline = now + self.step_timeouts[answered]
        self.step_cap = now + MAX_STRETCH * self.step_timeouts[answered]

    def _measure(self, now: float) -> None:
        """Every test is answered and a measurement is held: keep what the tests' part of the
        reply holds now, then send the held steps (load, then every size in one) without waiting
        for the parent's verdict (it sends "stop" when a test failed; the measurement of an
        answer that failed is dropped, and the candidate's output after this point is never
        shown)."""
        self._drain_output()
        self.checkpoint = {"answers": len(self.answers), "stdout": self.out.text(), "stderr": self.err.text(),
                           "duration_s": now - self.start}
        held = self.held
        self.steps = [*self.steps, {"load": held["load"], "setup": held["setup"]}, *held["steps"]]
        self.step_timeouts = [*self.step_timeouts[:self.tests], held["import_timeout_s"], *held["step_timeouts_s"]]
        self.step_started, self.step_deadline = now, now + held["import_timeout_s"]
        self.step_cap = now + MAX_STRETCH * held["import_timeout_s"]
        self.program_deadline = now + held["program_timeout_s"]
        self._feed(self.tests)

    def _drain_output(self) -> None:
        """Read what the child already wrote to stdout/stderr (it flushes them before each answer);
        bounded, since a process the program started could keep writing."""
        for fd, tail in ((self.child.out, self.out), (self.child.err, self.err)):
            for _ in range(16):
                if not select.select([fd], [], [], 0)[0]:
                    break
                data = os.read(fd, 1 << 16)
                if not data:
                    break
                tail.add(data)

    def _feed(self, answered: int) -> None:
        """Queue the next steps. Probe steps go ahead in batches (they hold no expected
        value); an in-process fallback snippet is sent only when its turn has come, so a
        candidate can never read a later assertion from its pipe."""
        while self.sent < len(self.steps) and self.sent < answered + BATCH_AHEAD:
            step = self.steps[self.sent]
            if "fallback" in step and self.sent > answered:
                return
            self._queue(step)
            self.sent += 1

    def reply(self, context: Context) -> dict:
        status, usage = self.child.finish(context)
        if not self.ready and self.outcome in ("died", "timeout"):
            self.outcome, self.detail = "sandbox", self.detail or "child died before it was ready"
        reply = {
            "outcome": self.outcome, "detail": self.detail, "answers": self.answers,
            "durations": self.durations, "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "stdout": self.out.text(), "stderr": self.err.text(),
            "duration_s": time.monotonic() - self.start + self.compile_s,
            "cpu_s": usage.ru_utime + usage.ru_stime + self.compile_cpu_s, "peak_rss_kb": usage.ru_maxrss,
            "nivcsw": usage.ru_nivcsw,  # preemptions: a program waiting for a CPU (rerun.py)
            "waited_s": round(self.waited, 6),  # waits for a CPU added to the deadlines (_credit_waits)
            "waits_capped": self.capped,  # the deadlines could move no further (MAX_STRETCH)
            "prestarted": self.prestarted,
            "isolation": context.isolation,
        }
        if self.built:
            reply["built"] = self.built
        if self.checkpoint is None:
            return reply
        # the tests' part is complete whatever happened after it; the measurement's goes apart
        cut, total_s = self.checkpoint["answers"], reply["duration_s"]
        if self.outcome != "stopped":
            reply["measure"] = {"outcome": self.outcome, "detail": self.detail, "answers": self.answers[cut:],
                                "duration_s": total_s - self.checkpoint["duration_s"]}
        reply.update(outcome="done", detail="", answers=self.answers[:cut], durations=self.durations[:cut],
                     stdout=self.checkpoint["stdout"], stderr=self.checkpoint["stderr"],
                     duration_s=self.checkpoint["duration_s"])
        return reply


def prestart(job: dict, context: Context) -> dict | None:
    """What the worker's next child should start before its job arrives, or None (a plain
    child): issue 18's pre-started single-use interpreters.

    Why: a JavaScript sample's CPU is mostly node's own start (~0.04 s of ~0.04 s); started
    while the worker waits for its next job, it is off that job's latency. Only after a job
    whose program offers it (languages/program.NativeProgram.prestart: JavaScript), on the
    guess that the next job is of the same kind; a job of another kind gets a fresh plain child
    instead (fits_prestart), the interpreter's start then wasted. The interpreter starts after
    the previous job ended, in its own sandboxed child like any program's, and reads nothing
    but its own job: single-use."""
    native = job.get("native") or {}
    if not context.config.get("prestart_interpreters", True) or not _prestartable(native):
        return None
    spec = native["prestart"]
    shared = {name: value for name, value in context.limits(0.0).items() if name != "cpu"}
    return {"file": spec["file"], "source": spec["source"], "run": list(native["run"]), "env": native["env"],
            "argv": [*native["run"][:-1], spec["file"]], "limits": shared}


def fits_prestart(job: dict, spec: dict) -> bool:
    """Does `job` run the interpreter `spec` started, exactly as it would start it itself?"""
    native = job.get("native") or {}
    return _prestartable(native) and native["run"] == spec["run"] and native.get("env") == spec["env"]


def _prestartable(native: dict) -> bool:
    """A native job whose interpreter can start before it: one that offers a bootstrap, runs
    its program as the bootstrap's replacement and needs nothing done before it starts."""
    return bool(native.get("prestart")) and bool(native.get("run")) and not native.get("compile") \
        and not native.get("keep") and not native.get("executable")


def run_queue_counters(proc_fd: int, pid: int) -> tuple[float, float] | None:
    """(Seconds run, seconds waited on a run queue) of the process's thread that waited
    longest (a multi-threaded program such as the JVM computes in a thread other than its
    first), read through `proc_fd` (worker.Context.proc_fd); None when there is no such
    procfs or the kernel does not keep the counters (it then reads 0, as it does for a program
    that never waited). `pid` is a child of this worker's forker, unreaped until the worker
    asks for it, so the numbers are still its own."""
    if proc_fd < 0:
        return None
    try:
        threads = os.open(f"{pid}/task", os.O_RDONLY | os.O_DIRECTORY, dir_fd=proc_fd)
    except OSError:
        return None
    counters = []
    try:
        for thread in os.listdir(threads):
            try:
                fd = os.open(f"{thread}/schedstat", os.O_RDONLY, dir_fd=threads)
                try:
                    ran, waited = os.read(fd, 128).split()[:2]
                finally:
                    os.close(fd)
                counters.append((int(ran) / 1e9, int(waited) / 1e9))
            except (OSError, IndexError, ValueError):
                continue
    finally:
        os.close(threads)
    if not any(waited for _, waited in counters):
        return None
    return max(counters, key=lambda counter: counter[1])


def own_run_queue_wait_s(schedstat_fd: int) -> float | None:
    """Seconds this (single-threaded) worker has waited on a run queue, re-read from its own
    open schedstat file (one pread per program: this is on every program's path); None
    without one or when the kernel keeps no counter."""
    if schedstat_fd < 0:
        return None
    try:
        waited = int(os.pread(schedstat_fd, 128, 0).split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None
    return waited or None


def read_message(fd: int) -> dict | None:
    """The next message from the parent on the job pipe (marshal: written by the parent only);
    None at its end."""
    head = harness._read_exact(fd, 4)
    if head is None:
        return None
    body = harness._read_exact(fd, struct.unpack(">I", head)[0])
    return None if body is None else marshal.loads(body)


def run_job(job: dict, child: Child, context: Context, parent: tuple[int, int] | None = None) -> dict:
    """Run `job` in the waiting `child`; the reply for the parent (raw answer frames).
    `parent`: the worker's (job in, reply out) descriptors, used when the job streams."""
    run = Run(job, child, context, parent)
    run.loop()
    return run.reply(context)
