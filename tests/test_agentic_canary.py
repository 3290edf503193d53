"""A unique canary in every hidden test must reach no prompt, feedback or model-visible trace field.

Two task sets: the bundled examples with the canary planted in every hidden test (as a comment,
and as the expected value of one more hidden assert), and a task whose hidden test passes the
canary *as an input*, answered by hostile programs that raise, print or write it to stderr.
Episodes run through scripts/run_agentic.py with the mock reviser (every feedback mode, solve
and repair, stopping on public pass or not) and with replayed hostile turns.
"""

import support

import ast
import json
import tempfile
import unittest
import uuid
from pathlib import Path

from support import run_beside

from codeself.agents.agentic.trace import MODEL_VISIBLE_EPISODE_FIELDS, MODEL_VISIBLE_TURN_FIELDS

CANARY = f"CODESELF-CANARY-{uuid.uuid4().hex}"
EXAMPLES = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"


def first_public_call(record: dict) -> str:
    for node in ast.walk(ast.parse(record["public_tests"][0])):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == record["entry_point"]:
            return ast.unparse(node)
    raise AssertionError(f"no call of the entry point in {record['task_id']}'s public test")


def planted_examples(path: Path) -> None:
    with open(EXAMPLES, encoding="utf-8") as source, open(path, "w", encoding="utf-8") as out:
        for line in source:
            record = json.loads(line)
            record["hidden_tests"] = [test + f"  # {CANARY}" for test in record["hidden_tests"]]
            record["hidden_tests"].append(f"assert {first_public_call(record)} != {CANARY!r}")
            out.write(json.dumps(record) + "\n")


ECHO_TASK = {"task_id": "canary/echo_len", "source": "example", "prompt": "Return the length of a string.",
             "entry_point": "echo_len", "starter_code": "", "public_tests": ["assert echo_len('ab') == 2"],
             "hidden_tests": [f"assert echo_len({CANARY!r}) == {len(CANARY)}"], "setup_code": "",
             "reference_solution": "def echo_len(s):\n    return len(s)\n", "split": "test", "metadata": {},
             "schema_version": 1}
HOSTILE = ["```python\ndef echo_len(s):\n    raise ValueError(s)\n```",
           "```python\ndef echo_len(s):\n    print(s)\n    return len(s) if s == 'ab' else -1\n```",
           "```python\nimport sys\ndef echo_len(s):\n    sys.stderr.write(s)\n    assert s == 'ab', s\n    return 2\n```",
           # the sandbox worker compiles probes (hidden inputs included); a child it forks must find
           # nothing of earlier runs' probes in the worker's modules or among its objects
           # (a probe is a call of the entry point: the reader shows every such text it finds)
           "```python\nimport gc, sys\ndef echo_len(s):\n    found = []\n"
           "    for name, module in list(sys.modules.items()):\n"
           "        text = repr(vars(module)) if name.startswith('codeself') else ''\n"
           "        found += [text[at:at + 120] for at in range(len(text)) if text.startswith('echo_len(', at)]\n"
           "    found += [repr(o.co_consts) for o in gc.get_objects() if type(o).__name__ == 'code']\n"
           "    raise ValueError(repr(found))\n```"]


def visible_values(record: dict) -> list[tuple[str, object]]:
    values = []
    for name in MODEL_VISIBLE_EPISODE_FIELDS:
        if name.startswith("start."):
            if record["start"] is not None:
                values.append((name, record["start"][name.split(".", 1)[1]]))
        else:
            values.append((name, record[name]))
    for turn in record["turns"]:
        values += [(f"turns[{turn['turn']}].{name}", turn[name]) for name in MODEL_VISIBLE_TURN_FIELDS]
    return values


MOCK_SETTINGS = [("--mode", "solve", "--feedback", "tests"), ("--mode", "repair", "--feedback", "tests"),
                 ("--mode", "solve", "--feedback", "generic", "--no-stop-when-public-pass"),
                 ("--mode", "repair", "--feedback", "none", "--no-stop-when-public-pass")]


class CanaryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        """Every run_agentic.py run of both tests at once (independent runs: own inputs, own outputs):
        the mock reviser in the four settings on the planted examples, and the hostile turns replayed.
        The first runs as the script's main() in this process, the others as processes."""
        tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(tmp.cleanup)
        cls.dir = Path(tmp.name)
        cls.tasks = cls.dir / "tasks.jsonl"
        planted_examples(cls.tasks)
        cls.mock_outs = [cls.dir / f"traces{number}.jsonl" for number in range(len(MOCK_SETTINGS))]
        echo_tasks, turns, cls.hostile_out = cls.dir / "echo.jsonl", cls.dir / "turns.jsonl", cls.dir / "hostile.jsonl"
        echo_tasks.write_text(json.dumps(ECHO_TASK) + "\n")
        turns.write_text(json.dumps({"task_id": "canary/echo_len", "turns": HOSTILE}) + "\n")
        mock = [("run_agentic.py", "--tasks", cls.tasks, "--trace-output", out, "--workers", "1", "--quiet",
                 "--backend", "mock", "--samples-per-task", "2", "--max-revisions", "2", *support.FAST_TIMEOUTS, *extra)
                for out, extra in zip(cls.mock_outs, MOCK_SETTINGS)]
        hostile = ("run_agentic.py", "--tasks", echo_tasks, "--trace-output", cls.hostile_out, "--workers", "1",
                   "--quiet", "--backend", "static", "--completions", turns, "--max-revisions", "3",
                   "--no-stop-when-public-pass")
        *cls.mock_runs, cls.hostile_run = run_beside(*mock, hostile)  # the first in this process

    def assert_no_canary(self, traces: Path) -> int:
        count = 0
        for line in traces.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            for name, value in visible_values(record):
                self.assertNotIn(CANARY, json.dumps(value, ensure_ascii=False), f"{record['task_id']} {name}")
            count += 1
        return count

    def test_mock_episodes_in_every_mode_never_show_hidden_tests(self):
        self.assertIn(CANARY, self.tasks.read_text())
        episodes, hidden_failures = 0, 0
        for out, done in zip(self.mock_outs, self.mock_runs):
            self.assertEqual(done.returncode, 0, done.stderr)
            episodes += self.assert_no_canary(out)
            hidden_failures += sum(not t["passed"] for line in out.read_text().splitlines()
                                   for turn in json.loads(line)["turns"] for t in turn["hidden_tests"])
        self.assertEqual(episodes, 4 * 8 * 2)
        self.assertGreater(hidden_failures, 0)  # hidden tests really failed, and still nothing leaked

    def test_hostile_programs_cannot_echo_hidden_inputs(self):
        self.assertEqual(self.hostile_run.returncode, 0, self.hostile_run.stderr)
        self.assertEqual(self.assert_no_canary(self.hostile_out), 1)
        record = json.loads(self.hostile_out.read_text())
        self.assertEqual([t["hidden_tests"][0]["passed"] for t in record["turns"]], [False] * 4)
        self.assertIn("raised ValueError: []", record["turns"][3]["feedback"])  # the reader ran and found nothing
        self.assertEqual(record["turns"][0]["public_tests"][0]["error_type"], "ValueError")  # public echo is fine


class VisibleColumnTest(unittest.TestCase):
    def test_schema_doc_marks_the_visible_fields(self):
        text = (support.REPO_ROOT / "docs" / "schemas.md").read_text(encoding="utf-8")
        marked = {}
        for table in ("EpisodeTrace", "TurnTrace"):
            rows = text.split(f"<!-- fields: codeself.agents.agentic.trace:{table} -->", 1)[1].split("\n\n", 1)[0]
            marked[table] = {row.split("`")[1]: row.split("|")[3].strip() for row in rows.splitlines()[3:]}
        self.assertEqual({name for name, mark in marked["TurnTrace"].items() if mark == "yes"},
                         set(MODEL_VISIBLE_TURN_FIELDS))
        episode = {name: mark for name, mark in marked["EpisodeTrace"].items() if mark and mark != "per field"}
        self.assertEqual(episode, {"prompt": "yes", "start": "`code`, `feedback`"})
        self.assertEqual(set(MODEL_VISIBLE_EPISODE_FIELDS), {"prompt", "start.code", "start.feedback"})


if __name__ == "__main__":
    unittest.main()
