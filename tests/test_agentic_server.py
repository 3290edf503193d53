"""The environment over HTTP: whole episodes with a real urllib client, isolation, errors, expiry;
connection limits (timeouts, a bound, clients that go away) with raw sockets."""

import support

import http.client
import io
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

from codeself.agents.agentic.env import EnvConfig
from codeself.agents.agentic.server import EnvServer, SessionStore
from codeself.datasets.task import load_tasks
from codeself.execution.engine import ExecutionConfig, Executor

EXAMPLES = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
TASKS = {task.task_id: task for task in load_tasks(EXAMPLES)}
WRONG_DIGITS = "def digit_sum(n):\n    return 0\n"


def call(base: str, path: str, body=None, data: bytes | None = None, method: str | None = None):
    """(status, JSON answer) of one request; HTTP errors are answers too."""
    payload = data if data is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=payload, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def read_answer(sock: socket.socket):
    """(status, JSON answer) read from a raw socket by http.client's parser; (None, None) when the
    server closes the connection without answering."""
    response = http.client.HTTPResponse(sock)
    try:
        response.begin()
    except http.client.RemoteDisconnected:
        return None, None
    return response.status, json.loads(response.read())


def raw_call(port: int, data: bytes, *, shut_write: bool = False):
    """One request written as raw bytes (to send what urllib would not); `shut_write` ends the
    client's side after it, as a client that sent everything it will ever send."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        if shut_write:
            sock.shutdown(socket.SHUT_WR)
        return read_answer(sock)


def drop_abruptly(port: int, data: bytes) -> None:
    """Send a request and go away at once with a reset (SO_LINGER 0), without reading the answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.sendall(data)
    sock.close()


HEALTH = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"


class InProcessServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(workers=2))
        cls.store = SessionStore(TASKS, cls.executor, EnvConfig(max_revisions=1))
        cls.server = EnvServer(("127.0.0.1", 0), cls.store)
        cls.thread = threading.Thread(target=cls.server.serve_forever, kwargs={"poll_interval": 0.01},
                                      daemon=True)
        cls.thread.start()
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        cls.executor.close()

    def episode(self, task_id: str, replies: list[str]) -> list[dict]:
        status, first = call(self.base, "/reset", {"seed": 0, "task_id": task_id})
        self.assertEqual(status, 200, first)
        answers = [first]
        for reply in replies:
            status, answer = call(self.base, "/step", {"session_id": first["session_id"], "action": {"code": reply}})
            self.assertEqual(status, 200, answer)
            answers.append(answer)
        return answers

    def test_whole_episode_openenv_shape(self):
        answers = self.episode("example/digit_sum", [WRONG_DIGITS, TASKS["example/digit_sum"].reference_solution])
        first, middle, last = answers
        self.assertEqual(set(first), {"session_id", "observation", "reward", "done", "metadata"})
        self.assertEqual((first["reward"], first["done"]), (None, False))
        self.assertEqual((middle["reward"], middle["done"]), (0.0, False))
        self.assertIn("Failed public test 1", middle["observation"]["feedback"])
        # r1 = 1/4 (digit_sum(0) == 0 only); R = 0.5 * 0.25 + (1 - 0.25) = 0.875
        self.assertEqual((last["reward"], last["done"], last["metadata"]["terminated"]), (0.875, True, True))
        status, state = call(self.base, f"/state?session_id={first['session_id']}")
        self.assertEqual((status, state["step_count"], state["state"]["return"]), (200, 2, 0.875))
        self.assertNotIn("hidden", json.dumps(answers).replace("hidden_tests", ""))  # no hidden data
        for hidden in TASKS["example/digit_sum"].hidden_tests:
            self.assertNotIn(hidden, json.dumps(answers))

    def test_concurrent_sessions_are_isolated(self):
        jobs = [("example/digit_sum", [WRONG_DIGITS, TASKS["example/digit_sum"].reference_solution]),
                ("example/gcd_of_list", [TASKS["example/gcd_of_list"].reference_solution])] * 4
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda job: self.episode(*job), jobs))
        for (task_id, replies), answers in zip(jobs, results):
            self.assertEqual(answers[-1]["observation"]["task_id"], task_id)
            self.assertEqual(answers[-1]["observation"]["turn"], len(replies))
            self.assertTrue(answers[-1]["done"])
        self.assertEqual(len({answers[0]["session_id"] for answers in results}), 8)

    def test_bad_requests_get_json_errors(self):
        _, first = call(self.base, "/reset", {"task_id": "example/digit_sum"})
        session = first["session_id"]
        cases = [
            ("/step", {"session_id": "no-such-session", "action": {"code": "x"}}, None, 404, "unknown_session"),
            ("/step", {"session_id": session}, None, 400, "missing_code"),
            ("/step", {"session_id": session, "action": {"code": 7}}, None, 400, "wrong_type"),
            ("/step", {"session_id": session, "action": "code"}, None, 400, "wrong_type"),
            ("/step", None, b"[1, 2]", 400, "wrong_type"),
            ("/step", None, b"{not json", 400, "bad_json"),
            ("/reset", {"task_id": "nope"}, None, 400, "bad_reset"),
            ("/reset", {"seed": "zero"}, None, 400, "wrong_type"),
            ("/reset", {"taskid": "example/digit_sum"}, None, 400, "unknown_field"),  # a typo is not a random task
            ("/reset", {"task_id": "example/digit_sum", "Mode": "repair"}, None, 400, "unknown_field"),
            ("/reset", {"session_id": 7}, None, 400, "wrong_type"),
            ("/step", {"session_id": ["s"], "action": {"code": "x"}}, None, 400, "wrong_type"),
            ("/step", None, b"x" * (10 << 20), 413, "body_too_large"),
            ("/nowhere", {}, None, 404, "not_found"),
        ]
        for path, body, data, status, code in cases:
            with self.subTest(path=path, code=code):
                got_status, answer = call(self.base, path, body, data)
                self.assertEqual((got_status, answer["error"]["code"]), (status, code))
                self.assertNotIn("reward", answer)
        self.assertEqual(call(self.base, "/health", method="POST", data=b"{}")[0], 405)
        message = call(self.base, "/reset", {"taskid": "x", "Mode": "repair"})[1]["error"]["message"]
        self.assertEqual(message, "unknown reset field(s) Mode, taskid; allowed: seed, session_id, task_id, mode, "
                                  "sample_index, category")
        self.assertIn("session_id must be a string", call(self.base, "/step", {"session_id": 7})[1]["error"]["message"])
        port = self.server.server_address[1]
        status, answer = raw_call(port, b"POST /step HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n")
        self.assertEqual((status, answer["error"]["code"]), (400, "bad_length"))
        # fewer bytes than Content-Length, then the client's side ends: not bad_json
        status, answer = raw_call(port, b"POST /step HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"
                                        b'{"session_id": "s"}', shut_write=True)
        self.assertEqual((status, answer["error"]["code"]), (400, "incomplete_body"))
        self.assertIn("19 of the 100 bytes", answer["error"]["message"])
        self.assertEqual(call(self.base, "/reset", method="PUT", data=b"{}")[1]["error"]["code"], "bad_http")  # 501
        with socket.create_connection(("127.0.0.1", self.server.server_address[1]), timeout=10) as raw:
            raw.sendall(b"GARBAGE\r\n\r\n")  # not even a request line: answered (HTTP/0.9 style, body only) in JSON
            answer = raw.recv(4096).decode()
        self.assertEqual(json.loads(answer)["error"]["code"], "bad_http")
        self.assertEqual(call(self.base, "/step")[0], 405)
        call(self.base, "/step", {"session_id": session, "action": {"code": TASKS["example/digit_sum"].reference_solution}})
        self.assertEqual(call(self.base, "/step", {"session_id": session, "action": {"code": "x"}})[1]["error"]["code"],
                         "episode_over")
        self.assertEqual(call(self.base, "/health")[1]["status"], "healthy")  # still serving

    def test_reset_reuses_a_session_and_idle_sessions_expire(self):
        _, first = call(self.base, "/reset", {"task_id": "example/digit_sum"})
        status, again = call(self.base, "/reset", {"session_id": first["session_id"], "task_id": "example/gcd_of_list"})
        self.assertEqual((status, again["session_id"], again["observation"]["task_id"]),
                         (200, first["session_id"], "example/gcd_of_list"))
        ttl = self.store.session_ttl_s
        try:
            self.store.session_ttl_s = 0.01
            time.sleep(0.05)  # idle for longer than the TTL
            self.store._last_sweep -= 1.0  # the store sweeps at most once a second: as if the last was a second ago
            status, answer = call(self.base, f"/state?session_id={first['session_id']}")
        finally:
            self.store.session_ttl_s = ttl
        self.assertEqual((status, answer["error"]["code"]), (404, "unknown_session"))


class ConnectionLimitsTest(unittest.TestCase):
    """Timeouts, the connection bound and clients that go away, each on a server of its own with
    short limits (real sockets on 127.0.0.1; every wait is bounded)."""

    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(workers=1))
        cls.store = SessionStore(TASKS, cls.executor, EnvConfig(max_revisions=1))

    @classmethod
    def tearDownClass(cls):
        cls.executor.close()

    def serve(self, **options) -> EnvServer:
        server = EnvServer(("127.0.0.1", 0), self.store, **options)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return server

    def connect(self, server: EnvServer) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5)
        self.addCleanup(sock.close)
        return sock

    def wait_for_connections(self, server: EnvServer, count: int) -> None:
        deadline = time.monotonic() + 5
        while server.open_connections != count:
            self.assertLess(time.monotonic(), deadline, f"{server.open_connections} connections still open")
            time.sleep(0.01)

    def test_idle_connections_are_closed_without_an_answer(self):
        server = self.serve(idle_timeout_s=0.2)
        silent, kept_alive = self.connect(server), self.connect(server)
        kept_alive.sendall(HEALTH)
        self.assertEqual(read_answer(kept_alive)[0], 200)
        started = time.monotonic()
        self.assertEqual((silent.recv(100), kept_alive.recv(100)), (b"", b""))  # closed, nothing sent
        self.assertLess(time.monotonic() - started, 2)

    def test_a_request_that_does_not_arrive_in_time_gets_408(self):
        server = self.serve(request_timeout_s=0.3)
        half_sent = self.connect(server)
        half_sent.sendall(b"POST /step HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"session_id\"")
        trickled = self.connect(server)
        stop = threading.Event()

        def trickle():  # one header byte every 50 ms: each read is quick, the whole request is not
            trickled.sendall(b"POST /step HTTP/1.1\r\nX-Slow: ")
            while not stop.wait(0.05):
                try:
                    trickled.sendall(b"x")
                except OSError:
                    return

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        self.addCleanup(sender.join, 5)
        self.addCleanup(stop.set)
        started = time.monotonic()
        for sock in (half_sent, trickled):
            status, answer = read_answer(sock)
            self.assertEqual((status, answer["error"]["code"]), (408, "request_timeout"))
            self.assertEqual(sock.recv(100), b"")  # and the connection is closed
        self.assertLess(time.monotonic() - started, 2)

    def test_connections_beyond_the_bound_get_503_until_one_closes(self):
        server = self.serve(max_connections=2)
        first, second = self.connect(server), self.connect(server)
        for sock in (first, second):  # keep-alive: each holds its slot
            sock.sendall(HEALTH)
            status, health = read_answer(sock)
        self.assertEqual((status, health["connections"]), (200, 2))
        status, answer = raw_call(server.server_address[1], HEALTH)
        self.assertEqual((status, answer["error"]["code"]), (503, "too_many_connections"))
        self.assertIn("2 connections", answer["error"]["message"])
        first.close()
        self.wait_for_connections(server, 1)
        self.assertEqual(raw_call(server.server_address[1], HEALTH)[0], 200)

    def test_a_client_that_goes_away_is_one_line_and_none_when_quiet(self):
        for quiet in (False, True):
            server = self.serve(quiet=quiet)
            port = server.server_address[1]
            with self.subTest(quiet=quiet), mock.patch("sys.stderr", new_callable=io.StringIO) as stderr:
                for _ in range(3):
                    drop_abruptly(port, HEALTH)
                    drop_abruptly(port, b"POST /reset HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}")
                    drop_abruptly(port, b"POST /reset HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\n{}")
                self.assertEqual(raw_call(port, HEALTH)[0], 200)  # accepted after the others (one backlog, in order)
                self.wait_for_connections(server, 0)
                log = stderr.getvalue()
                self.assertNotIn("Traceback", log)
                if quiet:
                    self.assertEqual(log, "")
                else:  # the access log's line and at most one more per client
                    lines = [line for line in log.splitlines() if '" 200 ' not in line and '" 400 ' not in line]
                    self.assertLessEqual(len(lines), 9, log)
                    self.assertGreater(len(lines), 0, log)
                    self.assertTrue(all("went away" in line for line in lines), log)


_SERVING: list = []  # the serve_env.py process setUpModule started


def setUpModule():
    """Start serve_env.py before the tests, so that its start-up (interpreter, sandbox workers)
    overlaps the in-process tests; ServeEnvScriptTest talks to it and stops it."""
    process = subprocess.Popen([sys.executable, str(support.SCRIPTS / "serve_env.py"), "--tasks", str(EXAMPLES),
                                "--port", "0", "--workers", "1", "--quiet", "--mode", "repair"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=support.script_env())
    _SERVING.append(process)
    unittest.addModuleCleanup(_stop_if_running, process)


def _stop_if_running(process: subprocess.Popen) -> None:
    if process.poll() is None:  # ServeEnvScriptTest did not run (it stops the process when it does)
        process.kill()
        process.communicate(timeout=30)


class ServeEnvScriptTest(unittest.TestCase):
    def test_serves_on_a_free_port_and_stops_on_sigterm(self):
        process = _SERVING[0]
        try:
            line = process.stdout.readline()
            if not line.startswith("serving on http://127.0.0.1:"):
                process.kill()
                self.fail(f"no 'serving on' line: {line!r} {process.communicate()[1]}")
            base = line.split()[2]
            for _ in range(3):  # with --quiet, clients that go away leave nothing on stderr
                drop_abruptly(int(base.rsplit(":", 1)[1]), HEALTH)
            status, first = call(base, "/reset", {"seed": 1, "task_id": "example/gcd_of_list"})
            self.assertEqual(status, 200, first)
            self.assertIn("Failed public test", first["observation"]["feedback"])  # repair mode from the flag
            reference = TASKS["example/gcd_of_list"].reference_solution
            status, last = call(base, "/step", {"session_id": first["session_id"], "action": {"code": reference}})
            self.assertEqual((status, last["done"]), (200, True))
            self.assertEqual(call(base, "/step", data=b"y" * (10 << 20))[0], 413)
            self.assertEqual(call(base, "/health")[0], 200)
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
        self.assertEqual((process.returncode, err), (0, ""))
        self.assertIn("stopped", out)

    def test_bad_tasks_file_is_one_line(self):  # refused before any work: in this process
        done = support.refusal("serve_env.py", "--tasks", support.FIXTURES / "datasets_bad_json_line.jsonl",
                               "--port", "0")
        self.assertEqual(done.returncode, 2)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)

    def test_bad_or_busy_port_is_one_line(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            # -1: the same range check. In this process (the script serves as a process above)
            runs = [support.refusal("serve_env.py", "--tasks", EXAMPLES, "--port", value, "--workers", "1")
                    for value in ("70000", str(port))]
        for done, expected in zip(runs, ("--port must be 0-65535, got 70000", f"cannot listen on 127.0.0.1:{port}")):
            with self.subTest(expected=expected):
                self.assertEqual(done.returncode, 2)
                self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
                self.assertIn(expected, done.stderr)


if __name__ == "__main__":
    unittest.main()
