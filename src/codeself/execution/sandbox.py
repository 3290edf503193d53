"""Isolation primitives for running one candidate program (docs/safety.md).

Two levels, chosen once per worker and recorded in every result:

- "namespaces": the worker (a fresh interpreter) enters new mount, PID, network, IPC and UTS
  namespaces at start-up (plus a user namespace when we are not root) and builds a minimal
  read-only filesystem view once. Each program then runs as PID 1 of its own fresh PID
  namespace (so killing it kills every descendant, `setsid()` escapees included), in its
  own mount namespace with a fresh tmpfs as `/tmp` (its working directory), `pivot_root`ed
  into the view (no /proc, no /sys, no /home, no task files), without privileges: as root we
  switch to the worker's own sandbox uid/gid (uids.py: RLIMIT_NPROC counts per uid, so no
  two workers share one); otherwise we enter one more user namespace, which leaves the
  candidate no capability over any namespace it did not create itself.
- "rlimits": no namespaces available. New session, scratch directory, rlimits, the worker's
  sandbox uid when we are root and the interpreter is readable by it (else root without
  capabilities), and a
  process-tree sweep afterwards (the worker's forker is a child subreaper, so escapees are
  reparented to it and found). Network and the host filesystem stay reachable; see docs/safety.md.

Python 3.11 has no `os.unshare`, `os.setns`, mount or pivot_root wrappers, so the *worker*
(trusted code, before any candidate runs) calls them through ctypes on the C library.
Candidate code never needs or gets these functions from us.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME = 16384, 1 << 18, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 36, 38

NOBODY = 65534
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
_CAPSET = {"x86_64": 126, "aarch64": 91}
_TOP_DIRS = ("usr", "bin", "sbin", "lib", "lib64", "lib32", "libx32")
_DEVICES = ("null", "zero", "full", "random", "urandom")
_libc = None


class SandboxUnavailable(OSError):
    """The kernel or platform refused a namespace operation; fall back or report it."""


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def release_free_memory() -> None:
    """Give the C allocator's free pages back to the kernel (glibc's malloc_trim; elsewhere
    nothing). Every fork copies, and every exit tears down, one page-table entry per resident
    page, so the forker drops what the worker's start-up freed (~1 MiB of ~8) once."""
    try:
        _c().malloc_trim(0)
    except AttributeError:  # not glibc
        pass


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise SandboxUnavailable(errno, f"{what}: {os.strerror(errno)}")


def unshare(flags: int) -> None:
    _check(_c().unshare(ctypes.c_int(flags)), "unshare")


def setns(fd: int, nstype: int) -> None:
    _check(_c().setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def prctl(option: int, value: int) -> None:
    _check(_c().prctl(ctypes.c_int(option), ctypes.c_ulong(value), ctypes.c_ulong(0),
                      ctypes.c_ulong(0), ctypes.c_ulong(0)), "prctl")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda text: None if text is None else text.encode()  # noqa: E731
    _check(_c().mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags),
                      encode(data)), f"mount {target}")


def _syscall(table: dict[str, int], *args) -> int:
    number = table.get(os.uname().machine)
    if number is None:
        raise SandboxUnavailable(0, f"no syscall number for {os.uname().machine}")
    return _c().syscall(ctypes.c_long(number), *args)


def pivot_into(new_root: str) -> None:
    """Make `new_root` the root and detach the old one, so nothing of the host is reachable."""
    os.chdir(new_root)
    _check(_syscall(_PIVOT_ROOT, b".", b"."), "pivot_root")
    _check(_c().umount2(b".", ctypes.c_int(MNT_DETACH)), "umount old root")
    os.chdir("/")


def private_proc(mount_point: str) -> int:
    """A directory fd on a procfs of this process's PID namespace, mounted at `mount_point`
    (an empty directory) and detached again at once, so only the fd reaches it; -1 when it
    cannot be mounted. The worker reads its children's scheduler counters through it
    (supervise.py); a child closes every fd above 4 before anything else runs there."""
    try:
        mount("proc", mount_point, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        return -1
    try:
        return os.open(mount_point, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return -1
    finally:
        _c().umount2(mount_point.encode(), ctypes.c_int(MNT_DETACH))


def _write_file(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def enter_worker_namespaces() -> None:
    """Worker start-up: private mounts, no network, PID namespace for the worker's children."""
    uid, gid = os.geteuid(), os.getegid()
    host_root = is_host_root()
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    unshare(flags if host_root else flags | CLONE_NEWUSER)
    if not host_root:
        _write_file("/proc/self/setgroups", "deny")
        _write_file("/proc/self/uid_map", f"0 {uid} 1")
        _write_file("/proc/self/gid_map", f"0 {gid} 1")
    mount(None, "/", None, MS_REC | MS_PRIVATE)


def _locked_flags(path: str) -> int:
    """Mount flags a user namespace may not clear on remount; we keep them as they are."""
    flag = os.statvfs(path).f_flag
    pairs = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
             (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME),
             (os.ST_RELATIME, MS_RELATIME), (os.ST_RDONLY, MS_RDONLY))
    return sum(ms for st, ms in pairs if flag & st)


def _bind(source: str, target: str, *, read_only: bool) -> None:
    mount(source, target, None, MS_BIND)
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | _locked_flags(target)
    if read_only:
        flags |= MS_RDONLY | MS_NODEV
    mount(None, target, None, flags)


def build_view(root: str, extra_dirs: list[str], scratch_mb: int) -> None:
    """Build the filesystem view under `root` (an empty directory) and pivot the worker into it.

    The view holds the system libraries and the Python installation (read-only), harmless
    devices, and one writable tmpfs at /tmp that every program of this worker uses as its
    working directory, wiped between programs. Nothing else of the host stays reachable.
    """
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    bound: list[str] = []
    for name in _TOP_DIRS:
        host = "/" + name
        if os.path.islink(host):
            os.symlink(os.readlink(host), os.path.join(root, name))
        elif os.path.isdir(host):
            bound.append(host)
    for directory in extra_dirs:
        real = os.path.realpath(directory)
        if os.path.isdir(real) and not any(real == b or real.startswith(b + "/") for b in bound):
            bound.append(real)
    for host in bound:
        os.makedirs(root + host, exist_ok=True)
        _bind(host, root + host, read_only=True)
    for name in ("etc", "tmp", "dev"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
    for device in _DEVICES:
        target = os.path.join(root, "dev", device)
        open(target, "w").close()
        _bind("/dev/" + device, target, read_only=False)
    mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
          f"size={scratch_mb}m,nr_inodes=4096,mode=1777")
    mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    pivot_into(root)
    os.chdir("/tmp")


def wipe_directory(path: str) -> None:
    """Empty the shared scratch directory between programs (they never overlap in a worker).

    Bounded by the scratch size; a program may leave directories without permissions, so
    each directory is made writable before it is emptied. (No shutil: keeps workers small.)
    """
    with os.scandir(path) as entries:
        for entry in list(entries):
            try:
                if entry.is_dir(follow_symlinks=False):
                    os.chmod(entry.path, 0o700)
                    wipe_directory(entry.path)
                    os.rmdir(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass


def fork_in_new_pid_namespace(own_pid_ns_fd: int) -> int:
    """fork() a child that is PID 1 of a fresh PID namespace, in a fresh IPC namespace.

    unshare(CLONE_NEWPID) only affects later children and cannot be repeated until the
    worker rejoins its own namespace for children, hence the setns right after the fork.
    The IPC namespace is entered by the worker itself (it never uses IPC) and inherited:
    a ctypes call costs ~0.5 ms in a fresh fork (copy-on-write faults), almost nothing here.
    """
    unshare(CLONE_NEWPID | CLONE_NEWIPC)
    try:
        pid = os.fork()
    except BaseException:
        setns(own_pid_ns_fd, CLONE_NEWPID)
        raise
    if pid:
        setns(own_pid_ns_fd, CLONE_NEWPID)
    return pid


def isolate_namespaced_child(host_root: bool, uid: int = NOBODY) -> None:
    """In the forked child (PID 1 of its own PID and IPC namespaces, inside the view):
    drop every privilege. no_new_privs and non-dumpable come from the worker (harden_worker).

    `host_root`: the worker runs as the real root (no user namespace), so we switch to
    `uid` (the worker's own); otherwise one more user namespace strips every capability we
    hold over the worker's namespaces (the candidate shows as uid 65534 there, and the
    kernel counts its processes in that namespace alone).
    """
    os.setpgid(0, 0)  # else kill(0, sig) reaches the worker's group (same uid when not root)
    if host_root:
        become_user(uid)
    else:
        unshare(CLONE_NEWUSER)
    os.chdir("/tmp")


def is_host_root() -> bool:
    """Real root: euid 0 with the identity uid map (not root of some user namespace).

    Only then can the worker skip its own user namespace and switch programs to its own uid;
    a namespace root with a one-uid map takes the unprivileged path instead.
    """
    if os.geteuid() != 0:
        return False
    try:
        with open("/proc/self/uid_map") as handle:
            return handle.read().split() == ["0", "0", "4294967295"]
    except OSError:
        return True


def become_user(uid: int) -> None:
    """Switch to `uid` (and the gid of the same number) with no supplementary groups."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def isolate_rlimits_child(scratch_dir: str, drop_to_uid: int | None) -> None:
    """In the forked child without namespaces: own process group, scratch cwd, fewer rights.

    The worker already runs in its own session without a terminal, so a process group
    (cheaper than setsid) is enough for the group kill; escapees are swept separately.
    """
    os.setpgid(0, 0)
    os.chdir(scratch_dir)
    if drop_to_uid is not None:
        become_user(drop_to_uid)
    elif os.geteuid() == 0:
        drop_capabilities()


def harden_worker() -> None:
    """Set once on the worker, inherited by every child: no privilege gain through exec
    (setuid binaries, file capabilities), and not dumpable, so /proc/<pid>/mem and environ
    of the worker and its children (a copy of the worker's heap) are root-only."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_DUMPABLE, 0)


def drop_capabilities() -> None:
    """Root without capabilities: cannot raise rlimits, signal other users, or mount."""
    for cap in range(64):
        if _c().prctl(ctypes.c_int(24), ctypes.c_ulong(cap), ctypes.c_ulong(0),  # PR_CAPBSET_DROP
                      ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
            break
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()
    _check(_syscall(_CAPSET, header, data), "capset")


def hard_limits(names) -> dict[str, int]:
    """This process's hard limits (a child it forks starts with the same)."""
    return {name: resource.getrlimit(getattr(resource, "RLIMIT_" + name.upper()))[1] for name in names}


def apply_rlimits(limits: dict[str, int], pid: int = 0, current_hard: dict[str, int] | None = None) -> None:
    """Lower (never raise) the limits of process `pid` (0: this process); names are RLIMIT_*
    without the prefix. The worker sets them on its waiting child with prlimit: cheaper
    there than in a fresh fork, and done before any candidate code can run. `current_hard`:
    the process's hard limits when known (`hard_limits`), saving a read per limit."""
    for name, value in limits.items():
        which = getattr(resource, "RLIMIT_" + name.upper())
        hard = current_hard[name] if current_hard and name in current_hard else resource.prlimit(pid, which)[1]
        new_hard = value if hard == resource.RLIM_INFINITY else min(hard, value)
        resource.prlimit(pid, which, (min(value, new_hard), new_hard))


def limit_other(pid: int, limits: dict[str, int], as_uid: int | None = None) -> None:
    """Lower process `pid`'s limits from this one. The kernel lets a process limit another of
    its own uid, or any with CAP_SYS_RESOURCE; root without that capability (a container's,
    this project's CI machine's) limits a program of the sandbox uid `as_uid` by taking that
    uid as its real uid for the calls (its saved uid stays 0), then its own back. Raises
    OSError when neither way is allowed."""
    try:
        apply_rlimits(limits, pid)
        return
    except PermissionError:
        if as_uid is None:
            raise
    os.setresgid(as_uid, as_uid, 0)
    try:
        os.setresuid(as_uid, as_uid, 0)
        try:
            apply_rlimits(limits, pid)
        finally:
            os.setresuid(0, 0, 0)
    finally:
        os.setresgid(0, 0, 0)
        prctl(PR_SET_DUMPABLE, 0)  # a change of credentials resets it


def kill_session_tree(pid: int) -> None:
    """rlimits mode: SIGKILL the child's process group, then every process reparented to us.

    Called by the worker's forker (forker.py), a child subreaper whose only children are
    programs: once the child is dead every surviving descendant (a setsid() escapee
    included) has the forker as an ancestor and, at the top of its subtree, as its parent. No child left means no descendant left: the common case costs
    one waitpid. Otherwise each round kills the forker's children found in /proc; their own
    children become ours and are caught in the next round (bounded).
    """
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    own = os.getpid()
    for _ in range(200):
        if not _has_children():
            return
        for child in children_by_parent().get(own, []):
            for kill in (os.killpg, os.kill):
                try:
                    kill(child, signal.SIGKILL)
                except OSError:
                    pass


def _has_children() -> bool:
    """Reap exited children; True while any child (running or not yet reaped) remains."""
    while True:
        try:
            reaped, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if reaped == 0:
            time.sleep(0.001)
            return True


def children_by_parent(live_only: bool = False) -> dict[int, list[int]]:
    """Every process's children as /proc shows them now (zombies too, unless `live_only`)."""
    found: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if not (live_only and fields[0] == b"Z"):
                found.setdefault(int(fields[1]), []).append(int(entry))
    return found


