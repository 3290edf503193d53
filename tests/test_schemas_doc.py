"""docs/schemas.md is the public contract: check it against the code, table by table.

A table preceded by `<!-- fields: module:Class -->` must list exactly the dataclass's fields;
a table preceded by `<!-- keys: NAME -->` must list exactly the top-level keys that the
corresponding script writes when run on a fixture (see KEY_PRODUCERS).
"""

import support

import dataclasses
import importlib
import json
import re
import tempfile
import unittest
from pathlib import Path

DOC = support.REPO_ROOT / "docs" / "schemas.md"
MARKER = re.compile(r"^<!-- (fields|keys): (\S+) -->$")
ROW_NAME = re.compile(r"^\| `([A-Za-z_][A-Za-z0-9_/]*)` \|")
F = support.FIXTURES


def documented_tables() -> list[tuple[str, str, set[str]]]:
    """(kind, target, names in the first column) for every marked table."""
    tables, lines = [], DOC.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        match = MARKER.match(line)
        if not match:
            continue
        names = set()
        for row in lines[index + 1:]:
            if not row.startswith("|"):
                break
            name = ROW_NAME.match(row)
            if name:
                names.add(name.group(1))
        tables.append((match.group(1), match.group(2), names))
    return tables


def producer_call(name: str, out: Path) -> tuple:
    """The script run (name, *args) that writes JSON record `name` on fixtures into `out`."""
    if name == "training_metrics":
        return ("train_grpo_smoke.py", "--tasks", support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl",
                "--output-dir", out / "run", "--quiet", *support.FAST_TIMEOUTS)  # keys only: loops need not wait 1 s
    return {
        "split_manifest": ("prepare_datasets.py", "--format", "mbpp", "--input",
                           F / "datasets_mbpp_small.jsonl", "--output", out / "t.jsonl",
                           "--assign-splits", "--manifest", out / "result.json", "--quiet"),
        "evaluation": ("evaluate_rollouts.py", "--rollouts", F / "eval_rollouts.jsonl", "--output",
                       out / "r.md", "--json-output", out / "result.json", "--quiet"),
        "error_analysis": ("analyze_errors.py", "--rollouts", F / "errors_baseline.jsonl", F / "errors_candidate.jsonl",
                           "--output", out / "r.md", "--json-output", out / "result.json", "--quiet"),
        "compare": ("compare_final.py", "--baseline", F / "compare_baseline.jsonl", "--candidate",
                    F / "compare_candidate.jsonl", "--output", out / "r.md",
                    "--json-output", out / "result.json", "--quiet"),
        "manifest": ("make_reproducibility_manifest.py", "--output", out / "result.json",
                     "--markdown-output", out / "m.md", "--include", F / "compare_baseline.jsonl",
                     "--quiet"),
    }[name]


def written_json(name: str, out: Path) -> dict:
    """What the producer of record `name` wrote into `out`."""
    if name == "training_metrics":
        records = [json.loads(line) for line in (out / "run" / "metrics.jsonl").read_text().splitlines()]
        return {key: None for record in records for key in record}  # the union: validation keys on checkpoint steps
    return json.loads((out / "result.json").read_text(encoding="utf-8"))


class SchemasDocTest(unittest.TestCase):
    def test_every_record_is_documented(self):
        targets = {target for _, target, _ in documented_tables()}
        expected = {
            "codeself.datasets.task:Task", "codeself.execution.result:ExecutionResult",
            "codeself.execution.result:TestOutcome", "codeself.agents.rollout:Rollout",
            "codeself.rewards.correctness:RewardRecord", "evaluation", "compare", "manifest",
            "split_manifest", "training_metrics", "codeself.training.config:RunConfig", "error_analysis",
            "codeself.agents.agentic.trace:EpisodeTrace", "codeself.agents.agentic.trace:TurnTrace",
        }
        self.assertLessEqual(expected, targets)

    def test_dataclass_tables_match_fields(self):
        for kind, target, names in documented_tables():
            if kind != "fields":
                continue
            module_name, class_name = target.split(":")
            record_class = getattr(importlib.import_module(module_name), class_name)
            fields = {f.name for f in dataclasses.fields(record_class)}
            with self.subTest(record=target):
                self.assertEqual(names, fields)

    def test_json_tables_match_written_keys(self):
        tables = [(target, names) for kind, target, names in documented_tables() if kind == "keys"]
        with tempfile.TemporaryDirectory() as tmp:
            outs = [Path(tmp, str(index)) for index in range(len(tables))]
            for out in outs:
                out.mkdir()
            runs = support.run_scripts(*(producer_call(target, out) for (target, _), out in zip(tables, outs)))  # at once
            for (target, names), out, completed in zip(tables, outs, runs):
                with self.subTest(record=target):
                    self.assertEqual(completed.returncode, 0, f"{target}: {completed.stderr}")
                    self.assertEqual(names, set(written_json(target, out)))


if __name__ == "__main__":
    unittest.main()
