"""Reproducibility manifest: determinism, exclusions, secrets, --verify."""

import json
import tarfile
import tempfile
import time
import unittest
from pathlib import Path

import support

from codeself.reporting import manifest

ROLLOUTS = support.FIXTURES / "compare_baseline.jsonl"  # 12 records, seed 7, config_hash cfg-base


def make_run_tree(root: Path) -> None:
    """A small smoke-like run: a config, a split manifest, tasks, outputs, raw data."""
    (root / "configs").mkdir()
    (root / "configs" / "reward.toml").write_text("[reward]\nweight = 1.0\n", encoding="utf-8")
    out = root / "outputs" / "smoke"
    out.mkdir(parents=True)
    (out / "splits.manifest.json").write_text('{"seed": 0, "counts": {"test": 12}}\n', encoding="utf-8")
    (out / "rollouts.jsonl").write_bytes(ROLLOUTS.read_bytes())
    (out / "rollouts.jsonl.config.json").write_text(json.dumps(
        {"command_lines": [["run_rollouts.py", "--seed", "7"]], "seed": 7, "config_hash": "cfg-base"},
        indent=2) + "\n", encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps({"command": ["evaluate_rollouts.py", "--seed", "0"],
                                                  "seed": 0}) + "\n", encoding="utf-8")
    (out / "tasks.public.jsonl").write_text(json.dumps({"task_id": "t1", "entry_point": "f",
                                                        "public_tests": ["assert f() == 1"],
                                                        "hidden_tests": []}) + "\n", encoding="utf-8")
    (out / "tasks.jsonl").write_text(json.dumps({"task_id": "t1", "entry_point": "f",
                                                 "public_tests": ["assert f() == 1"],
                                                 "hidden_tests": ["assert f() == 2"]}) + "\n", encoding="utf-8")
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "mbpp.jsonl").write_text("{}\n", encoding="utf-8")


class ManifestLibraryTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        make_run_tree(self.root)

    def tearDown(self):
        self.tmp.cleanup()

    def build(self, **kwargs):
        includes = [str(self.root / "configs"), str(self.root / "outputs"), str(self.root / "data")]
        return manifest.build_manifest(includes, self.root, **kwargs)

    def test_contents(self):
        doc = self.build()
        paths = [f["path"] for f in doc["files"]]
        self.assertEqual(paths, ["configs/reward.toml", "outputs/smoke/metrics.json",
                                 "outputs/smoke/rollouts.jsonl", "outputs/smoke/rollouts.jsonl.config.json",
                                 "outputs/smoke/splits.manifest.json", "outputs/smoke/tasks.public.jsonl"])
        kinds = {f["path"]: f["kind"] for f in doc["files"]}
        self.assertEqual(kinds["configs/reward.toml"], "config")
        self.assertEqual(kinds["outputs/smoke/splits.manifest.json"], "split_manifest")
        self.assertEqual(kinds["outputs/smoke/tasks.public.jsonl"], "tasks")
        self.assertEqual(kinds["outputs/smoke/rollouts.jsonl"], "output")
        self.assertEqual({(e["path"], e["reason"]) for e in doc["excluded"]},
                         {("data/raw/mbpp.jsonl", "raw data (data/raw/)"),
                          ("outputs/smoke/tasks.jsonl", "holds hidden tests")})
        run = doc["run"]
        # seeds: 12 rollout records + the sidecar with seed 7; metrics.json and the split
        # manifest with seed 0
        self.assertEqual(run["seeds"], {"distinct": 2, "values": [{"value": 7, "count": 13},
                                                                  {"value": 0, "count": 2}]})
        self.assertEqual(run["config_hashes"]["values"], [{"value": "cfg-base", "count": 13}])
        self.assertEqual(run["commands"]["values"], [{"value": ["evaluate_rollouts.py", "--seed", "0"], "count": 1},
                                                     {"value": ["run_rollouts.py", "--seed", "7"], "count": 1}])
        self.assertEqual(run["isolation"], {"namespaces": 12})
        self.assertEqual(doc["codeself"]["version"], "0.1.0")
        self.assertIn("transformers", doc["extras"])

    def test_include_hidden_takes_everything(self):
        doc = self.build(include_hidden=True)
        self.assertEqual(doc["excluded"], [])
        self.assertEqual(len(doc["files"]), 8)

    def test_explicit_output_brings_its_sidecar(self):
        doc = manifest.build_manifest([str(self.root / "outputs" / "smoke" / "rollouts.jsonl")], self.root)
        self.assertEqual([f["path"] for f in doc["files"]],
                         ["outputs/smoke/rollouts.jsonl", "outputs/smoke/rollouts.jsonl.config.json"])
        self.assertEqual(doc["run"]["commands"]["values"], [{"value": ["run_rollouts.py", "--seed", "7"],
                                                             "count": 1}])

    def test_same_inputs_same_manifest_and_archive(self):
        first = self.build(archive=self.root / "a1.tar.gz")
        second = self.build(archive=self.root / "a2.tar.gz")
        self.assertEqual((self.root / "a1.tar.gz").read_bytes(), (self.root / "a2.tar.gz").read_bytes())
        for doc in (first, second):
            doc.pop("generated_at")
            doc["archive"].pop("path")
        self.assertEqual(first, second)
        with tarfile.open(self.root / "a1.tar.gz") as tar:
            members = tar.getmembers()
        self.assertEqual([m.name for m in members], [f["path"] for f in first["files"]])
        self.assertTrue(all(m.mtime == 0 and m.uid == 0 and m.uname == "" and m.mode == 0o644 for m in members))
        self.assertNotIn("outputs/smoke/tasks.jsonl", [m.name for m in members])

    def test_secrets_refused(self):
        for name in (".env", "server.pem", "openai_api_key.txt", "id_rsa", "credentials.json"):
            with self.subTest(name=name):
                secret = self.root / "configs" / name
                secret.write_text("x", encoding="utf-8")
                with self.assertRaises(ValueError) as caught:
                    self.build()
                self.assertIn(f"refusing to include configs/{name}", str(caught.exception))
                secret.unlink()

    def test_verify(self):
        doc = self.build()
        self.assertEqual(manifest.verify(doc, self.root), {"checked": 8, "changed": [], "missing": []})
        (self.root / "configs" / "reward.toml").write_text("[reward]\nweight = 2.0\n", encoding="utf-8")
        (self.root / "outputs" / "smoke" / "metrics.json").unlink()
        (self.root / "data" / "raw" / "mbpp.jsonl").write_text("[]\n", encoding="utf-8")
        report = manifest.verify(doc, self.root)
        self.assertEqual(report["changed"], ["configs/reward.toml", "data/raw/mbpp.jsonl"])
        self.assertEqual(report["missing"], ["outputs/smoke/metrics.json"])

    def test_git_state_tolerates_no_repository(self):
        self.assertEqual(manifest.git_state(self.root), {"git_commit": None, "git_dirty": None})
        state = manifest.git_state(support.REPO_ROOT)
        if state["git_commit"] is not None:  # a source tarball has no .git
            self.assertRegex(state["git_commit"], r"^[0-9a-f]{40}$")
            self.assertIsInstance(state["git_dirty"], bool)


class ManifestScriptTest(unittest.TestCase):
    def test_end_to_end_twice_then_verify(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            make_run_tree(root)
            args = ["--output", "m.json", "--markdown-output", "m.md", "--archive", "a.tar.gz",
                    "--include", "configs", "outputs", "data"]
            first = support.run_script("make_reproducibility_manifest.py", *args, cwd=root)
            self.assertEqual(first.returncode, 0, first.stderr)
            self.assertIn("6 files, 2 hashed but not archived", first.stdout)
            first_json = json.loads((root / "m.json").read_text(encoding="utf-8"))
            first_archive = (root / "a.tar.gz").read_bytes()
            markdown = (root / "m.md").read_text(encoding="utf-8")
            self.assertIn("| `outputs/smoke/tasks.jsonl` | holds hidden tests |", markdown)
            self.assertIn("- Seeds: `7` ×13, `0` ×2", markdown)
            self.assertIn("- Commands: `evaluate_rollouts.py --seed 0` ×1, `run_rollouts.py --seed 7` ×1", markdown)
            time.sleep(1.01 - time.time() % 1.0)  # generated_at has whole seconds: start the next run in a later one
            second = support.run_script("make_reproducibility_manifest.py", *args, "--quiet", cwd=root)
            self.assertEqual((second.returncode, second.stdout, second.stderr), (0, "", ""))
            second_json = json.loads((root / "m.json").read_text(encoding="utf-8"))
            self.assertNotEqual(first_json.pop("generated_at"), second_json.pop("generated_at"))
            self.assertEqual(first_json, second_json)
            self.assertEqual((root / "a.tar.gz").read_bytes(), first_archive)

            ok = support.run_script("make_reproducibility_manifest.py", "--verify", "m.json", cwd=root)
            self.assertEqual(ok.returncode, 0, ok.stderr)
            self.assertIn("all 9 files match m.json", ok.stdout)
            (root / "outputs" / "smoke" / "rollouts.jsonl").write_text("tampered\n", encoding="utf-8")
            bad = support.run_script("make_reproducibility_manifest.py", "--verify", "m.json", cwd=root)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("changed: outputs/smoke/rollouts.jsonl", bad.stdout)

    def test_bad_input(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "conf").mkdir()
            (root / "conf" / ".env").write_text("OPENAI_API_KEY=sk-x\n", encoding="utf-8")
            cases = [
                (["--output", "m.json", "--markdown-output", "m.md", "--include", "conf"],
                 "refusing to include conf/.env"),
                (["--output", "m.json", "--markdown-output", "m.md", "--include", "nope"],
                 "--include nope: no such file or directory"),
                (["--output", "m.json", "--markdown-output", "m.md"], "nothing to describe"),
                (["--output", "m.json", "--include", "conf"], "--markdown-output are required"),
                (["--verify", "missing.json"], "missing.json: no such manifest"),
            ]
            for args, message in cases:
                with self.subTest(args=args):
                    result = support.run_script("make_reproducibility_manifest.py", *args, cwd=root)
                    self.assertEqual(result.returncode, 2)
                    self.assertIn(message, result.stderr)
                    self.assertEqual(len(result.stderr.strip().splitlines()), 1)
            self.assertFalse((root / "m.json").exists())


if __name__ == "__main__":
    unittest.main()
