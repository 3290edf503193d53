"""Reaching a Ray cluster for the Ray executor, and a small local cluster for tests and benchmarks.

`connect(address)` attaches this process to the cluster at `address`, or starts a local Ray
instance for the run when the address is empty (Ray's default), and turns every way of failing
into one `ValueError` line: Ray not installed, nothing listening at the address, a cluster
that refuses the connection, a cluster without CPUs.

`LocalCluster` starts real Ray nodes on 127.0.0.1 (`ray start --block`, one process per node,
each with its own CPU budget and its own session id, token authentication with a token of its
own: a client sets `client_env` first), and stops them by the PIDs it started:
the tests and `bench_execution.py --executor ray` use it, so nothing else on the machine is
touched. Ray itself is imported only inside these functions (the core stays stdlib-only).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from codeself.optional import require

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # src/codeself: shipped to every node with the actors
CONNECT_CHECK_S = 5.0  # how long to wait for a TCP answer at --ray-address before giving up


def require_ray() -> ModuleType:
    return require("ray", purpose="--executor ray", extra="distributed")


def job_runtime_env() -> dict:
    """Ray uploads the `codeself` package once per content hash and puts it on the path of the
    job's actors, so worker nodes need only Python and Ray (the same versions as the driver).
    Ray takes a local directory only at the job level (`ray.init`): a caller that connected
    to Ray itself passes this to its own `ray.init`, or installs codeself on every node."""
    return {"py_modules": [str(PACKAGE_DIR)], "excludes": ["__pycache__/", "*.pyc"],
            "env_vars": {"RAY_USAGE_STATS_ENABLED": "0"}}


def one_line(error: BaseException, limit: int = 240) -> str:
    """A Ray error in one line: the remote exception's own last line (`ValueError: ...`) when
    its text carries a traceback, else the text itself."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error).splitlines()]
    raised = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Exit): ", line)]
    text = raised[-1] if raised else " ".join(" ".join(lines).split()) or type(error).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_reachable(address: str, timeout_s: float = CONNECT_CHECK_S) -> None:
    """Fail fast, in one line, when nothing answers at HOST:PORT (ray.init would retry for long)."""
    if address == "auto" or "://" in address:
        return  # Ray's own forms (an address file, the Ray client): ray.init reports on them
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--ray-address {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379)")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as error:
        raise ValueError(f"cannot reach the Ray cluster at {address} ({one_line(error)}); start its head with "
                         f"`ray start --head --port {port}` (docs/scaling.md), or omit --ray-address to run "
                         f"a local Ray instance") from None


def connect(address: str, *, local_cpus: int) -> bool:
    """Attach to the cluster (or start a local instance when `address` is ""). Returns True when
    this call started or joined Ray, so the caller must `ray.shutdown()` at the end; False when
    the process was already connected (library use: the caller's connection is left alone)."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no reporting home from a sandbox host
    # a local instance's start-up notes (token auth enabled by default, ...) are noise on stderr
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR if not address else logging.WARNING,
             "runtime_env": job_runtime_env()}
    if not address:
        # "local": always a new instance, never a cluster some earlier `ray start` left on this machine
        ray.init(address="local", num_cpus=local_cpus, include_dashboard=False, **quiet)
        return True
    check_reachable(address)
    try:
        ray.init(address=address, **quiet)
    except Exception as error:  # noqa: BLE001 - Ray raises several types; all mean "not connected"
        raise ValueError(f"cannot connect to the Ray cluster at {address}: {one_line(error)} (a cluster with token "
                         "authentication needs RAY_AUTH_MODE=token and its token in ~/.ray/auth_token: "
                         "docs/scaling.md)") from None
    return True


def sandbox_nodes(ray: ModuleType) -> list[dict]:
    """Alive nodes that have CPUs, as {"node_id", "ip", "cpus"}; the head first."""
    nodes = []
    for node in ray.nodes():
        cpus = int((node.get("Resources") or {}).get("CPU", 0))
        if node.get("Alive") and cpus >= 1:
            nodes.append({"node_id": node["NodeID"], "ip": node.get("NodeManagerAddress", "?"), "cpus": cpus})
    return nodes


class LocalCluster:
    """Ray nodes on 127.0.0.1 started with `ray start --block` (the head first); `stop()` ends
    exactly the processes they started. Use as a context manager.

    Each `ray start --block` runs in a new session, so every process it starts (GCS, raylet,
    Ray's Python workers, our actors' sandbox workers) carries its session id; `stop()`
    signals those PIDs and nothing else."""

    def __init__(self, node_cpus: tuple[int, ...] = (1, 1), *, ray_bin: str | None = None,
                 start_timeout_s: float = 120.0) -> None:
        if not node_cpus or any(cpus < 0 for cpus in node_cpus):
            raise ValueError("node_cpus: one CPU count (>= 0) per node, the head first")
        self.node_cpus = tuple(node_cpus)
        self.ray_bin = ray_bin or str(Path(sys.executable).with_name("ray"))
        self.start_timeout_s = start_timeout_s
        self.temp_dir = tempfile.mkdtemp(prefix="csray-")  # short: Ray's socket paths must fit 107 bytes
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.leaders: list[subprocess.Popen] = []
        # its own token, as docs/scaling.md sets up a real cluster: nodes and clients must
        # agree, whatever ~/.ray/auth_token this machine has; clients need `client_env`
        token = Path(self.temp_dir, "auth_token")
        token.write_text(secrets.token_hex(32))
        token.chmod(0o600)
        self.client_env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token),
                           "RAY_USAGE_STATS_ENABLED": "0"}

    def __enter__(self) -> "LocalCluster":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        # no PYTHONPATH: like a real cluster's nodes, these get `codeself` only from the job's upload
        env = {**os.environ, **self.client_env}
        common = ["--block", "--node-ip-address", "127.0.0.1", "--temp-dir", self.temp_dir, "--disable-usage-stats"]
        for index, cpus in enumerate(self.node_cpus):
            where = (["--head", "--port", str(self.port), "--include-dashboard", "false"] if index == 0
                     else ["--address", self.address])
            log = open(Path(self.temp_dir, f"node-{index}.log"), "wb")  # noqa: SIM115 - kept for the process
            self.leaders.append(subprocess.Popen([self.ray_bin, "start", *where, *common, "--num-cpus", str(cpus)],
                                                 stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                 env=env, start_new_session=True, preexec_fn=_end_with_parent))
            log.close()
            if index == 0:
                self._wait(lambda: _answers(self.address), "the head to listen")
        self._wait(lambda: self._alive_nodes() >= len(self.node_cpus), f"{len(self.node_cpus)} nodes to join")

    def _alive_nodes(self) -> int:
        completed = subprocess.run([sys.executable, "-c", _COUNT_NODES, self.address], capture_output=True,
                                   text=True, timeout=60, env={**os.environ, **self.client_env})
        return int(completed.stdout.strip() or 0) if completed.returncode == 0 else 0

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while not ready():
            dead = [index for index, leader in enumerate(self.leaders) if leader.poll() is not None]
            if dead or time.monotonic() > deadline:
                reason = f"not within {self.start_timeout_s:g} s"
                if dead:
                    lines = Path(self.temp_dir, f"node-{dead[0]}.log").read_text(errors="replace").splitlines()
                    reason = f"node {dead[0]} exited: {lines[-1] if lines else 'no output'}"
                raise RuntimeError(f"local Ray cluster: waiting for {what}: {reason}; logs in {self.temp_dir}")
            time.sleep(0.5)

    def pids(self) -> list[int]:
        """Every live process the cluster's nodes started (by session id), leaders included."""
        sessions = {leader.pid for leader in self.leaders}
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        fields = handle.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[3]) in sessions and fields[0] != "Z":
                    found.append(int(entry))
        return found

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM the nodes (workers first, head last), then SIGKILL whatever of theirs is left."""
        for leader in reversed(self.leaders):
            if leader.poll() is None:
                leader.send_signal(signal.SIGTERM)
                try:
                    leader.wait(grace_s)
                except subprocess.TimeoutExpired:
                    pass
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for leader in self.leaders:
            try:
                leader.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.leaders = []
        shutil.rmtree(self.temp_dir, ignore_errors=True)


# Run in a child interpreter, so the caller's process is not left connected to the cluster.
_COUNT_NODES = """
import logging, sys, ray
ray.init(address=sys.argv[1], log_to_driver=False, logging_level=logging.ERROR)
print(sum(1 for node in ray.nodes() if node["Alive"]))
"""


def _end_with_parent() -> None:
    """In the child before exec: SIGTERM when the process that started the node dies, so a
    crashed test or benchmark does not leave a cluster behind (Linux prctl PR_SET_PDEATHSIG)."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        return True
    except OSError:
        return False
