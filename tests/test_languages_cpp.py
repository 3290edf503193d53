"""C++ through the sandbox: separate translation units, verdicts in the parent, hostile programs fail."""

import dataclasses
import unittest

import support  # noqa: F401
from language_cases import SECRET, HostileMixin, make_task

PROMPT = "#include<assert.h>\n#include<bits/stdc++.h>\n// add one\nlong f(long x) {\n"


def task(hidden=("assert(candidate((2)) == (3));", "assert(candidate((5)) == (6));")):
    return make_task("cpp", PROMPT, "f", ("assert(candidate((1)) == (2));",), hidden)


FORGE = ('#include <unistd.h>\nstatic int forged = [] {\n  const char* frames[] = {"{\\"ok\\":true}", "{\\"values\\":[2]}"};\n'
         '  for (const char* f : frames) { unsigned n = strlen(f); unsigned char h[4] = {0, 0, 0, (unsigned char)n};\n'
         '    write(4, h, 4); write(4, f, n); }\n  return 0; }();\n')

RUNTIME_NAMES = ("#include <unistd.h>\nnamespace codeself_rt { struct Out;\n"
                 "int serve(int, char**, std::string (*const*)(), unsigned long) { _exit(0); }\n"
                 "void enc_double(Out&, double) { _exit(0); }\n}\n")


class CppTest(HostileMixin, unittest.TestCase):
    """The hostile programs and (HostileMixin) MultiPL-E's reference answers of the first two
    HumanEval tasks, in one batch: each reference costs two g++ runs, and
    scripts/check_references.py checks every reference of a converted file."""

    LANGUAGE, SUFFIX = "cpp", "cpp"
    REFERENCES = 2
    # HostileMixin's COMPILE_TIMEOUT_S (2 s of CPU) ends the endless compile: each compile here
    # takes < 0.5 s of CPU (g++ with the precompiled header)

    @classmethod
    def hostile_cases(cls):
        plain = task()
        looping = dataclasses.replace(plain, metadata={"timeout_s": 0.25})
        return {
            # first, so that they start first: the jobs that wait out a limit
            # each level includes the file twice: 2**30 inclusions, little memory, endless time
            "endless_compile": (plain, "#if __INCLUDE_LEVEL__ < 30\n#include __FILE__\n#include __FILE__\n#endif\n"
                                       "#if __INCLUDE_LEVEL__ == 0\nlong f(long x) { return x + 1; }\n#endif\n"),
            # the loop's own limit, 0.25 s a test (task metadata timeout_s; the others keep the batch's 1 s):
            # an endless loop waits it out, and under load once more x the slowdown measured then
            "endless_loop": (looping, "long f(long x) { volatile long i = 0; for (;;) ++i; }\n"),
            "correct_with_main": (plain, PROMPT + "  return x + 1;\n}\nint main() { return 1; }\n"),
            "wrong": (plain, "long f(long x) { return x == 1 ? 2 : 0; }\n"),
            "syntax": (plain, "long f(long x) { return x + ; }\n"),
            "throws": (plain, "long f(long x) { if (x > 1) throw std::out_of_range(\"no\"); return 2; }\n"),
            "macro_assert": (plain, "#define assert(x) ((void)0)\n#define candidate(x) 3\n"
                                    "long f(long x) { return 0; }\n"),
            "static_exit": (plain, "static int gone = (std::exit(0), 0);\nlong f(long x) { return x + 1; }\n"),
            "exit_in_call": (plain, "long f(long x) { std::atexit([] { _exit(0); }); std::exit(0); }\n"),
            "forged_frames": (plain, FORGE + "long f(long x) { return 0; }\n"),
            # the runtime's own functions by their names: local to the harness's object, so these
            # neither replace them (a wrong answer stays wrong) nor clash with them at link time
            "runtime_names": (plain, RUNTIME_NAMES + "long f(long x) { return 0; }\n"),
            "runtime_names_correct": (plain, RUNTIME_NAMES + "long f(long x) { return x + 1; }\n"),
            "include_dev_zero": (plain, "#include \"/dev/zero\"\nlong f(long x) { return x + 1; }\n"),
            "include_shadow": (plain, "#include \"/etc/shadow\"\nlong f(long x) { return x + 1; }\n"),
            "memory_bomb": (plain, "long f(long x) { std::vector<char*> hog;\n"
                                   "  for (int i = 0; i < 16; i++) hog.push_back(new char[256u << 20]);\n"
                                   "  return x + 1; }\n"),
            "fork_bomb": (plain, "#include <unistd.h>\nlong f(long x) { for (int i = 0; i < 50; i++) {\n"
                                 "  pid_t p = fork(); if (p < 0) break; if (p == 0) { setsid(); sleep(20); _exit(0); } }\n"
                                 "  return 0; }\n"),
            "network": (plain, "#include <sys/socket.h>\n#include <netinet/in.h>\n#include <arpa/inet.h>\n"
                               "long f(long x) { int s = socket(AF_INET, SOCK_STREAM, 0); sockaddr_in a{};\n"
                               "  a.sin_family = AF_INET; a.sin_port = htons(53); inet_pton(AF_INET, \"1.1.1.1\", &a.sin_addr);\n"
                               "  if (connect(s, (sockaddr*)&a, sizeof a) == 0) std::puts(\"CONNECTED\");\n  return 0; }\n"),
            "write_outside": (plain, f"long f(long x) {{ std::ofstream(\"{cls.outside}\") << \"hi\"; return 0; }}\n"),
            "hidden_search": (task(hidden=(f"assert(candidate((2)) == (std::string(\"{SECRET}\").size()));",)),
                              "long f(long x) { int found = 0; std::string key = std::string(\"zq-secret-\") + \"7731\";\n"
                              "  for (auto& e : std::filesystem::recursive_directory_iterator(\"/tmp\",\n"
                              "       std::filesystem::directory_options::skip_permission_denied)) {\n"
                              "    std::ifstream in(e.path(), std::ios::binary); std::stringstream s; s << in.rdbuf();\n"
                              "    if (s.str().find(key) != std::string::npos) { std::cout << e.path() << '\\n'; found++; } }\n"
                              "  std::cout << \"FOUND \" << found << std::endl; return x + 1; }\n"),
        }

    def test_wrong_syntax_throws(self):
        self.assertEqual(self.assert_fails("wrong", "failed").error_category, "wrong_answer")
        syntax = self.assert_fails("syntax", "compile_error")
        self.assertIn("candidate.cpp:1", syntax.message)
        self.assertEqual(syntax.error_category, "syntax")
        throws = self.assert_fails("throws", "failed")
        self.assertEqual([t.error_type for t in throws.tests], [None, "std::out_of_range", "std::out_of_range"])

    def test_macros_exits_and_forged_frames_cannot_pass(self):
        self.assert_fails("macro_assert", "failed")
        self.assert_fails("static_exit", "runtime_error")
        self.assert_fails("exit_in_call", "runtime_error")
        self.assertEqual(self.assert_fails("forged_frames", "runtime_error").error_type, "MalformedAnswer")
        self.assert_fails("runtime_names", "failed")
        named = self.results["runtime_names_correct"]
        self.assertEqual((named.status, named.hidden), ("passed", {"passed": 2, "total": 2}), named.message)

    def test_compile_time_attacks_are_compile_errors(self):
        self.assert_fails("include_dev_zero", "compile_error")
        # 2**30 inclusions: the compiler's CPU limit or its memory limit ends it, whichever comes first
        # (line maps grow with every inclusion; which one wins depends on the load)
        endless = self.assert_fails("endless_compile", "compile_error")
        self.assertTrue(endless.error_type == "CompileTimeout" or "memory" in endless.message,
                        (endless.error_type, endless.message))
        shadow = self.assert_fails("include_shadow", "compile_error")
        self.assertIn("No such file", shadow.message)

    def test_resources_bounded_and_nothing_left(self):
        self.assert_fails("endless_loop", "timeout")
        self.assertEqual(self.assert_fails("memory_bomb", "memory_error").error_category, "resource")
        self.assert_fails("fork_bomb", "failed")
        self.assert_no_leftovers()


if __name__ == "__main__":
    unittest.main()
