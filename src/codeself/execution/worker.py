"""The warm worker: a fresh, small, single-threaded interpreter; one child per program.

Why a separate interpreter: forking the caller (a big, multi-threaded trainer holding every
task's hidden tests) deadlocks, inherits its address space and leaks its memory to the
candidate. The Executor starts workers with subprocess at creation; each worker sets up its
sandbox once (sandbox.py), warms up, and forks its forker (forker.py): a copy of itself that
forks, reaps and wipes after every child, and never holds a job, so no job sits in any
child's memory. For every job over its stdin/stdout pipes the worker takes the child forked
for it and supervises the run (supervise.py): program first, then the tests in batches,
every timeout enforced with SIGKILL, output capped at the pipe; it returns the child's raw
answer frames, which the parent decodes and judges. Keep it small: every program is a fork
of its warm state, and each module or shared library it loads is paid again by every fork.

Run as `python -S -s worker.py CONFIG_JSON`. Messages on stdin/stdout: 4-byte big-endian
length + body; jobs in are marshal data (from the parent only), replies out are JSON. First
message out: {"ready": bool, "isolation": str, "error": str, "scratch": str}.
"""

from __future__ import annotations

import json
import marshal
import os
import select
import signal
import struct
import sys

if __name__ == "__main__":  # started as a file: import `codeself` from src/, not this directory
    _HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [path for path in sys.path if os.path.abspath(path or ".") != _HERE]
    sys.path.insert(0, os.path.dirname(os.path.dirname(_HERE)))

from codeself.execution import child as harness  # noqa: E402
from codeself.execution import forker, sandbox, supervise  # noqa: E402
from codeself.execution.supervise import run_job  # noqa: E402

CHILD_SETUP_FAILED = 70


class Context:
    """What every child of this worker shares: sandbox level, limits, fds, directories."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.isolation = "rlimits"
        self.host_root = sandbox.is_host_root()
        self.pid_ns_fd = -1
        self.proc_fd = -1  # a procfs of the children's PID numbers, seen through this fd only (supervise.py)
        self.own_schedstat_fd = -1  # this worker's schedstat in it, kept open (supervise.py)
        self.scratch = ""  # the working directory every child of this worker starts in
        self.base_vm = 0
        self.drop_to_nobody = False
        self.forker: forker.Forker | None = None  # forks and reaps every child (forker.py)
        # as root: the uid this worker's programs run as, claimed for it alone by the parent (uids.py)
        self.sandbox_uid = int(config.get("sandbox_uid", sandbox.NOBODY))
        self.devnull = os.open("/dev/null", os.O_RDWR)
        # the hard limits every child starts with: this worker's, which nothing here changes
        self.hard_limits = sandbox.hard_limits(self.limits(0.0))

    def open_own_schedstat(self) -> None:
        if self.proc_fd >= 0:
            try:
                self.own_schedstat_fd = os.open("self/schedstat", os.O_RDONLY, dir_fd=self.proc_fd)
            except OSError:
                pass

    def measure_base(self) -> None:
        """The worker's own address-space size: the child's memory limit is budgeted above it."""
        with open("/proc/self/statm") as handle:
            self.base_vm = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")

    def limits(self, program_timeout_s: float) -> dict[str, int]:
        """rlimits of one program; CPU seconds follow this job's wall-clock backstop."""
        cfg = self.config
        return {"as": self.base_vm + (cfg["memory_mb"] + 64) * 2**20, "cpu": int(program_timeout_s) + 2,
                "fsize": cfg["max_file_mb"] * 2**20, "nofile": 256, "nproc": cfg["max_processes"], "core": 0}


class Child:
    """A sandboxed child waiting for its program, forked by the worker's forker (forker.py),
    and the worker's ends of its pipes. `prestart`: the interpreter it started, to wait for
    its job there (supervise.prestart); `following`: what the child forked once this one is
    finished pre-starts."""

    def __init__(self, context: Context) -> None:
        self.pid, (self.control, self.result, self.out, self.err), self.prestart = context.forker.child()
        self.following: dict | None = None
        os.set_blocking(self.control, False)
        self.exit_fd = _pidfd(self.pid)  # readable once the child has exited

    def exited(self) -> bool:
        """Has the child exited already (a pre-started interpreter that did not start)?"""
        return self.exit_fd >= 0 and bool(select.select([self.exit_fd], [], [], 0)[0])

    def finish(self, context: Context, then_spawn: bool = True) -> tuple[int, object]:
        """SIGKILL the child's whole tree, reap it, empty the working directory (the forker
        does all three, then forks the next child unless told not to); returns (wait status,
        rusage)."""
        status, usage = context.forker.finish(self.pid, then_spawn, self.following)
        for fd in (self.control, self.result, self.out, self.err, self.exit_fd):
            if fd >= 0:
                os.close(fd)
        return status, usage


def _pidfd(pid: int) -> int:
    """A pidfd for the child (Linux >= 5.3), so an exit is seen even while a descendant
    still holds the result pipe open (rlimits mode); -1 where unsupported. The child is the
    forker's, but stays unreaped (its pid not reused) until the worker asks for finish()."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return -1


def _become_child(context: Context, fds: list[int], prestart: dict | None = None) -> None:
    """In the child: fds 0-4 only, empty environment, sandbox, then the harness (or, with
    `prestart`, the interpreter that waits for its job). Never returns. `fds` (all >= 5)
    become 0-4 in order."""
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(len(fds), 1 << 20)
        if context.isolation == "namespaces":
            sandbox.isolate_namespaced_child(context.host_root, context.sandbox_uid)
        else:
            sandbox.isolate_rlimits_child(context.scratch, context.sandbox_uid if context.drop_to_nobody else None)
        harness.write_ready(harness.RESULT_FD)
        if prestart is not None:
            harness.native.prestart(prestart)
        harness.serve(context.config["max_value_bytes"])
    finally:
        os._exit(CHILD_SETUP_FAILED)


def _read_job(fd: int) -> dict | None:
    """The next job from the parent (marshal: written by the parent only), None at the end.
    A "stop" that arrives after its run had already finished is skipped."""
    while True:
        message = supervise.read_message(fd)
        if message is None or not message.get("stop"):
            return message


def _write_message(fd: int, message: dict) -> None:
    body = json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode()
    data = struct.pack(">I", len(body)) + body
    while data:
        data = data[os.write(fd, data):]


# Standard modules that task programs import most often (MBPP: re, math, collections, heapq,
# itertools; HumanEval: typing, math, random, copy, string; models add bisect, functools,
# statistics, ...). Imported once here, they cost a child nothing; imported by a freshly
# forked child, each costs that program 1-10 ms (finding it, loading its shared library,
# running its code). Each adds a little to every fork, so the list stays short.
PRELOADED_MODULES = ("array", "bisect", "cmath", "collections", "copy", "datetime", "functools", "heapq",
                     "itertools", "math", "operator", "random", "re", "statistics", "string", "typing")


def _preload() -> None:
    """Import PRELOADED_MODULES. (`random` reseeds itself from the OS in every forked child,
    through its own at-fork hook, so programs do not share a random sequence.)"""
    for name in PRELOADED_MODULES:
        __import__(name)


def _warm_up(config: dict) -> None:
    """Run the child's code paths once here, on constant data, before any child is forked.

    Much of CPython initialises lazily on first use (the compiler's first call costs about
    2 ms; a worker started from cached bytecode has never compiled anything). Done in a
    child, that work would be repeated by every program; done here, it is inherited.
    Nothing of a job is involved, so nothing leaks into the children.
    """
    namespace = {"__name__": harness.CANDIDATE_MODULE, "__builtins__": harness.builtins}
    harness._import({"program": "def _warm(x):\n    return [x, {x: (x, 1.5)}]\n", "setup": "y = 1"}, namespace)
    probe = supervise.compiled_probe("_warm(2)")
    answer = harness._answer({"probes": [probe, "_warm(3)"]}, namespace, "_warm", config["max_value_bytes"])
    harness._answer({"call": harness._encode([[4]])}, namespace, "_warm", config["max_value_bytes"])
    harness._answer({"fallback": "assert _warm(5)"}, namespace, "_warm", config["max_value_bytes"])
    harness.describe(ValueError("warm-up"))
    harness.frame_bytes({**answer, "n": "0" * 16})
    harness._loads(marshal.dumps({"probes": [probe], "n": "0" * 16}))
    if config.get("efficiency"):
        _warm_up_meter(config)


# a program as charged.charged_code rewrites one: the meter's helpers in its loop
_WARM_MEASURED = ("def _warm(xs):\n    total = xs[0]\n    for x in xs:\n        total = __codeself_iadd__(total, x)\n"
                  "        if __codeself_in__(x, xs):\n            total = __codeself_add__(total, 1)\n"
                  "    return __codeself_call__(sorted, __codeself_slice__(xs, None, 2, None))\n")


def _warm_up_meter(config: dict) -> None:
    """The measurement's code paths (meter.py) run here until the interpreter has specialised
    them, so that each child measuring an answer inherits that work instead of redoing it and
    copying the pages it writes (a few percent of a measured answer's cost)."""
    namespace = {"__name__": harness.CANDIDATE_MODULE, "__builtins__": harness.builtins, **harness.meter.HELPERS}
    exec(compile(_WARM_MEASURED, "<warm-up>", "exec"), namespace)  # noqa: S102 - constant, trusted
    arguments = [[list(range(size))] for size in (4, 16)]
    for _ in range(16):
        harness._measured_sizes(namespace["_warm"], arguments, 10_000, config["max_value_bytes"])


def _python_dirs() -> list[str]:
    """The interpreter's own directories: the child may import any stdlib module."""
    dirs = {sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix}
    return sorted(d for d in dirs if d and os.path.isdir(d))


def _setup_namespaces(context: Context, out_fd: int, in_fd: int) -> None:
    """Enter namespaces; fork the real worker as PID 1 of them; the original just waits.

    The real worker takes its own mount namespace and builds the view on a tmpfs mounted
    over /tmp there, so nothing is ever created on the host and nothing needs cleaning up.
    """
    sandbox.enter_worker_namespaces()
    pid = os.fork()
    if pid:
        _wait_for_worker(pid, (out_fd, in_fd))
    sandbox.prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)
    context.pid_ns_fd = os.open("/proc/self/ns/pid", os.O_RDONLY)
    context.measure_base()
    sandbox.unshare(sandbox.CLONE_NEWNS)
    sandbox.mount("tmpfs", "/tmp", "tmpfs", sandbox.MS_NOSUID | sandbox.MS_NODEV, "size=1m,mode=700")
    os.mkdir("/tmp/proc")
    context.proc_fd = sandbox.private_proc("/tmp/proc")
    context.open_own_schedstat()
    os.mkdir("/tmp/view")
    # plus what the other languages' toolchains need (languages/toolchains.py, read-only)
    sandbox.build_view("/tmp/view", _python_dirs() + context.config.get("view_dirs", []), context.config["scratch_mb"])
    context.scratch = "/tmp"
    context.isolation = "namespaces"


def _wait_for_worker(pid: int, fds: tuple[int, ...]) -> None:
    """The original process after the fork: wait for the real worker, then exit like it."""
    status = 1 << 8
    try:
        for fd in fds:
            os.close(fd)
        _, status = os.waitpid(pid, 0)
    finally:
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _setup_rlimits(context: Context) -> None:
    sandbox.prctl(sandbox.PR_SET_CHILD_SUBREAPER, 1)
    context.measure_base()
    import tempfile

    context.scratch = tempfile.mkdtemp(prefix="codeself-scratch-")
    try:  # the children share this process's PID namespace, and (bwrap: its own) /proc
        context.proc_fd = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        pass
    context.open_own_schedstat()
    context.drop_to_nobody = context.host_root and _nobody_can_import(context.sandbox_uid)
    if context.drop_to_nobody:
        os.chown(context.scratch, context.sandbox_uid, context.sandbox_uid)


def _nobody_can_import(uid: int) -> bool:
    """Root only: can `uid` (no account's) read the interpreter's stdlib? (pyenv under /root cannot.)"""
    pid = os.fork()
    if pid == 0:
        try:
            sandbox.become_user(uid)
            os.listdir(os.path.dirname(os.__file__))
            os._exit(0)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _self_test(context: Context) -> str:
    """Run a trivial program through the whole path; the error text, or "" when it works."""
    job = {"program": "x = 20", "setup": "", "steps": [{"probes": ["x + 1"]}],
           "step_timeouts_s": [10.0], "import_timeout_s": 10.0, "program_timeout_s": 20.0}
    reply = run_job(job, Child(context), context)
    answers = [json.loads(answer) for answer in reply["answers"]]
    if reply["outcome"] != "done" or [answer.get("ok") or answer.get("values") for answer in answers] != [True, [21]]:
        return f"self-test failed: {reply['outcome']} {reply['detail']} {reply['answers']} {reply['stderr'][-300:]}"
    return ""


def main() -> None:
    config = json.loads(sys.argv[1])
    if config.get("cpu") is not None:  # worker_handle.worker_cpus: inherited by the forker and every child
        try:
            os.sched_setaffinity(0, {config["cpu"]})
        except OSError:
            pass
    sys.path.extend(path for path in config.get("site_packages", []) if path not in sys.path)
    in_fd, out_fd = os.dup(0), os.dup(1)
    os.dup2(os.open("/dev/null", os.O_RDWR), 0)
    os.dup2(0, 1)
    os.environ.clear()  # children inherit nothing (the Executor already passes a minimal one)
    context = Context(config)
    error = ""
    try:
        if config["sandbox"] in ("auto", "namespaces"):
            _setup_namespaces(context, out_fd, in_fd)
        else:  # rlimits, or bwrap: bubblewrap made the namespaces, the rlimits path runs inside
            _setup_rlimits(context)
            if config["sandbox"] == "bwrap":
                context.isolation = "bwrap"
        sandbox.harden_worker()
        _preload()
        _warm_up(config)
        context.forker = forker.Forker(context, _become_child, (in_fd, out_fd))
        error = _self_test(context)
    except OSError as exc:
        error = f"{config['sandbox']} sandbox unavailable: {exc}"
    scratch = context.scratch if context.isolation == "rlimits" else ""
    _write_message(out_fd, {"ready": not error, "isolation": context.isolation, "error": error,
                            "scratch": scratch})
    if not error:
        try:
            serve(context, in_fd, out_fd)
        except OSError:  # its forker died (in rlimits mode as root a program can kill it), or a fork
            os._exit(1)  # failed: the run is failed as its worker's death and the Executor replaces it
    if context.forker is not None:
        context.forker.close()


def serve(context: Context, in_fd: int, out_fd: int) -> None:
    """The job loop. Each job's child was forked (by the forker) before the job was read."""
    while True:
        job = _read_job(in_fd)
        child = Child(context)
        if child.prestart is not None and (job is None or not supervise.fits_prestart(job, child.prestart)
                                           or child.exited()):
            child.finish(context)  # an interpreter started for a job of another kind
            child = Child(context)
        if job is None:
            child.finish(context, then_spawn=False)
            supervise.compile_server.SERVERS.close()  # a Java job's warm compiler, if one started
            if context.isolation == "rlimits":
                sandbox.wipe_directory(context.scratch)
                os.rmdir(context.scratch)
            return
        child.following = supervise.prestart(job, context)  # no test in it: the program's runtime, argv, env
        reply = run_job(job, child, context, (in_fd, out_fd))  # it reads a "stop" sent during the run
        del job
        _write_message(out_fd, reply)
        del reply


if __name__ == "__main__":
    main()
