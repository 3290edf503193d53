"""The `openai` backend against a local stdlib server speaking the OpenAI HTTP protocol."""

import json
import os
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock

import support  # noqa: F401
from support import in_process

from codeself.agents.backends import BackendError, BackendOptions, GenerationRequest, OpenAIBackend, create_backend
from codeself.agents.backends.base import derive_seed
from codeself.datasets.task import PublicTask

TASK = PublicTask("mbpp/1", "Add.", "add", "", ("assert add(1, 2) == 3",))
CHAT = [{"role": "user", "content": "Add."}]


class FakeOpenAIServer(ThreadingHTTPServer):
    """Serves /v1/chat/completions and /v1/completions; `script` queues special responses."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FakeOpenAIHandler)
        self.script: list[tuple] = []  # consumed one per request: ("status", code, body, headers) | ("sleep", s)
        self.requests: list[dict] = []
        self.max_choices: int | None = None  # like llama.cpp: ignore n beyond this
        self.required_key: str | None = None
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class FakeOpenAIHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        with server.lock:
            server.requests.append({"path": self.path, "body": body,
                                    "authorization": self.headers.get("Authorization")})
            action = server.script.pop(0) if server.script else ("ok",)
        if action[0] == "sleep":
            time.sleep(action[1])
        elif action[0] == "status":
            return self.reply(action[1], action[2], action[3] if len(action) > 3 else {})
        if server.required_key and self.headers.get("Authorization") != f"Bearer {server.required_key}":
            return self.reply(401, {"error": {"message": "Incorrect API key provided", "type": "auth"}})
        if self.path not in ("/v1/chat/completions", "/v1/completions"):
            return self.reply(404, {"error": {"message": f"no route {self.path}"}})
        if not body.get("model"):
            return self.reply(400, {"error": {"message": "'model' is required", "type": "invalid_request_error"}})
        self.reply(200, self.completion(body, chat=self.path.endswith("chat/completions")))

    def completion(self, body, chat):
        n = body.get("n", 1) if self.server.max_choices is None else min(body.get("n", 1), self.server.max_choices)
        choices = []
        for index in range(n):
            text = f"```python\ndef add(a, b):\n    return a + b  # seed {body.get('seed')} choice {index}\n```"
            choice = {"index": index, "finish_reason": "stop"}
            choice.update({"message": {"role": "assistant", "content": text}} if chat else {"text": text})
            choices.append(choice)
        return {"id": "x", "object": "chat.completion" if chat else "text_completion", "created": 0,
                "model": body["model"], "choices": list(reversed(choices)),  # order by "index", not position
                "usage": {"prompt_tokens": 5, "completion_tokens": 20, "total_tokens": 25}}

    def reply(self, code, payload, headers=None):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass


class ServerTestCase(unittest.TestCase):
    """Starts a FakeOpenAIServer on an ephemeral port for each test and stops it after."""

    def setUp(self):
        self.server = FakeOpenAIServer()
        thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        thread.start()

        def stop():
            self.server.shutdown()
            self.server.server_close()
            thread.join(timeout=5)
        self.addCleanup(stop)


class OpenAIBackendTest(ServerTestCase):
    def backend(self, **kwargs) -> OpenAIBackend:
        settings = {"base_url": self.server.base_url, "timeout_s": 2.0, "max_retries": 3,
                    "backoff_base_s": 0.01, "concurrency": 2, **kwargs}
        backend = OpenAIBackend("tiny-model", **settings)
        self.addCleanup(backend.close)
        return backend

    def test_chat_request_and_response(self):
        backend = self.backend(temperature=0.2, top_p=0.9, max_tokens=64)
        [generations] = backend.generate([GenerationRequest(TASK, CHAT, (0, 1, 2), 7, ("\n```\n",))])
        self.assertEqual(len(self.server.requests), 3)  # one request per sample, each with its own seed
        seeds = [derive_seed(7, "mbpp/1", index) for index in range(3)]
        for request in self.server.requests:
            self.assertEqual(request["path"], "/v1/chat/completions")
            body = request["body"]
            self.assertEqual({k: body[k] for k in ("model", "messages", "n", "temperature", "top_p", "max_tokens",
                                                    "stop")},
                             {"model": "tiny-model", "messages": CHAT, "n": 1, "temperature": 0.2, "top_p": 0.9,
                              "max_tokens": 64, "stop": ["\n```\n"]})
            self.assertIsNone(request["authorization"])
        self.assertEqual(sorted(r["body"]["seed"] for r in self.server.requests), sorted(seeds))
        self.assertEqual([g.completion.split("# ")[1].split("\n")[0] for g in generations],
                         [f"seed {seed} choice 0" for seed in seeds])
        self.assertEqual([g.metadata for g in generations],
                         [{"finish_reason": "stop", "request_seed": seed} for seed in seeds])

    def test_completion_prompt_uses_completions_endpoint(self):
        [generations] = self.backend().generate([GenerationRequest(TASK, "def add(a, b):\n", (0,), 0)])
        self.assertEqual(self.server.requests[0]["path"], "/v1/completions")
        self.assertEqual(self.server.requests[0]["body"]["prompt"], "def add(a, b):\n")
        self.assertIn("return a + b", generations[0].completion)

    def test_a_sample_does_not_depend_on_the_samples_asked_with_it(self):
        # What --resume relies on: sample 2 asked alone (the rest already written) is sample 2 of
        # a full run, on a server that honours seeds (this one writes the seed into the text).
        [full] = self.backend().generate([GenerationRequest(TASK, CHAT, (0, 1, 2), 3)])
        [resumed] = self.backend().generate([GenerationRequest(TASK, CHAT, (2,), 3)])
        self.assertEqual(resumed[0].completion, full[2].completion)
        self.assertEqual(len({g.completion for g in full}), 3)
        self.assertEqual(self.backend().config()["seeding"], "per_sample")

    def test_429_then_success(self):
        self.server.script = [("status", 429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "0"})]
        [generations] = self.backend().generate([GenerationRequest(TASK, CHAT, (0,), 0)])
        self.assertEqual(len(generations), 1)
        self.assertEqual(len(self.server.requests), 2)

    def test_500_then_success(self):
        self.server.script = [("status", 500, b"Internal Server Error"), ("status", 503, {"detail": "loading"})]
        [generations] = self.backend().generate([GenerationRequest(TASK, CHAT, (0,), 0)])
        self.assertEqual(len(generations), 1)
        self.assertEqual(len(self.server.requests), 3)

    def test_retries_exhausted_is_one_clear_line(self):
        self.server.script = [("status", 503, {"error": {"message": "model is\nloading"}})] * 3
        with self.assertRaises(BackendError) as caught:
            self.backend(max_retries=2).generate([GenerationRequest(TASK, CHAT, (0,), 0)])
        message = str(caught.exception)
        self.assertEqual(message, f"openai backend: POST {self.server.base_url}/chat/completions failed after 3 "
                                  "attempt(s): HTTP 503: model is loading")

    def test_slow_response_hits_timeout_then_retry_succeeds(self):
        self.server.script = [("sleep", 0.6)]
        started = time.monotonic()
        [generations] = self.backend(timeout_s=0.2).generate([GenerationRequest(TASK, CHAT, (0,), 0)])
        self.assertEqual(len(generations), 1)
        self.assertLess(time.monotonic() - started, 0.6)  # did not wait for the slow reply
        self.assertEqual(len(self.server.requests), 2)

    def test_slow_response_without_retries_fails_clearly(self):
        self.server.script = [("sleep", 0.5)]
        with self.assertRaisesRegex(BackendError, r"failed after 1 attempt\(s\): no response within 0.2 s"):
            self.backend(timeout_s=0.2, max_retries=0).generate([GenerationRequest(TASK, CHAT, (0,), 0)])

    def test_400_is_not_retried_and_quotes_the_server(self):
        with self.assertRaises(BackendError) as caught:
            OpenAIBackend("", base_url=self.server.base_url, backoff_base_s=0.01).generate(
                [GenerationRequest(TASK, CHAT, (0,), 0)])
        self.assertEqual(str(caught.exception), f"openai backend: POST {self.server.base_url}/chat/completions: "
                                                "HTTP 400: 'model' is required")
        self.assertEqual(len(self.server.requests), 1)

    def test_connection_refused_is_retried_then_reported(self):
        backend = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", max_retries=1, backoff_base_s=0.01)
        self.addCleanup(backend.close)
        with self.assertRaisesRegex(BackendError, r"failed after 2 attempt\(s\): cannot connect"):
            backend.generate([GenerationRequest(TASK, CHAT, (0,), 0)])

    def test_api_key_from_environment_never_in_config(self):
        self.server.required_key = "sk-test-SECRET"
        options = BackendOptions(model="tiny-model", base_url=self.server.base_url, api_key_env="CODESELF_TEST_KEY")
        with mock.patch.dict(os.environ, {"CODESELF_TEST_KEY": "sk-test-SECRET"}):
            backend = create_backend("openai", options)
        self.addCleanup(backend.close)
        [generations] = backend.generate([GenerationRequest(TASK, CHAT, (0,), 0)])
        self.assertEqual(self.server.requests[0]["authorization"], "Bearer sk-test-SECRET")
        self.assertNotIn("SECRET", json.dumps(backend.config()))
        self.assertNotIn("SECRET", repr(generations))

    def test_wrong_key_is_a_clear_error(self):
        self.server.required_key = "right"
        with self.assertRaisesRegex(BackendError, "HTTP 401: Incorrect API key provided"):
            self.backend(api_key="wrong").generate([GenerationRequest(TASK, CHAT, (0,), 0)])

    def test_missing_key_variable_and_model(self):
        with mock.patch.dict(os.environ, {}, clear=True):
            with self.assertRaisesRegex(ValueError, "environment variable NOPE_KEY .* is not set"):
                create_backend("openai", BackendOptions(model="m", api_key_env="NOPE_KEY"))
        with self.assertRaisesRegex(ValueError, "needs --model"):
            create_backend("openai", BackendOptions())

    def test_concurrent_requests_keep_order(self):
        tasks = [PublicTask(f"mbpp/{i}", "p", "add", "", ()) for i in range(6)]
        backend = self.backend(concurrency=3)
        results = backend.generate([GenerationRequest(task, CHAT, (0,), 5) for task in tasks])
        seeds = {r["body"]["seed"] for r in self.server.requests}
        self.assertEqual(len(seeds), 6)
        again = self.backend(concurrency=1).generate([GenerationRequest(task, CHAT, (0,), 5) for task in tasks])
        self.assertEqual([g[0].completion for g in results], [g[0].completion for g in again])


class RunRolloutsOpenAITest(ServerTestCase):
    """scripts/run_rollouts.py --backend openai against the fake server: in a subprocess (the first
    test), else its main() in this process, with the same arguments (no interpreter start each)."""

    def run_rollouts(self, output, *args, subprocess=False):
        argv = ("--tasks", support.REPO_ROOT / "configs/datasets/tasks.example.jsonl", "--output", output,
                "--backend", "openai", "--base-url", self.server.base_url, "--samples-per-task", "2", "--timeout-s",
                "0.5", "--workers", "1", "--quiet", "--max-retries", "1", *args)
        return (support.run_script if subprocess else in_process)("run_rollouts.py", *argv)

    def test_rollouts_from_the_server(self):
        with tempfile.TemporaryDirectory() as tmp:
            output = Path(tmp) / "openai.jsonl"
            env_key = {"CODESELF_TEST_KEY": "sk-SECRET-123"}
            self.server.required_key = "sk-SECRET-123"
            with mock.patch.dict(os.environ, env_key):
                result = self.run_rollouts(output, "--model", "tiny-model", "--api-key-env", "CODESELF_TEST_KEY",
                                           "--limit", "2", subprocess=True)
            self.assertEqual(result.returncode, 0, result.stderr)
            text = output.read_text() + Path(f"{output}.config.json").read_text()
            records = [json.loads(line) for line in output.read_text().splitlines()]
        self.assertNotIn("sk-SECRET-123", text)
        self.assertEqual(len(records), 4)
        self.assertEqual([r["body"]["n"] for r in self.server.requests], [1, 1, 1, 1])  # 2 tasks x 2 samples
        first = records[0]
        self.assertEqual((first["backend"], first["model"], first["parse_status"]), ("openai", "tiny-model", "ok"))
        sent = [request["body"]["messages"] for request in self.server.requests]
        self.assertEqual(sorted(map(json.dumps, sent)), sorted(json.dumps(r["prompt"]) for r in records))
        self.assertIn("no def", first["metadata"]["parse_detail"])  # the server always answers `add`
        self.assertEqual(first["execution"]["status"], "failed")

    def test_stop_flag_reaches_the_server_and_the_config(self):
        """--stop (issue 16's form control) is added to the template's stop strings, sent with every
        request, recorded in the sidecar and changes the config hash; '\\n' on the command line is a newline."""
        with tempfile.TemporaryDirectory() as tmp:
            plain, stopped = Path(tmp) / "plain.jsonl", Path(tmp) / "stop.jsonl"
            first = self.run_rollouts(plain, "--model", "tiny-model", "--limit", "1")
            sent_before = len(self.server.requests)
            second = self.run_rollouts(stopped, "--model", "tiny-model", "--limit", "1",
                                       "--stop", "\\n```\\n", "--stop", "END")
            self.assertEqual((first.returncode, second.returncode), (0, 0), first.stderr + second.stderr)
            sidecars = [json.loads(Path(f"{path}.config.json").read_text()) for path in (plain, stopped)]
        self.assertNotIn("stop", self.server.requests[0]["body"])
        self.assertEqual([r["body"]["stop"] for r in self.server.requests[sent_before:]], [["\n```\n", "END"]] * 2)
        self.assertEqual([sidecar["stop"] for sidecar in sidecars], [[], ["\n```\n", "END"]])
        self.assertNotEqual(sidecars[0]["config_hash"], sidecars[1]["config_hash"])

    def test_server_error_reaches_the_user_as_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            output = Path(tmp) / "openai.jsonl"
            error = {"error": {"message": "max_tokens must be at most 4096", "type": "invalid_request_error"}}
            self.server.script = [("status", 400, error)] * 2
            # one request at a time: the first sample's request is the first to fail, so nothing is
            # written (with several in flight a later sample may be answered and written first)
            result = self.run_rollouts(output, "--model", "tiny-model", "--max-tokens", "99999", "--limit", "2",
                                       "--concurrency", "1")
            self.assertFalse(output.exists())  # nothing written: the empty output is removed
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stderr, f"run_rollouts.py: error: openai backend: POST {self.server.base_url}"
                                        "/chat/completions: HTTP 400: max_tokens must be at most 4096\n")

    def test_failure_mid_run_keeps_finished_records_and_resume_completes(self):
        with tempfile.TemporaryDirectory() as tmp:
            output = Path(tmp) / "openai.jsonl"
            # batches of 2 tasks, one request per sample: the first batch's 4 requests succeed, the
            # second batch's first request fails
            self.server.script = [("ok",)] * 4 + [("status", 400, {"error": {"message": "context too long"}})]
            args = ("--model", "tiny-model", "--limit", "3", "--concurrency", "1")
            failed = self.run_rollouts(output, *args)
            self.assertEqual((failed.returncode, failed.stderr.count("\n")), (2, 1), failed.stderr)
            self.assertIn("HTTP 400: context too long", failed.stderr)
            partial = output.read_text().splitlines()
            self.assertEqual(len(partial), 4)  # 2 tasks x 2 samples finished before the failure
            resumed = self.run_rollouts(output, *args, "--resume")
            self.assertEqual(resumed.returncode, 0, resumed.stderr)
            self.assertIn("wrote 2 new rollout(s)", resumed.stdout)
            lines = output.read_text().splitlines()
        self.assertEqual(lines[:4], partial)
        self.assertEqual([json.loads(line)["sample_index"] for line in lines], [0, 1] * 3)
        self.assertEqual(len({json.loads(line)["task_id"] for line in lines}), 3)


if __name__ == "__main__":
    unittest.main()
