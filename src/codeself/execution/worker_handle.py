"""The parent's side of one worker process: start it, send it jobs, read its replies, stop it.

Why a module of its own: this is the only code that talks to the worker interpreters
(worker.py is their side). A `Worker` is used by one thread at a time (the Executor's idle
queue hands it out); the Executor replaces one whose pipe closes mid-request.
"""

from __future__ import annotations

import json
import marshal
import os
import select
import shutil
import struct
import subprocess
import sys
from dataclasses import asdict

from codeself.execution import sandbox as isolation
from codeself.execution import uids, worker
from codeself.execution.bwrap import bwrap_command
from codeself.execution.languages import toolchains

_WORKER_FILE = os.path.abspath(worker.__file__)


class WorkerDied(Exception):
    """The worker's pipe closed mid-request."""


class Worker:
    """One worker interpreter and its pipes. Used by one thread at a time (the pool queue)."""

    def __init__(self, config, sandbox: str, *, cpu: int | None = None, handshake: bool = True) -> None:
        """Start the worker; with `handshake`, also wait for its hello (else call handshake()
        later: several workers then start at once, each interpreter's start-up overlapping).
        `cpu`: the one CPU the worker and its programs run on (worker_cpus), or None."""
        self.cpu = cpu
        # -S: no site processing (its imports would double the worker's mappings, and every
        # mapping is paid again by each fork); site-packages go on sys.path explicitly.
        # as root, this worker's programs run as a uid no other sandbox uses (uids.py: RLIMIT_NPROC
        # counts per uid); held until close()
        self.sandbox_uid, self._uid_claim = isolation.NOBODY, None
        if sandbox != "bwrap" and isolation.is_host_root():
            self.sandbox_uid, self._uid_claim = uids.claim(config.sandbox_uid_base, config.sandbox_uid_count)
        settings = asdict(config) | {"sandbox": sandbox, "site_packages": _site_packages(),
                                     "view_dirs": toolchains.view_dirs(), "sandbox_uid": self.sandbox_uid,
                                     "cpu": cpu}
        # LD_BIND_NOW: the worker resolves every library symbol at start (~5 ms once), so its
        # children do not each resolve (and copy the pages of) those it never called itself
        env = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0", "PYTHONUTF8": "1",
               "PYTHONDONTWRITEBYTECODE": "1", "LD_BIND_NOW": "1"}
        command = [sys.executable, "-S", "-s", _WORKER_FILE, json.dumps(settings)]
        if sandbox == "bwrap":
            command = bwrap_command(_WORKER_FILE, settings["site_packages"] + settings["view_dirs"]) + command
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env=env, close_fds=True, start_new_session=True, bufsize=0)
        self.sandbox = sandbox
        if handshake:
            self.handshake()

    def handshake(self) -> dict:
        """Wait for the worker's hello (`ready`, `isolation`, `scratch` or `error`)."""
        sandbox = self.sandbox
        try:
            self.hello = self._receive()
        except WorkerDied:
            try:
                code = self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                code = self.process.wait()
            self.hello = {"ready": False, "isolation": sandbox, "scratch": "",
                          "error": f"the worker exited during start-up (exit code {code})"}
        return self.hello

    def request(self, job: dict, on_progress=None) -> dict:
        """Jobs go out as marshal data (trusted direction: the worker reads only what this
        process wrote, and marshal carries the compiled program); replies come back as JSON,
        the only format parsed from the worker, whose children run untrusted code.

        A streaming job (`job["stream"]`) is answered by progress messages, one per answer
        ({"progress": index, "answer": frame}), then the reply; `on_progress(message)`
        returning True sends the worker a "stop"."""
        self._send(job)
        while True:
            message = self._receive()
            if "progress" not in message:
                return message
            if on_progress is not None and on_progress(message):
                on_progress = None  # one stop is enough; later progress messages are drained
                self._send({"stop": True})

    def _send(self, message: dict) -> None:
        body = marshal.dumps(message)
        try:
            self.process.stdin.write(struct.pack(">I", len(body)) + body)
        except (BrokenPipeError, OSError, ValueError):
            raise WorkerDied() from None

    def _receive(self) -> dict:
        head = self._read(4)
        return json.loads(self._read(struct.unpack(">I", head)[0]))

    def _read(self, size: int) -> bytes:
        chunks = []
        while size:
            chunk = self.process.stdout.read(size)
            if not chunk:
                raise WorkerDied()
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def begin_close(self) -> None:
        """Close the pipes: the worker sees their end and exits (its sandbox with it)."""
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def close(self, wait_s: float = 2.0) -> None:
        self.begin_close()
        try:
            _wait_exit(self.process, wait_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        scratch = self.hello.get("scratch") if hasattr(self, "hello") else ""
        if scratch and os.path.basename(scratch).startswith("codeself-scratch-"):
            shutil.rmtree(scratch, ignore_errors=True)  # left behind when the worker was killed
        if self._uid_claim is not None:  # only now: the worker and its programs are gone
            self._uid_claim.close()
            self._uid_claim = None


def stop_workers(workers: list, owner_pid: int) -> None:
    """Stop every worker; in a forked copy of the caller, leave the original's workers alone."""
    if os.getpid() != owner_pid:
        return
    stopping, workers[:] = list(workers), []
    for started in stopping:  # all exit at once, rather than one after the other
        started.begin_close()
    for started in stopping:
        started.close()


def worker_cpus(config) -> list[int | None]:
    """The CPU each of the Executor's workers is kept on: one of its own when `pin_workers`
    and the workers are exactly as many as the CPUs this process may use; else None each.

    Why: a worker, its forker and the program they run hand the CPU to each other several
    times a program; on one CPU those hand-overs stay in its caches instead of migrating
    (measured on HumanEval x 5, 2 workers on 2 CPUs of a shared VM: ~5 % more programs a
    second on average, from 4 % fewer to 11 % more in a run). The execution tests once ran
    ~17 % slower pinned; that was supervise.Run._credit_waits crediting a worker's waits
    while its program ran on the same CPU (endless loops ran to MAX_STRETCH), since fixed:
    now as fast either way. Only when the Executor claims every CPU it has: pinned beside
    other work (Ray actors, several small Executors), workers would share CPUs unevenly."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        allowed = []
    if not config.pin_workers or config.workers < 2 or len(allowed) != config.workers:
        return [None] * config.workers
    return allowed


def _wait_exit(process: subprocess.Popen, timeout_s: float) -> None:
    """`process.wait(timeout_s)`, woken by the exit itself (a pidfd) rather than by
    Popen.wait's polling, whose growing sleeps added up to half of a worker's stop time."""
    if process.poll() is not None:  # reaped already: its pid may be another process's now
        return
    descriptor = worker._pidfd(process.pid)
    if descriptor < 0:  # not Linux 5.3+
        process.wait(timeout_s)
        return
    try:
        if not select.select([descriptor], [], [], timeout_s)[0]:
            raise subprocess.TimeoutExpired(process.args, timeout_s)
    finally:
        os.close(descriptor)
    process.wait(timeout_s)  # exited: reaps at once


def _site_packages() -> list[str]:
    """The interpreter's site-packages (not the user's), for workers started with -S."""
    import site

    try:
        return [path for path in site.getsitepackages() if os.path.isdir(path)]
    except AttributeError:  # virtualenv's old site.py
        return []
