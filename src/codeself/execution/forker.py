"""The forker: a copy of the warm worker that does nothing but fork and reap its children.

Why: fork() write-protects every private page of the process that calls it. A worker that
forked each program's child itself then took a copy-on-write fault on every page it wrote
while supervising that program (~300 faults a HumanEval program: about a tenth of all the
CPU the throughput bench used, measured with perf, issue 18). The forker is forked once,
when the worker is warm and before any job. It writes ~55 pages per fork, and the worker's
own memory is never shared again. A child is still a copy of the warm worker, as before;
it holds no job, not even an earlier one, since the forker never sees any (so the worker
may keep what runs teach it: supervise.compiled_probe).

The next child is forked as soon as the last one is reaped, while the worker writes its
reply and waits for its next job, so a job seldom waits for its child. Messages over a
SOCK_SEQPACKET socket pair, marshal-encoded (both ends are trusted code):
  worker -> forker: ("spawn", prestart) | ("finish", pid, then_spawn, prestart): SIGKILL and
                    reap that child, then (then_spawn) fork the next one at once
  forker -> worker: ("finished", wait status, rusage fields) | ("spawned", pid), with the
                    worker's ends of the child's pipes (control, result, out, err) passed as
                    SCM_RIGHTS | ("error", errno, text) in place of either: the worker raises
                    it as OSError.
"""

from __future__ import annotations

import array
import fcntl
import gc
import marshal
import os
import resource
import signal
import _socket

from codeself.execution import sandbox

_PIPE_ENDS = 4  # control (write), result (read), out (read), err (read)
_FDS_SPACE = _socket.CMSG_SPACE(_PIPE_ENDS * array.array("i").itemsize)
MAX_REQUEST = 1 << 18  # a request holds at most a pre-start spec: the bootstrap's source (a few KiB)
FORKER_FAILED = 71


class Forker:
    """The worker's handle on its forker process."""

    def __init__(self, context, become_child, close_in_forker: tuple[int, ...] = ()) -> None:
        """Fork the forker now. `become_child(context, fds, prestart)` turns a fresh fork
        into a sandboxed child and never returns (worker._become_child)."""
        ours, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
        worker_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                for fd in close_in_forker:
                    os.close(fd)
                sandbox.prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)
                if os.getppid() == worker_pid:  # else the worker died before the line above
                    if context.isolation != "namespaces":  # descendants that escape the group come here
                        sandbox.prctl(sandbox.PR_SET_CHILD_SUBREAPER, 1)
                    sandbox.release_free_memory()
                    _serve(theirs, context, become_child)
            finally:
                os._exit(FORKER_FAILED)
        theirs.close()
        self.pid, self.socket = pid, ours
        self.pending, self.prestart = False, None  # a child asked for and not yet taken

    def child(self) -> tuple[int, list[int], dict | None]:
        """The next child (asked for now unless it already was): its pid, the worker's ends of
        its four pipes, and what it pre-starts (supervise.prestart)."""
        if not self.pending:
            self._send(("spawn", None))
            self.prestart = None
        self.pending = False
        reply, fds = self._receive()
        return reply[1], fds, self.prestart

    def finish(self, pid: int, then_spawn: bool = True, prestart: dict | None = None) -> tuple[int, object]:
        """SIGKILL the child's whole tree, reap it and empty the working directory: (wait
        status, rusage). With `then_spawn` the forker forks the next child (pre-starting
        `prestart`) right after; child() takes it."""
        self._send(("finish", pid, then_spawn, prestart))
        reply, _ = self._receive()
        if then_spawn:
            self.pending, self.prestart = True, prestart
        return reply[1], resource.struct_rusage(reply[2])

    def close(self) -> None:
        """End the forker (it exits when its socket closes) and reap it."""
        self.socket.close()
        os.waitpid(self.pid, 0)

    def _send(self, request: tuple) -> None:
        message = marshal.dumps(request)
        if len(message) > MAX_REQUEST:
            raise OSError(f"a request to the forker of {len(message)} bytes (at most {MAX_REQUEST})")
        try:
            self.socket.sendmsg([message])
        except (BrokenPipeError, ConnectionResetError) as error:
            raise OSError(f"the worker's forker exited ({error.strerror})") from None

    def _receive(self) -> tuple[tuple, list[int]]:
        message, ancillary, _, _ = self.socket.recvmsg(1024, _FDS_SPACE)
        if not message:
            raise OSError("the worker's forker exited")
        fds = array.array("i")
        for level, kind, data in ancillary:
            if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        reply = marshal.loads(message)
        if reply[0] == "error":
            raise OSError(reply[1], reply[2])
        return reply, list(fds)


def _serve(sock, context, become_child) -> None:
    """The forker's loop: one request at a time, until the worker closes the socket."""
    while True:
        message = sock.recv(MAX_REQUEST)
        if not message:
            return
        request = marshal.loads(message)
        if request[0] == "finish":
            try:
                status, usage = _finish(context, request[1])
                sock.sendmsg([marshal.dumps(("finished", status, tuple(usage)))])
            except OSError as error:
                _send_error(sock, error)
            if not request[2]:
                continue
        try:
            pid, fds = _spawn(context, become_child, request[-1])
        except OSError as error:
            _send_error(sock, error)
            continue
        try:
            sock.sendmsg([marshal.dumps(("spawned", pid))],
                         [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, array.array("i", fds))])
        finally:
            for fd in fds:
                os.close(fd)


def _send_error(sock, error: OSError) -> None:
    sock.sendmsg([marshal.dumps(("error", error.errno or 0, str(error)))])


def _spawn(context, become_child, prestart: dict | None) -> tuple[int, list[int]]:
    control_r, control = os.pipe()
    result, result_w = os.pipe()
    out, out_w = os.pipe()
    err, err_w = os.pipe()
    # The child's five descriptors are moved above 0-4 here, not in the child: work done
    # before the fork is inherited, work done after it is paid again by every fork.
    child_fds = [_above_stdio(fd) for fd in (context.devnull, out_w, err_w, control_r, result_w)]
    gc.freeze()  # the child's collector then never walks (and copies) the inherited heap
    ours = [control, result, out, err]
    try:
        if context.isolation == "namespaces":
            pid = sandbox.fork_in_new_pid_namespace(context.pid_ns_fd)
        else:
            pid = os.fork()
        if pid == 0:
            become_child(context, child_fds, prestart)
    except BaseException:
        for fd in ours:
            os.close(fd)
        raise
    finally:
        for fd in {control_r, result_w, out_w, err_w, *child_fds} - {context.devnull}:
            os.close(fd)
    return pid, ours


def _finish(context, pid: int) -> tuple[int, object]:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _, status, usage = os.wait4(pid, 0)
    if context.isolation != "namespaces":
        sandbox.kill_session_tree(pid)
    sandbox.wipe_directory(context.scratch)  # before the next child starts there (a pre-started one at once)
    return status, usage


def _above_stdio(fd: int) -> int:
    """`fd`, or a duplicate of it numbered >= 5 when it is one of 0-4 (possible only when the
    worker was started with some of 0-2 closed), so the child's dup2 onto 0-4 clobbers none."""
    return fd if fd >= 5 else fcntl.fcntl(fd, fcntl.F_DUPFD, 5)
