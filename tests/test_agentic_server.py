"""The environment over HTTP: whole episodes with a real urllib client, isolation, errors, expiry."""

import support

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


class InProcessServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.executor = Executor(ExecutionConfig(workers=2))
        cls.store = SessionStore(TASKS, cls.executor, EnvConfig(max_revisions=1))
        cls.server = EnvServer(("127.0.0.1", 0), cls.store)
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
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
            ("/step", None, b"x" * (10 << 20), 413, "body_too_large"),
            ("/nowhere", {}, None, 404, "not_found"),
        ]
        for path, body, data, status, code in cases:
            with self.subTest(path=path, code=code):
                got_status, answer = call(self.base, path, body, data)
                self.assertEqual((got_status, answer["error"]["code"]), (status, code))
                self.assertNotIn("reward", answer)
        self.assertEqual(call(self.base, "/health", method="POST", data=b"{}")[0], 405)
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
            time.sleep(1.1)  # the store sweeps at most once a second
            status, answer = call(self.base, f"/state?session_id={first['session_id']}")
        finally:
            self.store.session_ttl_s = ttl
        self.assertEqual((status, answer["error"]["code"]), (404, "unknown_session"))


class ServeEnvScriptTest(unittest.TestCase):
    def test_serves_on_a_free_port_and_stops_on_sigterm(self):
        process = subprocess.Popen([sys.executable, str(support.SCRIPTS / "serve_env.py"), "--tasks", str(EXAMPLES),
                                    "--port", "0", "--workers", "1", "--quiet", "--mode", "repair"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = process.stdout.readline()
            if not line.startswith("serving on http://127.0.0.1:"):
                process.kill()
                self.fail(f"no 'serving on' line: {line!r} {process.communicate()[1]}")
            base = line.split()[2]
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
        self.assertEqual(process.returncode, 0, err)
        self.assertIn("stopped", out)

    def test_bad_tasks_file_is_one_line(self):
        done = support.run_script("serve_env.py", "--tasks", support.FIXTURES / "datasets_bad_json_line.jsonl", "--port", "0")
        self.assertEqual(done.returncode, 2)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)


if __name__ == "__main__":
    unittest.main()
