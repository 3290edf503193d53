"""The worker's side of a warm compiler (Java's: runtime/CompileServer.java), inside its sandbox.

Why: a fresh javac pays ~0.3 s of CPU to start a JVM and warm the compiler, for ~0.02 s of
compiling; one warm javac per worker removes that from every sample. Why it stays safe: the
server is forked like a program's child (its own PID namespace, the sandbox uid, the same view
and rlimits) and execs the JVM at once, so it holds nothing of the worker; candidates run in
PID namespaces of their own and cannot see it; javac runs none of the code it compiles
(`-proc:none`); each request gets a fresh file manager and its classes back in memory. The
worker trusts none of its reply: class paths are checked, sizes bounded, the diagnostics
filtered as javac's are (only the candidate's own file is shown), and the server is killed
(SIGKILL) when a request exceeds the compile limit in CPU (its process CPU clock) or three
times that in wall time. Only under `namespaces` isolation: under `rlimits`, programs share
the server's PID namespace and uid, so a candidate could signal or trace it; the job's own
javac command then runs in the child as before. Any failure to start or to answer sensibly
also falls back to that command (except a timeout, which is the source's doing).

A compile command with a "server" entry {"argv": [...], "env": {...}, "sources": [paths]} is
answered here (`precompile`): the job's files gain the class files and lose the command, or
the job gains "failed" (the import answer's error) for the child to send.
"""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import time

from codeself.execution import sandbox
from codeself.execution.languages.native import WALL_FACTOR, expand_heap, javac_diagnostics

READY = 0x636F6465
START_TIMEOUT_S = 60.0  # starting and warming the JVM (about 1 s of CPU here)
MAX_REPLY_BYTES = 32 << 20  # class files and diagnostics of one request
FALLBACK = None


class Server:
    """One running compile server: its process and the worker's ends of its pipes."""

    def __init__(self, context, spec: dict) -> None:
        self.key = _server_key(spec)
        requests_r, self.requests = os.pipe()
        self.replies, replies_w = os.pipe()
        limits = {name: value for name, value in context.limits(0.0).items() if name != "cpu"}
        argv = expand_heap(spec["argv"], limits["as"])
        if context.isolation == "namespaces":
            self.pid = sandbox.fork_in_new_pid_namespace(context.pid_ns_fd)
        else:
            self.pid = os.fork()
        if self.pid == 0:  # never returns
            _become_server(context, (requests_r, replies_w, context.devnull), limits, argv, spec["env"])
        os.close(requests_r)
        os.close(replies_w)
        self.clock = ((~self.pid) << 3) | 2  # the process's CPU clock (CPUCLOCK_SCHED); no /proc needed
        self.buffer, self.ready, self.start_cpu, self.why = bytearray(), False, 0.0, ""
        self.ready = self._read(4, START_TIMEOUT_S, START_TIMEOUT_S) == struct.pack(">I", READY)
        self.spent_s = 0.0  # CPU of the last request

    def cpu_s(self) -> float:
        try:
            return time.clock_gettime(self.clock)
        except OSError:
            return 0.0

    def compile(self, sources: dict[str, bytes], cpu_limit_s: float) -> tuple[int, str, dict[str, bytes]] | str:
        """(status, diagnostics, class files), or why there is no reply: "timeout" (killed at
        the limit) or "failed" (the server died or answered nonsense; it is stopped)."""
        request = bytearray(struct.pack(">i", len(sources)))
        for name, data in sources.items():
            encoded = name.encode()
            request += struct.pack(">H", len(encoded)) + encoded + struct.pack(">i", len(data)) + data
        self.start_cpu, deadline = self.cpu_s(), time.monotonic() + cpu_limit_s * WALL_FACTOR
        if not self._write(bytes(request), deadline):
            return self._failed()
        head = self._read(8, deadline - time.monotonic(), cpu_limit_s)
        if head is None:
            return self._failed()
        status, size = struct.unpack(">ii", head)
        if status not in (0, 1, 2, 3) or not 0 <= size <= MAX_REPLY_BYTES:
            return self._failed("failed")
        text = self._read(size, deadline - time.monotonic(), cpu_limit_s)
        classes: dict[str, bytes] = {}
        count = self._int(deadline, cpu_limit_s) if status == 0 and text is not None else 0
        total = size
        for _ in range(count or 0):
            name_size = self._read(2, deadline - time.monotonic(), cpu_limit_s)
            name = name_size and self._read(struct.unpack(">H", name_size)[0], deadline - time.monotonic(), cpu_limit_s)
            length = name is not None and self._int(deadline, cpu_limit_s)
            if name is None or length is None or not 0 <= length <= MAX_REPLY_BYTES - total:
                return self._failed("failed")
            data = self._read(length, deadline - time.monotonic(), cpu_limit_s)
            path = name.decode("utf-8", errors="replace")
            if data is None or not _class_path(path):
                return self._failed("failed")
            classes[path] = data
            total += length
        if text is None or count is None:
            return self._failed()
        self.spent_s = self.cpu_s() - self.start_cpu
        return status, text.decode("utf-8", errors="replace"), classes

    def _int(self, deadline: float, cpu_limit_s: float) -> int | None:
        data = self._read(4, deadline - time.monotonic(), cpu_limit_s)
        return None if data is None else struct.unpack(">i", data)[0]

    def _write(self, data: bytes, deadline: float) -> bool:
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [self.requests], [], left)[1]:
                self.why = "timeout"
                return False
            try:
                view = view[os.write(self.requests, view[:1 << 16]):]
            except OSError:
                self.why = "failed"
                return False
        return True

    def _read(self, size: int, wall_s: float, cpu_limit_s: float) -> bytes | None:
        """`size` bytes, or None (self.why says whether time ran out or the server ended)."""
        deadline = time.monotonic() + max(0.0, wall_s)
        while len(self.buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0 or (self.ready and self.cpu_s() - self.start_cpu > cpu_limit_s):
                self.why = "timeout"
                return None
            if not select.select([self.replies], [], [], min(left, 0.25))[0]:
                continue
            chunk = os.read(self.replies, 1 << 16)
            if not chunk:
                self.why = "failed"
                return None
            self.buffer += chunk
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _failed(self, why: str = "") -> str:
        self.spent_s = self.cpu_s() - self.start_cpu
        self.close()
        return why or self.why or "failed"

    def close(self) -> None:
        if self.pid <= 0:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        self.pid = 0
        for fd in (self.requests, self.replies):
            os.close(fd)


def _server_key(spec: dict) -> str:
    """What makes a server: its command and environment (not the request's own fields)."""
    return json.dumps([spec["argv"], spec["env"]], sort_keys=True)


def _class_path(path: str) -> bool:
    parts = path.split("/")
    return path.endswith(".class") and not path.startswith("/") and ".." not in parts and "" not in parts


def _become_server(context, fds: tuple[int, int, int], limits: dict, argv: list[str], env: dict) -> None:
    """In the forked server: stdin/stdout on the pipes, stderr to /dev/null, the sandbox,
    the limits, then the JVM. Never returns."""
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, 1 << 20)
        if context.isolation == "namespaces":
            sandbox.isolate_namespaced_child(context.host_root, context.sandbox_uid)
        sandbox.apply_rlimits(limits)
        os.execve(argv[0], argv, env)
    finally:
        os._exit(127)


class Servers:
    """The worker's compile servers, started on first use; at most one (the last spec asked)."""

    def __init__(self) -> None:
        self.current: Server | None = None

    def get(self, context, spec: dict) -> Server | None:
        key = _server_key(spec)
        if self.current is not None and (self.current.key != key or not self.current.pid):
            self.close()
        if self.current is None:
            self.current = Server(context, spec)
        if not self.current.ready:
            self.close()
            return None
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None


SERVERS = Servers()


def precompile(native: dict, context) -> tuple[dict, float]:
    """The native payload with its server compile commands answered here, and the servers'
    CPU seconds spent on it (added to the run's). Unchanged when none can be (see above)."""
    if context.isolation != "namespaces" or not any("server" in command for command in native["compile"]):
        return native, 0.0
    files, remaining, cpu_s = dict(native["files"]), [], 0.0
    for position, command in enumerate(native["compile"]):
        spec = command.get("server")
        if spec is None:
            remaining.append(command)
            continue
        answer, spent = _ask(context, spec, {name: files[name] for name in spec["sources"]},
                             float(native["compile_timeout_s"]), int(native["log_bytes"]))
        cpu_s += spent
        if answer is FALLBACK:
            remaining.append(command)
        elif "type" in answer:  # the import answer's error: no later command runs
            return {**native, "files": files, "compile": [], "failed": answer}, cpu_s
        else:
            files.update(answer["classes"])
    return {**native, "files": files, "compile": remaining}, cpu_s


def _ask(context, spec: dict, sources: dict[str, bytes], limit_s: float, log_bytes: int):
    """{"classes": {path: bytes}}; the import answer's error ({"type": ..., "message": ...});
    or FALLBACK (the command runs in the child); and the server's CPU seconds."""
    for _attempt in range(2):  # a server that died or was stopped gets one successor
        server = SERVERS.get(context, spec)
        if server is None:
            return FALLBACK, 0.0
        reply = server.compile(sources, limit_s)
        spent = max(0.0, server.spent_s)
        if reply == "timeout":
            SERVERS.close()
            what = spec.get("what", "compilation")
            return {"type": "CompileTimeout", "message": f"{what} exceeded its time limit ({limit_s:g} s of CPU)"}, spent
        if isinstance(reply, tuple):
            break
        SERVERS.close()
    else:
        return FALLBACK, 0.0
    status, text, classes = reply
    if status == 3:
        return FALLBACK, spent
    if status == 2:
        SERVERS.close()  # it halts itself after such a failure
    if status == 0:
        return {"classes": classes}, spent
    if spec.get("quiet"):
        return {"type": "CompileError", "message": f"{spec.get('what', 'compilation')} failed"}, spent
    shown = javac_diagnostics(text.splitlines(keepends=True), spec.get("own_file", ""))
    return {"type": "CompileError", "message": shown[:log_bytes] or
            f"{spec.get('what', 'compilation')} failed" + ("" if status != 2 else f": {text[:200]}")}, spent

