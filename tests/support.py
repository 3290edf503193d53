"""Shared test helpers: put `src/` on sys.path, locate real data, run scripts.

Every test module imports this first (`import support`), which is what lets
`python3 -m unittest discover -s tests` run from a fresh clone without installing.
"""

import os
import subprocess
import sys
import unittest
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCRIPTS = REPO_ROOT / "scripts"

if str(REPO_ROOT / "src") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "src"))


def data_file(test: unittest.TestCase, name: str) -> Path:
    """Path of a real dataset file under $CODESELF_DATA_DIR, or skip the test saying why."""
    data_dir = os.environ.get("CODESELF_DATA_DIR")
    if not data_dir:
        test.skipTest("CODESELF_DATA_DIR is not set; real-data test skipped (CI sets it)")
    path = Path(data_dir) / name
    if not path.is_file():
        test.skipTest(f"{path} not found under CODESELF_DATA_DIR")
    return path


def run_script(name: str, *args: str, cwd: Path | None = None, timeout: float = 300,
               input_text: str | None = None) -> subprocess.CompletedProcess:
    """Run `scripts/<name>` with this interpreter, capturing text output."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / name), *map(str, args)],
        cwd=cwd or REPO_ROOT, capture_output=True, text=True, timeout=timeout,
        input=input_text if input_text is not None else "",
    )


def convert_twice(test: unittest.TestCase, tmp: str, fmt: str, source: Path, name: str) -> tuple[Path, dict]:
    """Run prepare_datasets.py twice into `tmp/a` and `tmp/b` with splits and a manifest,
    assert the two runs wrote identical bytes, and return the first output and its manifest."""
    import json

    outputs = []
    for run in ("a", "b"):
        out, manifest = Path(tmp, run, name), Path(tmp, run, name + ".manifest.json")
        result = run_script("prepare_datasets.py", "--format", fmt, "--input", source, "--output", out,
                            "--assign-splits", "--manifest", manifest, "--quiet")
        test.assertEqual(result.returncode, 0, result.stderr)
        test.assertEqual(result.stderr, "")
        outputs.append((out.read_bytes(), manifest.read_bytes()))
    test.assertEqual(outputs[0], outputs[1])
    return Path(tmp, "a", name), json.loads(outputs[0][1])


def prepare_real_mbpp(test: unittest.TestCase, tmp: str) -> Path:
    """Convert the real MBPP file (official splits) into `tmp`, or skip when it is absent."""
    source = data_file(test, "mbpp.jsonl")
    tasks = Path(tmp, "mbpp.jsonl")
    prepared = run_script("prepare_datasets.py", "--format", "mbpp", "--input", source, "--output", tasks,
                          "--assign-splits", "--quiet")
    test.assertEqual(prepared.returncode, 0, prepared.stderr)
    return tasks
