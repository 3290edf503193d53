"""docker/entrypoint.py without Docker: the no-network guard and the evaluation it runs."""

import support

import contextlib
import importlib.util
import io
import json
import tempfile
import unittest
from pathlib import Path
from unittest import mock

EXAMPLES = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"


def load_entrypoint():
    spec = importlib.util.spec_from_file_location("codeself_docker_entrypoint",
                                                  support.REPO_ROOT / "docker" / "entrypoint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class EntrypointTest(unittest.TestCase):
    def setUp(self):
        self.entrypoint = load_entrypoint()
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        tasks = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
        # human-eval style samples: each test task's reference, as a full program
        self.samples = Path(self.tmp.name, "samples.jsonl")
        self.samples.write_text("".join(json.dumps({"task_id": t["task_id"], "solution": t["reference_solution"]}) + "\n"
                                        for t in tasks if t["split"] == "test"), encoding="utf-8")
        self.args = ["--tasks", str(EXAMPLES), "--completions", str(self.samples),
                     "--output-dir", str(Path(self.tmp.name, "out")), "--workers", "1", "--quiet"]

    def test_refuses_to_run_with_a_network(self):
        stderr = io.StringIO()
        with mock.patch.object(self.entrypoint, "network_interfaces", return_value=["eth0"]), \
                contextlib.redirect_stderr(stderr):
            self.assertEqual(self.entrypoint.main(self.args), 2)
        self.assertIn("network interfaces present (eth0); run the container with --network none", stderr.getvalue())
        self.assertFalse(Path(self.tmp.name, "out").exists())

    def test_network_less_run_writes_compare_ready_rollouts(self):
        with mock.patch.object(self.entrypoint, "network_interfaces", return_value=[]), \
                contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(self.entrypoint.main(self.args), 0)
        out = Path(self.tmp.name, "out")
        rollouts = [json.loads(line) for line in (out / "rollouts.jsonl").read_text(encoding="utf-8").splitlines()]
        self.assertEqual(len(rollouts), 3)  # the three test-split tasks
        self.assertTrue(all(r["execution"]["passed"] and r["split"] == "test" for r in rollouts))
        metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
        self.assertEqual(metrics["pass_at_k"]["1"], 1.0)


if __name__ == "__main__":
    unittest.main()
