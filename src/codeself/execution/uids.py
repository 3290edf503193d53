"""Per-worker sandbox uids (real root only): why and how one is claimed.

RLIMIT_NPROC is a count per uid (per user namespace and uid, since Linux 5.14). Had every
worker's programs run as uid 65534, one sandbox's processes and threads would count against
every other's: a JVM (a dozen threads) could then fail to start a thread because a program
in *another* worker holds them, and fail its test - a verdict depending on the neighbours.
So when the caller is real root, each worker's programs run as a uid of their own from
`ExecutionConfig.sandbox_uid_base` .. + `sandbox_uid_count` - 1 (a range no account owns),
and RLIMIT_NPROC still bounds each sandbox (fork bombs stay contained).

A uid is claimed machine-wide (other Executors, Ray actors, other users' runs) by binding an
abstract Unix socket named after it: binding is atomic, and the kernel frees the name when
the holder exits, so a killed caller leaves no stale claim. The parent's `Worker` holds the
claim for its worker's lifetime. A uid that still owns processes (a program left behind by a
killed worker in `rlimits` mode) is skipped. Not root (a user namespace per sandbox, counted
on its own since Linux 5.14) and `bwrap` (its own user namespace per worker) need no claim.
"""

from __future__ import annotations

import os
import socket

_PREFIX = b"\0codeself-sandbox-uid-"


class NoFreeUid(ValueError):
    """Every uid of the configured range is claimed or owns processes."""


def claim(base: int, count: int) -> tuple[int, socket.socket]:
    """The first free uid of [base, base + count) and the socket holding it (keep it open;
    closing it, or exiting, releases the uid). Raises NoFreeUid."""
    busy = _uids_with_processes()
    for uid in range(base, base + count):
        if uid in busy:
            continue
        holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            holder.bind(_PREFIX + str(uid).encode())
        except OSError:
            holder.close()
            continue
        return uid, holder
    raise NoFreeUid(f"no free sandbox uid in {base}..{base + count - 1} (each running worker holds one; "
                    "raise --sandbox-uid-count)")


def _uids_with_processes() -> set[int]:
    """Real uids of the processes now running (from /proc/<pid>/status: the directory's owner
    shows root for a non-dumpable process, which every sandboxed program is)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as handle:
                for line in handle:
                    if line.startswith(b"Uid:"):
                        found.add(int(line.split()[1]))
                        break
        except (OSError, ValueError, IndexError):
            continue
    return found
