"""`prepare_datasets.py --format multipl-e`: the fixture's exact records, refused flags, and
(with $CODESELF_DATA_DIR) every task of the eight real MultiPL-E files."""

import support

import json
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from codeself.datasets.convert import ConvertOptions, convert_file
from codeself.datasets.multipl_e import LICENCE, multipl_e_tests
from codeself.datasets.task import Task, load_tasks
from codeself.datasets.validate import TaskFileValidator, validate_files

FIXTURE = support.FIXTURES / "multipl_e_small.jsonl"


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


SOURCE = read_jsonl(FIXTURE)
# an assert statement of MultiPL-E's tests, found independently of the converter: a line whose
# first word is assert, assert_eq! or assert.<method>
ASSERT_LINE = re.compile(r"^\s*assert(?:_eq!|\.\w+)?\s*\(", re.MULTILINE)


class FixtureConversionTest(unittest.TestCase):
    """The script end to end on tests/fixtures/multipl_e_small.jsonl (four languages, both benchmarks)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.out = Path(cls.tmp.name, "multipl-e.jsonl")
        cls.manifest = Path(cls.tmp.name, "multipl-e.manifest.json")
        cls.done = support.run_script("prepare_datasets.py", "--format", "multipl-e", "--input", FIXTURE,
                                     "--output", cls.out, "--manifest", cls.manifest, "--quiet")
        cls.records = read_jsonl(cls.out) if cls.out.exists() else []

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_summary_and_the_one_warning(self):
        self.assertEqual(self.done.returncode, 0, self.done.stderr)
        self.assertEqual(self.done.stdout, (
            "wrote 6 tasks to {} (test 6)\nwrote split manifest to {}\n"
            "multipl-e: 6 tasks (split test, evaluation only), 11 asserts, all split; references (gpt_solution "
            "parsed): multiple_blocks 1, ok 4, truncated 1; 1 without a usable reference (reference_solution null)\n"
        ).format(self.out, self.manifest))
        # mbpp_902_shout's JavaScript test holds a raw newline inside a string literal (as written)
        self.assertEqual(self.done.stderr, "prepare_datasets.py: warning: the dataset's assert is malformed (brackets "
                                          "do not balance), kept as written: multipl-e/mbpp-js/902: hidden_tests[1]\n")

    def test_one_task_per_record_with_language_entry_point_and_split(self):
        rows = [(r["task_id"], r["language"], r["entry_point"], r["split"], r["source"], r["public_tests"],
                 r["metadata"]["original_task_id"], r["metadata"]["evaluation_only"], r["metadata"]["licence"])
                for r in self.records]
        self.assertEqual(rows, [
            ("multipl-e/humaneval-cpp/901", "cpp", "add_one", "test", "multipl-e-humaneval", [],
             "HumanEval_901_add_one", True, LICENCE),
            ("multipl-e/humaneval-java/901", "java", "addOne", "test", "multipl-e-humaneval", [],
             "HumanEval_901_add_one", True, LICENCE),
            ("multipl-e/humaneval-js/901", "js", "add_one", "test", "multipl-e-humaneval", [],
             "HumanEval_901_add_one", True, LICENCE),
            ("multipl-e/humaneval-rust/901", "rust", "add_one", "test", "multipl-e-humaneval", [],
             "HumanEval_901_add_one", True, LICENCE),
            ("multipl-e/mbpp-js/902", "js", "shout", "test", "multipl-e-mbpp", [], "mbpp_902_shout", True, LICENCE),
            ("multipl-e/mbpp-rust/902", "rust", "shout", "test", "multipl-e-mbpp", [], "mbpp_902_shout", True,
             LICENCE),
        ])
        for record, source in zip(self.records, SOURCE):
            self.assertEqual(record["prompt"], source["prompt"])
            self.assertEqual(record["starter_code"], source["prompt"])  # what a continuation completes
            self.assertEqual(record["setup_code"], "")

    def test_hidden_tests_are_the_asserts_as_written(self):
        self.assertEqual([r["hidden_tests"] for r in self.records], [
            ["assert(candidate((std::vector<long>({(long)1, (long)2}))) == (std::vector<long>({(long)2, (long)3})));",
             "assert(candidate((std::vector<long>())) == (std::vector<long>()));"],
            ["assert(addOne((new ArrayList<Long>(Arrays.asList((long)1l, (long)2l)))).equals((new ArrayList<Long>"
             "(Arrays.asList((long)2l, (long)3l)))));",
             "assert(addOne((new ArrayList<Long>(Arrays.asList()))).equals((new ArrayList<Long>(Arrays.asList()))));"],
            ["assert.deepEqual(candidate([1, 2]),[2, 3]);", "assert.deepEqual(candidate([]),[]);"],
            ["assert_eq!(candidate(vec![1, 2]), vec![2, 3]);",
             "assert_eq!(candidate(Vec::<isize>::new()), Vec::<isize>::new());"],
            ['assert.deepEqual(candidate("hello world"),"HELLO WORLD!");',
             'assert.deepEqual(candidate("two\nlines"),"TWO\nLINES!");'],
            ['assert_eq!(candidate(String::from("two\nlines")), String::from("TWO\nLINES!"));'],
        ])
        self.assertEqual([r["metadata"].get("malformed_tests_from_dataset") for r in self.records],
                         [None, None, None, None, [1], None])

    def test_metadata_multipl_e_rebuilds_the_tests_byte_for_byte(self):
        cpp = self.records[0]["metadata"]["multipl_e"]
        self.assertEqual(cpp, {
            "task_id": "HumanEval_901_add_one", "language": "cpp", "benchmark": "humaneval", "stop_tokens": ["\n}"],
            "tests_preamble": "}\nint main() {\n    auto candidate = add_one;\n", "assert_indent": "    ",
            "tests_epilogue": "\n}\n", "unsplit_asserts": [],
            "reference_parse": {"status": "ok", "detail": "one ```cpp block; its main removed; 1 header line(s) "
                                                          "of the prompt added"},
            "doctests": "transform", "prompt_terminology": "reworded"})
        for record, source in zip(self.records, SOURCE):
            info = record["metadata"]["multipl_e"]
            with self.subTest(task=record["task_id"]):
                self.assertEqual(multipl_e_tests(Task.from_json(record)), source["tests"])
                self.assertEqual(info["language"], source["language"])  # MultiPL-E's own code ("rs")
                self.assertEqual(info["unsplit_asserts"], [])
        # the Rust MBPP record stores its stop tokens as a Python literal: read as a list
        self.assertEqual(self.records[5]["metadata"]["multipl_e"]["stop_tokens"], ["\n}"])
        self.assertEqual(self.records[2]["metadata"]["multipl_e"]["stop_tokens"],
                         ["\nfunction ", "\n/*", "\n//", "\nconsole.log"])

    def test_references_are_the_parsed_gpt_solutions(self):
        parses = [(r["metadata"]["multipl_e"]["reference_parse"]["status"], r["reference_solution"] is None,
                   "gpt_solution" in r["metadata"]["multipl_e"]) for r in self.records]
        # the Rust answer is cut before its closing fence: no reference, the answer kept as written
        self.assertEqual(parses, [("ok", False, False), ("ok", False, False), ("multiple_blocks", False, False),
                                  ("truncated", True, True), ("ok", False, False), ("ok", False, False)])
        self.assertEqual(self.records[3]["metadata"]["multipl_e"]["gpt_solution"], SOURCE[3]["gpt_solution"])
        self.assertEqual(self.records[1]["reference_solution"],
                         "import java.util.*;\nimport java.util.stream.*;\nclass Problem {\npublic static "
                         "ArrayList<Long> addOne(ArrayList<Long> xs) {\n    ArrayList<Long> out = new ArrayList<>();"
                         "\n    for (long x : xs) out.add(x + 1);\n    return out;\n}\n}\n")
        self.assertEqual(self.records[2]["reference_solution"], "function add_one(xs) {\n  return xs.map(x => x + 1);\n}\n")

    def test_output_validates_is_reproducible_and_never_trainable(self):
        check = support.run_script("validate_task_schema.py", self.out)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertTrue(check.stdout.startswith("valid: 6 task(s) in 1 file(s)"), check.stdout)
        again = Path(self.tmp.name, "again.jsonl")
        manifest = convert_file(FIXTURE, again, ConvertOptions(source_format="multipl-e"))
        self.assertEqual(again.read_bytes(), self.out.read_bytes())
        self.assertEqual(manifest["output"]["sha256"], json.loads(self.manifest.read_text())["output"]["sha256"])
        task = next(load_tasks(self.out))
        with self.assertRaisesRegex(ValueError, "evaluation-only .*licence"):
            task.with_split("train")


class RefusedInputTest(unittest.TestCase):
    """Flags that would make MultiPL-E trainable or move its asserts, and bad records: one line each."""

    @classmethod
    def setUpClass(cls):
        cls.script = support.load_script("prepare_datasets")

    def prepare(self, tmp, *flags, source=FIXTURE):
        out = Path(tmp, "out.jsonl")
        code, stdout, stderr = support.run_in_process(self.script, "--format", "multipl-e", "--input", source,
                                              "--output", out, "--quiet", *flags)
        self.assertFalse(out.exists())
        self.assertEqual((code, stdout, stderr.count("\n")), (2, "", 1), stderr)
        self.assertTrue(stderr.startswith("prepare_datasets.py: error: "), stderr)
        return stderr

    def test_split_and_test_flags_are_refused(self):
        cases = [("--assign-splits",), ("--assign-splits", "--ratios", "train=1"), ("--public-tests", "1"),
                 ("--public-tests", "0"), ("--include-challenge-tests",), ("--no-docstring-tests",),
                 ("--call-timeout", "5")]
        with tempfile.TemporaryDirectory() as tmp:
            for flags in cases:
                with self.subTest(flags=flags):
                    stderr = self.prepare(tmp, *flags)
                    self.assertIn(f"--format multipl-e takes no {flags[0]}", stderr)
                    self.assertIn("evaluation only", stderr)
            self.assertIn("takes no --assign-splits, --ratios:", self.prepare(tmp, "--assign-splits", "--ratios",
                                                                                 "train=1"))

    def test_bad_records_name_file_line_and_task(self):
        good = dict(SOURCE[0])
        cases = [
            ({**good, "language": "go"}, "language 'go' is not one of cpp, java, js, rs"),
            ({**good, "task_id": "HE_1_x"}, "task_id 'HE_1_x' is not HumanEval_<n>_<name> or mbpp_<n>_<name>"),
            ({key: value for key, value in good.items() if key != "tests"}, "MultiPL-E record needs field(s) tests"),
            ({**good, "tests": good["tests"].replace("candidate = add_one", "candidate = other")},
             "tests call 'other' but the prompt's signature is 'add_one'"),
            ({**good, "stop_tokens": "not a list"}, "stop_tokens 'not a list' is not a Python list literal"),
        ]
        with tempfile.TemporaryDirectory() as tmp:
            for record, fragment in cases:
                with self.subTest(fragment=fragment):
                    source = Path(tmp, "bad.jsonl")
                    source.write_text(json.dumps(SOURCE[1]) + "\n" + json.dumps(record) + "\n", encoding="utf-8")
                    stderr = self.prepare(tmp, source=source)
                    self.assertIn(f"{source}:2: ", stderr)
                    self.assertIn(fragment, stderr)


def convert_and_validate(source: str, out: str) -> tuple[dict, list[str], int]:
    """convert_file as the script does, then the validator on its output: (the manifest, the
    problems found, the tasks the validator counted)."""
    manifest = convert_file(Path(source), Path(out), ConvertOptions(source_format="multipl-e"))
    validator = TaskFileValidator()
    problems = [problem.format() for problem in validate_files([Path(out)], validator)]
    return manifest, problems, validator.tasks


# convert_and_validate of each (source, out) pair in argv[1] (JSON), its results on stdout (JSON)
CHILD = ("import json, sys\nfrom test_datasets_multipl_e import convert_and_validate\n"
         "json.dump([convert_and_validate(*pair) for pair in json.loads(sys.argv[1])], sys.stdout)\n")
# Tasks of the real files as this process converted and loaded them (file name -> tasks), for
# test_parsing_languages.RealReferencesTest: each file is converted once per test process.
LOADED: dict[str, list[Task]] = {}


class RealFilesTest(unittest.TestCase):
    """Every record of the eight MultiPL-E files (README counts), converted as the script does."""

    COUNTS = {"humaneval-cpp": 161, "humaneval-java": 158, "humaneval-js": 161, "humaneval-rs": 156,
              "mbpp-cpp": 397, "mbpp-java": 386, "mbpp-js": 397, "mbpp-rs": 354}
    # Converting and validating is CPU-bound Python (~3.5 s for the eight): a second process does
    # these four (about half the work) while this one does the others.
    IN_CHILD = ("mbpp-java", "mbpp-cpp", "humaneval-js", "humaneval-rs")

    def test_every_task_converts_validates_and_rebuilds_its_tests(self):
        sources = {name: support.data_file(self, f"multipl-e/{name}.jsonl") for name in self.COUNTS}
        with tempfile.TemporaryDirectory() as tmp:
            # (source, output) per file; absolute paths: the child runs in tests/
            pairs = {name: (str(source.resolve()), str(Path(tmp, f"{name}.jsonl")))
                     for name, source in sources.items()}
            child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps([pairs[n] for n in self.IN_CHILD])],
                                     cwd=Path(__file__).parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=support.script_env())
            try:  # this process's files, each checked while the child still works
                for name in [name for name in sources if name not in self.IN_CHILD]:
                    done = convert_and_validate(*pairs[name])
                    with self.subTest(file=name):
                        self._check_file(name, sources[name], Path(pairs[name][1]), *done)
            finally:
                try:
                    out, err = child.communicate(timeout=600)
                except subprocess.TimeoutExpired:
                    child.kill()
                    raise
            self.assertEqual(child.returncode, 0, err)
            for name, done in zip(self.IN_CHILD, json.loads(out)):
                with self.subTest(file=name):
                    self._check_file(name, sources[name], Path(pairs[name][1]), *done)

    def _check_file(self, name: str, source: Path, out: Path, manifest: dict, problems: list[str],
                    validated: int) -> None:
        benchmark, their_language = name.split("-")
        language = {"rs": "rust"}.get(their_language, their_language)
        self.assertEqual(problems, [])
        self.assertEqual((validated, manifest["counts"]), (self.COUNTS[name], {"test": self.COUNTS[name]}))
        originals = read_jsonl(source)
        tasks = list(load_tasks(out))
        self.assertEqual(len(tasks), len(originals))
        for task, original in zip(tasks, originals):
            number = re.match(r"(?:HumanEval|mbpp)_(\d+)_", original["task_id"]).group(1)
            self.assertEqual((task.task_id, task.language, task.split, task.metadata["original_task_id"]),
                             (f"multipl-e/{benchmark}-{language}/{number}", language, "test", original["task_id"]))
            self.assertIs(task.metadata["evaluation_only"], True)
            self.assertEqual(multipl_e_tests(task), original["tests"], task.task_id)
            self.assertEqual(len(task.hidden_tests), len(ASSERT_LINE.findall(original["tests"])), task.task_id)
            self.assertTrue(all(ASSERT_LINE.match(test) and "\n" + task.metadata["multipl_e"]["assert_indent"]
                                + "assert" not in test for test in task.hidden_tests), task.task_id)
            self.assertEqual(task.metadata["multipl_e"]["unsplit_asserts"], [], task.task_id)
            self.assertEqual(task.public_tests, ())
        LOADED[name] = tasks


if __name__ == "__main__":
    unittest.main()
