"""Each distinct source compiled once per Executor (languages/built.py), kept from before it ran."""

import unittest

import support  # noqa: F401
from language_cases import make_task
from codeself.execution import ExecutionConfig, Executor
from codeself.execution.languages import built, toolchains

PROMPT = "#include<assert.h>\n#include<bits/stdc++.h>\nlong f(long x) {\n"
TASK = make_task("cpp", PROMPT, "f", ("assert(candidate((1)) == (2));",), ("assert(candidate((5)) == (6));",),
                 task_id="cpp/built")
CORRECT = PROMPT + "  return x + 1;\n}\n"
# passes, then replaces its own binary with a script that would exit 0 (were it run again)
REPLACES_ITSELF = ("#include <unistd.h>\n#include <sys/stat.h>\n" + PROMPT + "  static bool done = false;\n  if (!done) { done = true;\n"
                   "    unlink(\"program\"); FILE* f = fopen(\"program\", \"w\");\n"
                   "    if (f) { fputs(\"#!/bin/sh\\nexit 0\\n\", f); fclose(f); chmod(\"program\", 0755); } }\n"
                   "  return x + 1;\n}\n")
# a frame shaped like the child's build frame, written by the program before its import answer
FORGES_BUILT = ('#include <unistd.h>\nstatic int forged = [] {\n  const char* f = "{\\"built\\":{\\"program\\":\\"AA==\\"}}";\n'
                '  unsigned n = strlen(f); unsigned char h[4] = {0, 0, 0, (unsigned char)n};\n'
                '  write(4, h, 4); write(4, f, n); return 0; }();\n' + PROMPT + "  return x + 1;\n}\n")


class BuiltProgramsTest(unittest.TestCase):
    def test_same_source_compiles_once_and_runs_the_build_made_before_it_ran(self):
        if toolchains.missing("cpp"):
            self.skipTest(toolchains.missing("cpp"))
        sources = (CORRECT, REPLACES_ITSELF, FORGES_BUILT)
        # two workers: the kept builds are the Executor's, whichever worker made them
        with Executor(ExecutionConfig(workers=2)) as executor:
            first = list(executor.run_many((TASK, source) for source in sources))
            self.assertEqual([r.status for r in first], ["passed", "passed", "runtime_error"], [r.message for r in first])
            self.assertEqual(executor._built.reused, 0)
            # the same sources again, and another one (compiled: it fails where CORRECT's build would pass)
            again = list(executor.run_many([(TASK, source) for source in sources]
                                           + [(TASK, CORRECT.replace("x + 1", "x + 2"))]))
            self.assertEqual([r.status for r in again], ["passed", "passed", "runtime_error", "failed"],
                             [r.message for r in again])
            self.assertEqual(executor._built.reused, 3)  # the forger's real build was kept, not its frame

    def test_frames_that_do_not_parse_or_are_too_large_are_not_kept(self):
        programs = built.BuiltPrograms()
        for frame in ("", "not json", '{"built": 3}', '{"built": {"program": "@@@"}}',
                      '{"built": {"program": "' + "A" * (built.MAX_BUILT_BYTES * 2) + '"}}'):
            programs.remember("key", frame)
        self.assertEqual(programs.entries, {})
        programs.remember("key", '{"built": {"program": "AAEC"}, "x": ["program", "other"]}')
        self.assertEqual(programs.entries["key"], ({"program": b"\x00\x01\x02"}, ("program",)))


if __name__ == "__main__":
    unittest.main()
