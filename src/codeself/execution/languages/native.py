"""The sandboxed child's side of a C++, Java, JavaScript or Rust job: write, compile, exec.

Why in the Python child: the worker has already forked it into the sandbox (namespaces, uid,
rlimits) and set its limits, so the compilers, which read hostile source, run under exactly
the isolation a Python program gets. The child writes the job's files into its scratch
directory, runs each compile command in its own process group under the compile timeout
(SIGKILL of the group when it expires), answers the import step itself when compiling fails,
and otherwise replaces itself (execve) with the program, which answers the import step and
then every test step itself (docs/languages.md, "Protocol"). Nothing here is trusted after
the exec; the worker and the parent judge what comes out. Keep it small: every fork has it.

Header keys (under "native"): files {path: bytes}, compile [{"argv": [...], "quiet": bool,
"what": str, "filter": "rustc-json:FILE" or "javac:FILE", "jvm": bool}], run [argv], env {name: value},
compile_timeout_s, log_bytes. In every argv, HEAP_TOKEN becomes the megabytes a JVM may give
its heap under this process's address-space limit (the JVM reserves that much up front).
"""

from __future__ import annotations

import binascii
import json
import math
import os
import re
import resource
import select
import signal
import struct

LOG = ".codeself-compile.log"
MAX_BUILT_BYTES = 2 << 20  # a compile's outputs larger than this are not sent back (built.py)
MAX_BUILT_FRAME = MAX_BUILT_BYTES * 4 // 3 + (1 << 16)  # their frame: base64 and names
WALL_FACTOR = 3  # wall-clock limit of a compile command, as a multiple of its CPU limit
HEAP_TOKEN = "@HEAP_MB@"
JVM_RESERVED_MB = 512  # what a JVM maps besides its heap (code, class space, CDS, stacks, malloc)
HARNESS_HIDDEN = ("{} error(s) in the test harness, not shown (it holds the tests); "
                  "does the entry point keep the task's signature?")


def serve(job: dict, nonce: str, result_fd: int) -> None:
    """Run one native job in this (sandboxed) child; never returns."""
    try:
        if job.get("failed"):  # the worker's compile server already answered: it did not compile
            _answer(result_fd, {"error": job["failed"]}, nonce)
            os._exit(0)
        write_files(job["files"])
        for path in job.get("executable", ()):
            os.chmod(path, 0o755)
        for command in job["compile"]:
            error = _compile(command, job["env"], float(job["compile_timeout_s"]), int(job["log_bytes"]))
            if error is not None:
                _answer(result_fd, {"error": error}, nonce)
                os._exit(0)
        if job.get("keep"):  # before the program runs: nothing of it is in what is sent (built.py)
            _send_built(result_fd, job["keep"], nonce)
        argv = [*_expand(job["run"]), nonce]
        os.execve(argv[0], argv, job["env"])
    except OSError as error:  # writing files or exec failed: the sandbox, not the candidate
        _answer(result_fd, {"error": {"type": "SandboxError", "message": f"{type(error).__name__}: {error}"[:300]}},
                nonce)
    os._exit(0)


def prestart(spec: dict) -> None:
    """In the sandboxed child, before any job: take the limits every job of this worker shares
    (a job's CPU limit is set by the worker when it arrives), write the bootstrap and exec the
    interpreter on it (supervise.prestart), which reads its job from the control pipe. Never
    returns; a child that cannot start it exits, and the worker uses a fresh one."""
    try:
        from codeself.execution import sandbox

        sandbox.apply_rlimits(spec["limits"])
        with open(spec["file"], "wb") as handle:
            handle.write(spec["source"])
        os.execve(spec["argv"][0], spec["argv"], spec["env"])
    finally:
        os._exit(1)


def _send_built(fd: int, keep: list[str], nonce: str) -> None:
    """Send the compile's outputs named by `keep` ("*.class": every class file) as one frame,
    {"built": {path: base64}, "x": [executable paths]}; nothing when one is missing or they
    are larger than MAX_BUILT_BYTES (the parent then compiles that program again)."""
    paths = [path for pattern in keep for path in (_class_files() if pattern == "*.class" else [pattern])]
    built, executable, total = {}, [], 0
    for path in paths:
        try:
            if os.path.islink(path) or not os.path.isfile(path):
                return
            with open(path, "rb") as handle:
                data = handle.read(MAX_BUILT_BYTES + 1)
        except OSError:
            return
        total += len(data)
        if total > MAX_BUILT_BYTES:
            return
        built[path] = binascii.b2a_base64(data, newline=False).decode("ascii")
        if os.stat(path).st_mode & 0o100:
            executable.append(path)
    if built:
        _answer(fd, {"built": built, "x": executable}, nonce)


def _class_files() -> list[str]:
    found = []
    for root, _dirs, names in os.walk("."):
        found.extend(os.path.relpath(os.path.join(root, name)) for name in names if name.endswith(".class"))
    return sorted(found)


def write_files(files: dict, root: str = ".", owner: int | None = None) -> None:
    """The job's files under `root` (the child's working directory); `owner`: the uid (and gid)
    to give them when the worker writes them for a pre-started child (supervise.prestart), so
    they are the program's own as when the child writes them."""
    for path, data in files.items():
        if path.startswith("/") or ".." in path.split("/"):
            raise OSError(f"refused file path {path!r}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(os.path.join(root, directory), exist_ok=True)
            if owner is not None:
                os.chown(os.path.join(root, directory), owner, owner)
        fd = os.open(os.path.join(root, path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        if owner is not None:
            os.fchown(fd, owner, owner)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)


def _compile(command: dict, env: dict, timeout_s: float, log_bytes: int) -> dict | None:
    """None when the command succeeded; else the import answer's error (CompileError or
    CompileTimeout). A "quiet" command's output is never quoted: it may show test inputs."""
    log = os.open(LOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # The limit is CPU time (RLIMIT_CPU, each compiler process), so a loaded machine does not
    # fail a compile; wall time gets WALL_FACTOR times as much, against compilers that sleep.
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    cpu = math.ceil(timeout_s)
    cpu_before = _children_cpu_s()
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu if hard == resource.RLIM_INFINITY else min(cpu, hard), hard))
        actions = [(os.POSIX_SPAWN_DUP2, log, 1), (os.POSIX_SPAWN_DUP2, log, 2),
                   (os.POSIX_SPAWN_CLOSE, 3), (os.POSIX_SPAWN_CLOSE, 4)]
        argv = _expand(command["argv"])
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setpgroup=0)
    finally:
        os.close(log)
        resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
    finished = _wait(pid, timeout_s * WALL_FACTOR)
    what = command.get("what", "compilation")
    # A driver (g++) whose compiler proper hit the CPU limit exits with an error of its own; the
    # CPU its process tree used (reaped children included) tells that apart from a real error.
    out_of_cpu = finished is not None and (_children_cpu_s() - cpu_before >= 0.95 * cpu or (
        not (os.WIFEXITED(finished) and os.WEXITSTATUS(finished) == 0)
        and _driver_says(command["argv"][0], ("CPU time limit exceeded",))))
    if finished is None or out_of_cpu or (os.WIFSIGNALED(finished)
                                          and os.WTERMSIG(finished) in (signal.SIGXCPU, signal.SIGKILL)):
        return {"type": "CompileTimeout", "message": f"{what} exceeded its time limit ({timeout_s:g} s of CPU)"}
    if os.WIFEXITED(finished) and os.WEXITSTATUS(finished) == 0:
        return None
    if command.get("jvm") and _jvm_did_not_start():
        return {"type": "SandboxError", "message": f"{what}: the JVM did not start ({_tail(LOG, 300)})"}
    if os.WIFSIGNALED(finished):
        detail = f"{what} killed by signal {os.WTERMSIG(finished)} (time, memory or file-size limit)"
    else:
        detail = f"{what} failed (exit code {os.WEXITSTATUS(finished)})"
    kind, _, own_file = command.get("filter", "").partition(":")
    text, starved = _rustc_diagnostics(own_file) if kind == "rustc-json" else ("", _driver_says(command["argv"][0]))
    if starved:  # checked before "quiet": the machine's failure, not the task's
        return {"type": "SandboxError", "message": f"{what}: the compiler could not start a thread or a process "
                                                   "(RLIMIT_NPROC counts every sandbox's)"}
    if command.get("quiet"):
        error = {"type": "CompileError", "message": detail}
        if command.get("error_lines"):  # a batch of tests programs (trusted): which lines, never their text
            error["lines"] = _error_lines(command["error_lines"])
        return error
    if kind == "javac":
        text = _log_lines(javac_diagnostics, own_file)
    elif kind != "rustc-json":
        text = _tail(LOG, log_bytes)
    return {"type": "CompileError", "message": (text[:log_bytes] or detail)}


def _driver_says(program: str, marks: tuple[str, ...] = ()) -> bool:
    """Whether a compiler driver (g++) said one of `marks` (default: it could not start a
    process) on a line of its own, which begins with its name; the candidate's text cannot
    start a line so (a diagnostic about the source begins with the file's name). The driver
    reports a compiler proper killed by the CPU limit this way, as an internal error."""
    prefix = os.path.basename(program).encode() + b": "
    try:
        with open(LOG, "rb") as handle:
            return any(line.startswith(prefix) and any(mark.encode() in line for mark in marks or _STARVED)
                       for line in handle.read(1 << 16).splitlines())
    except OSError:
        return False


def _jvm_did_not_start() -> bool:
    """The log begins as a JVM that could not start writes it (too few threads under
    RLIMIT_NPROC, too little address space): before any diagnostic, so no source text."""
    try:
        with open(LOG, "rb") as handle:
            head = handle.read(400)
    except OSError:
        return False
    first = head.split(b"\n", 1)[0]
    return head.startswith(b"Error occurred during initialization of VM") or (
        first.startswith(b"[") and b"][warning][os,thread] Failed to start" in first)


def _expand(argv: list[str]) -> list[str]:
    """argv with HEAP_TOKEN replaced (see the module docstring)."""
    return expand_heap(argv, resource.getrlimit(resource.RLIMIT_AS)[0])


def expand_heap(argv: list[str], limit: int) -> list[str]:
    """argv with HEAP_TOKEN replaced by the heap a JVM gets under address-space limit `limit`."""
    if not any(HEAP_TOKEN in arg for arg in argv):
        return list(argv)
    heap = 4096 if limit == resource.RLIM_INFINITY else max(32, (limit >> 20) - JVM_RESERVED_MB)
    return [arg.replace(HEAP_TOKEN, str(heap)) for arg in argv]


def _log_lines(read, own_file: str) -> str:
    try:
        with open(LOG, encoding="utf-8", errors="replace") as handle:
            return read(handle, own_file)
    except OSError:
        return ""


def javac_diagnostics(lines, own_file: str) -> str:
    """javac's diagnostics about `own_file` and those naming no file; a diagnostic about another
    file (the harness, which holds the tests' inputs) is counted, never shown. A diagnostic is
    a line `FILE.java:LINE: kind: text` and the lines after it up to the next such line.
    (The compile server, compile_server.py, renders its diagnostics in the same layout.)"""
    shown, hidden, keep = [], 0, True
    for line in lines:
        name, java, rest = line.partition(".java:")
        if java and " " not in name and rest.split(":", 1)[0].isdigit():
            keep = name + ".java" == own_file
            hidden += 0 if keep else 1
        elif line.rstrip().endswith((" error", " errors", " warning", " warnings")) and line[:1].isdigit():
            continue  # javac's own count, which would include the hidden ones
        if keep and len(shown) < 200:
            shown.append(line.rstrip("\n"))
    if hidden:
        shown.append(HARNESS_HIDDEN.format(hidden))
    return "\n".join(shown).strip()


def _rustc_diagnostics(own_file: str) -> tuple[str, bool]:
    """rustc's errors (JSON lines) about `own_file` only, as rustc renders them; an error that
    touches another file of ours (the harness, which holds the tests' inputs: a relative path)
    is counted, never shown. A span inside a macro counts where the macro was called. Second:
    whether rustc failed for want of threads or processes (the machine's fault, not the
    source's): said only by rustc's own plain-text lines and its linker errors, never by
    anything the candidate's source can make it print."""
    shown, hidden, starved = [], 0, False
    try:
        with open(LOG, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    diagnostic = json.loads(line)
                except ValueError:  # rustc's own failure (an internal error, a thread it could not start)
                    starved = starved or any(mark in line for mark in _STARVED)
                    if line.strip() and len(shown) < 20:
                        shown.append(line.strip()[:300])
                    continue
                if not isinstance(diagnostic, dict) or diagnostic.get("level") != "error":
                    continue
                files = _span_files(diagnostic)
                if str(diagnostic.get("message", "")).startswith("could not exec the linker") and not files:
                    starved = starved or "os error 11" in str(diagnostic.get("rendered"))
                if all(name == own_file or name.startswith(("/", "<")) for name in files):
                    shown.append(str(diagnostic.get("rendered") or diagnostic.get("message") or "").strip())
                else:
                    hidden += 1
    except OSError:
        return "", False
    if hidden:
        shown.append(HARNESS_HIDDEN.format(hidden))
    return "\n".join(shown), starved


_STARVED = ("failed to spawn", "failed to create helper thread", "Resource temporarily unavailable")


def _span_files(diagnostic: dict, depth: int = 0) -> set[str]:
    """Every file a diagnostic's spans (its children's too) point to, each span followed out of
    macro expansions to its call site as well."""
    found: set[str] = set()
    for span in diagnostic.get("spans") or []:
        for _ in range(64):
            if not isinstance(span, dict):
                break
            found.add(str(span.get("file_name", "")))
            span = (span.get("expansion") or {}).get("span")
    if depth < 8:
        for child in diagnostic.get("children") or []:
            if isinstance(child, dict):
                found |= _span_files(child, depth + 1)
    return found


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wait(pid: int, timeout_s: float) -> int | None:
    """Wait status of `pid`, or None after SIGKILLing its process group at the timeout."""
    try:
        exited = os.pidfd_open(pid)
    except (AttributeError, OSError):
        exited = -1
    if exited >= 0:
        ready, _, _ = select.select([exited], [], [], timeout_s)
        os.close(exited)
        if not ready:
            _kill_group(pid)
            os.waitpid(pid, 0)
            return None
        return os.waitpid(pid, 0)[1]
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.005)
    _kill_group(pid)
    os.waitpid(pid, 0)
    return None


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _error_lines(source: str) -> list[int]:
    """The lines of `source` that g++'s errors (or the instantiations behind them) point at."""
    pattern = re.compile(rb"^" + re.escape(source.encode()) + rb":(\d+):\d+:\s+(?:error:|required from here)")
    try:
        with open(LOG, "rb") as handle:
            found = {int(match.group(1)) for line in handle.read(1 << 20).splitlines() if (match := pattern.match(line))}
    except OSError:
        return []
    return sorted(found)[:1000]


def _tail(path: str, size: int) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            length = handle.tell()
            handle.seek(max(0, length - size))
            data = handle.read(size)
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace").strip()
    return ("..." + text) if length > size else text


def _answer(fd: int, message: dict, nonce: str) -> None:
    body = json.dumps(message, ensure_ascii=True, separators=(",", ":"))[:-1] + ',"n":' + json.dumps(nonce) + "}"
    data = body.encode()
    data = struct.pack(">I", len(data)) + data
    while data:
        data = data[os.write(fd, data):]
