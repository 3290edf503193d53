import support

import gzip
import os
import stat
import tempfile
import unittest
from pathlib import Path

from codeself.jsonl import (atomic_output, iter_jsonl, iter_jsonl_lines, make_sibling_dir, require_regular_file,
                            same_file, write_json, write_jsonl, write_text)


class JsonlTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_round_trip_skips_blank_lines_and_keeps_line_numbers(self):
        path = self.dir / "a.jsonl"
        path.write_text('{"a": 1}\n\n   \n{"b": "é"}\n', encoding="utf-8")
        # Line 1 holds a, lines 2-3 are blank, line 4 holds b.
        self.assertEqual(list(iter_jsonl_lines(path)), [(1, {"a": 1}), (4, {"b": "é"})])

    def test_reads_gzip(self):
        path = self.dir / "a.jsonl.gz"
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write('{"x": [1, 2]}\n')
        self.assertEqual(list(iter_jsonl(path)), [{"x": [1, 2]}])

    def test_invalid_line_names_file_and_line(self):
        path = self.dir / "bad.jsonl"
        path.write_text('{"a": 1}\n{"a": \n', encoding="utf-8")
        with self.assertRaisesRegex(ValueError, r"bad\.jsonl:2: invalid JSON"):
            list(iter_jsonl(path))

    def test_non_object_line_is_rejected(self):
        path = self.dir / "list.jsonl"
        path.write_text("[1, 2]\n", encoding="utf-8")
        with self.assertRaisesRegex(ValueError, r"list\.jsonl:1: expected a JSON object, got list"):
            list(iter_jsonl(path))

    def test_missing_file_is_a_value_error(self):
        with self.assertRaisesRegex(ValueError, "no such file"):
            list(iter_jsonl(self.dir / "missing.jsonl"))

    def test_a_path_that_is_not_a_regular_file_has_its_own_message(self):
        with self.assertRaisesRegex(ValueError, r"^/dev/null: not a regular file \(a device, pipe or socket\)"):
            list(iter_jsonl("/dev/null"))
        with self.assertRaisesRegex(ValueError, "is a directory, not a file"):
            list(iter_jsonl(self.dir))
        self.assertEqual(require_regular_file(__file__), Path(__file__))
        with self.assertRaisesRegex(ValueError, r"^--rollouts /dev/null: not a regular file"):
            require_regular_file("/dev/null", "--rollouts")

    def test_scripts_name_a_path_that_is_not_a_file(self):
        tasks = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
        cases = [
            (("run_rollouts.py", "--tasks", self.dir, "--backend", "mock", "--samples-per-task", "1", "--output",
              self.dir / "r.jsonl"), f"run_rollouts.py: error: {self.dir}: is a directory, not a file; give the "
                                     "JSONL file inside it"),
            (("run_rollouts.py", "--tasks", tasks, "--backend", "mock", "--samples-per-task", "1", "--template",
              "/dev/null", "--output", self.dir / "r.jsonl"),
             "run_rollouts.py: error: --template /dev/null: not a regular file (a device, pipe or socket); give a "
             "file on disk"),
            (("evaluate_rollouts.py", "--rollouts", "/dev/null", "--output", self.dir / "e.md"),
             "evaluate_rollouts.py: error: --rollouts /dev/null: not a regular file (a device, pipe or socket); "
             "give a file on disk"),
            (("validate_task_schema.py", self.dir), f"validate_task_schema.py: error: {self.dir}: is a directory, "
                                                    "not a file; give the JSONL file inside it"),
        ]
        for index, ((script, *args), message) in enumerate(cases):
            with self.subTest(script=script, args=args):
                # the first in a real process; the rest are refused before any work, so in this one
                done = support.run_script(script, *args, timeout=60) if index == 0 else support.refusal(script, *args)
                self.assertEqual((done.returncode, done.stderr.strip()), (2, message))

    def test_failed_write_leaves_existing_output_untouched_and_no_temp_files(self):
        path = self.dir / "out.jsonl"
        write_jsonl(path, [{"n": 1}])

        def records():
            yield {"n": 2}
            raise RuntimeError("interrupted half-way")

        with self.assertRaises(RuntimeError):
            write_jsonl(path, records())
        self.assertEqual(path.read_text(encoding="utf-8"), '{"n": 1}\n')
        self.assertEqual(os.listdir(self.dir), ["out.jsonl"])

    def test_outputs_get_the_mode_a_plain_open_gives(self):
        # 0666 minus the umask (a collaborator can read a report under the usual 022), not
        # mkstemp's private 0600; a rewrite gets it again, as does the binary mode
        for umask, expected in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
            previous = os.umask(umask)
            try:
                write_jsonl(self.dir / "a.jsonl", [{"n": 1}])
                write_text(self.dir / "b.md", "x")
                with atomic_output(self.dir / "c.bin", "wb") as handle:
                    handle.write(b"x")
            finally:
                os.umask(previous)
            for name in ("a.jsonl", "b.md", "c.bin"):
                with self.subTest(umask=oct(umask), name=name):
                    self.assertEqual(stat.S_IMODE(os.stat(self.dir / name).st_mode), expected)

    def test_sibling_directory_gets_the_mode_a_plain_mkdir_gives(self):
        previous = os.umask(0o027)
        try:
            made = make_sibling_dir(self.dir / "model")
        finally:
            os.umask(previous)
        self.assertEqual(made.parent, self.dir)
        self.assertTrue(made.name.startswith(".model.") and made.is_dir())
        self.assertEqual(stat.S_IMODE(os.stat(made).st_mode), 0o750)

    def test_write_json_is_byte_stable(self):
        a, b = self.dir / "a.json", self.dir / "b.json"
        write_json(a, {"b": 1, "a": [1, 2]})
        write_json(b, {"a": [1, 2], "b": 1})
        self.assertEqual(a.read_bytes(), b.read_bytes())

    def test_nan_is_refused(self):
        with self.assertRaises(ValueError):
            write_jsonl(self.dir / "nan.jsonl", [{"x": float("nan")}])

    def test_same_file_detects_aliases(self):
        path = self.dir / "x.jsonl"
        path.write_text("", encoding="utf-8")
        self.assertTrue(same_file(path, self.dir / "." / "x.jsonl"))
        self.assertFalse(same_file(path, self.dir / "y.jsonl"))


if __name__ == "__main__":
    unittest.main()
