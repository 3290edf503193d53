"""The optional `bwrap` sandbox: each warm worker runs inside bubblewrap.

bubblewrap builds the isolation from outside the interpreter (new user, PID, network, IPC,
UTS and cgroup namespaces; a read-only view of only the interpreter and CodeSelf's own code;
a private /tmp; all capabilities dropped; uid 65534), and the worker
inside it then runs its programs with the rlimits path (process group, rlimits, output caps,
SIGKILL timeouts, escapee sweep). It needs no ctypes and suits distributions that ship bwrap
set-uid where unprivileged user namespaces are otherwise off. Results say `isolation: "bwrap"`.
"""

from __future__ import annotations

import os
import shutil
import sys

NOBODY = 65534


def bwrap_command(worker_file: str, site_packages: list[str]) -> list[str]:
    """The bubblewrap prefix that starts `python worker_file` in its own sandbox.

    Raises ValueError when bwrap is not installed, saying how to get it.
    """
    executable = shutil.which("bwrap")
    if executable is None:
        raise ValueError("sandbox 'bwrap' needs bubblewrap, which is not installed "
                         "(Debian/Ubuntu: apt-get install bubblewrap); or use --sandbox auto")
    # No --die-with-parent: its PR_SET_PDEATHSIG fires when the *thread* that started bwrap
    # exits (a replacement worker is started from a pool thread), killing a healthy worker.
    # The worker exits when its stdin pipe closes, which also happens if the caller dies.
    command = [executable, "--new-session", "--unshare-all", "--unshare-user",
               "--uid", str(NOBODY), "--gid", str(NOBODY), "--cap-drop", "ALL",
               "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", "/tmp"]
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(worker_file))))
    for path in ("/lib", "/lib64", "/bin"):  # merged-/usr systems make these symlinks into /usr
        if os.path.islink(path):
            command += ["--symlink", os.readlink(path), path]
    readable = ["/usr", "/lib", "/lib64", "/bin", "/etc/ld.so.cache", sys.base_prefix, sys.prefix,
                package_root, *site_packages]
    for path in dict.fromkeys(readable):
        if os.path.exists(path) and not os.path.islink(path):
            command += ["--ro-bind", path, path]
    return command
