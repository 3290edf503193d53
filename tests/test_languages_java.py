"""Java through the sandbox: candidate and harness classes apart, verdicts in the parent."""

import dataclasses
import os
import unittest
from unittest import mock

import support  # noqa: F401
from language_cases import SECRET, HostileMixin, descendants, is_compile_server, make_task
from codeself.execution import ExecutionConfig, Executor, runner
from codeself.execution.languages import java, program, toolchains
from codeself.execution.languages.asserts import split_assert

HEAD = "import java.util.*;\nimport org.javatuples.*;\nclass Problem {\n"
PROMPT = HEAD + "    // add one\n    public static long f(long x) {\n"
BOOL_PROMPT = HEAD + "    public static boolean g(long x) {\n"
UNSAFE = ("    static sun.misc.Unsafe unsafe() throws Exception {\n"
          "        java.lang.reflect.Field t = sun.misc.Unsafe.class.getDeclaredField(\"theUnsafe\");\n"
          "        t.setAccessible(true);\n        return (sun.misc.Unsafe) t.get(null);\n    }\n")


def task(hidden=("assert(f((2l)) == (3l));", "assert(f((5l)) == (6l));")):
    return make_task("java", PROMPT, "f", ("assert(f((1l)) == (2l));",), hidden)


def problem(members, imports=""):
    """A candidate: class Problem with `members` (the method f and anything else)."""
    return f"{imports}import java.util.*;\nclass Problem {{\n{members}}}\n"


def method(body):
    return problem(f"    public static long f(long x) {{\n        {body}\n    }}\n")


def nested_maps(depth):
    """Map.of(e, e) nested `depth` deep: javac's inference of it takes exponential time."""
    expression = "1"
    for _ in range(depth):
        expression = f"Map.of({expression}, {expression})"
    return expression


# The compile-time attacks: javac's parser recursing 20000 deep (javac reports the overflow as a
# compile error), and inference that never ends (it ends the warm server). Each is compiled once
# in this module, in WarmJavacTest's runs.
DEEP_NESTING = method("return " + "(" * 20000 + "x" + ")" * 20000 + ";")
ENDLESS_COMPILE = method(f"Object o = {nested_maps(11)}; return x + 1;")


FORGE = ("    static {\n        try {\n            java.io.FileDescriptor d = new java.io.FileDescriptor();\n"
         "            unsafe().putInt(d, unsafe().objectFieldOffset(java.io.FileDescriptor.class"
         ".getDeclaredField(\"fd\")), 4);\n            java.io.FileOutputStream out = new java.io.FileOutputStream(d);\n"
         "            for (String b : new String[] {\"{\\\"ok\\\":true}\", \"{\\\"values\\\":[2]}\"}) {\n"
         "                byte[] p = b.getBytes();\n                out.write(new byte[] {0, 0, 0, (byte) p.length});\n"
         "                out.write(p);\n            }\n        } catch (Exception e) { }\n    }\n")
# MultiPL-E's asserts are Java `assert`s in class Problem: switching them off fools it; not us
PATCH_ASSERTS = ("    static {\n        try {\n            java.lang.reflect.Field a = Problem.class.getDeclaredField"
                 "(\"$assertionsDisabled\");\n            unsafe().putBoolean(unsafe().staticFieldBase(a), "
                 "unsafe().staticFieldOffset(a), true);\n        } catch (Exception e) { }\n    }\n")


class JavaTest(HostileMixin, unittest.TestCase):
    LANGUAGE, SUFFIX = "java", "java"
    # a JVM that cannot start the thread reaping its child: OutOfMemoryError, a memory_error
    FORK_STATUSES = ("failed", "memory_error")
    REFERENCES = 2  # each costs two javac runs (~0.4 s of CPU each)
    # a JVM needs ~12 threads, javac as many (RLIMIT_NPROC, counted per sandbox: test_sandbox_uids.py);
    # 256 leaves room for both without depending on the default
    CONFIG = {"workers": 2, "timeout_s": 1.0, "max_processes": 256}

    @classmethod
    def hostile_cases(cls):
        plain = task()
        looping = dataclasses.replace(plain, metadata={"timeout_s": 0.25})
        search = ("        String key = String.join(\"-\", \"zq\", \"secret\", \"7731\"); long found = 0;\n"
                  "        try (java.util.stream.Stream<java.nio.file.Path> all = java.nio.file.Files.walk("
                  "java.nio.file.Path.of(\"/tmp\"))) {\n"
                  "            for (java.nio.file.Path p : (Iterable<java.nio.file.Path>) all::iterator) {\n"
                  "                try { if (new String(java.nio.file.Files.readAllBytes(p)).contains(key)) {\n"
                  "                    System.out.println(p); found++; } } catch (Exception e) { } }\n"
                  "        } catch (Exception e) { System.out.println(\"WALK \" + e); }\n"
                  "        System.out.println(\"FOUND \" + found); return x + 1;")
        return {
            # first of these, as it waits out a limit: its own, 0.25 s a test (task metadata timeout_s; the others keep the batch's 1 s):
            # an endless loop waits it out, and under load once more x the slowdown measured then
            "endless_loop": (looping, method("while (true) { }")),
            "correct_with_main": (plain, PROMPT + "        return x + 1;\n    }\n    public static void main(String[] a) "
                                         "{\n        System.exit(1);\n    }\n}\n"),
            "wrong": (plain, method("return x == 1 ? 2 : 0;")),
            "syntax": (plain, method("return x + ;")),
            # `1 == true` does not compile in Java; Python's 1 == True holds
            "wrong_type": (make_task("java", BOOL_PROMPT, "g", (), ("assert(g((1l)) == (true));",)),
                           problem("    public static long g(long x) { return 1; }\n")),
            # Optional.of(1l).equals(1l) is false in Java: the encoding keeps Optional apart
            "optional_vs_value": (make_task("java", HEAD + "    public static Object h(long x) {\n", "h", (),
                                            ("assert(h((1l)).equals(Optional.of(1l)));",), task_id="java/opt"),
                                  problem("    public static Object h(long x) { return x; }\n")),
            "wrong_signature": (plain, problem("    public static long f(String x) { return 2; }\n")),
            "throws": (plain, method("if (x > 1) { return new ArrayList<Long>().get(0); } return 2;")),
            "static_init_throws": (plain, problem("    static long zero = 0, boom = 1 / zero;\n"
                                                  "    public static long f(long x) { return x + 1; }\n")),
            "static_exit": (plain, problem("    static { System.exit(0); }\n    public static long f(long x) "
                                           "{ return x + 1; }\n")),
            # System.exit, a shutdown hook and Runtime.halt in one
            "shutdown_hook": (plain, method("Runtime.getRuntime().addShutdownHook(new Thread(() -> "
                                            "Runtime.getRuntime().halt(0)));\n        System.exit(0); return 0;")),
            "patch_asserts": (plain, problem(UNSAFE + PATCH_ASSERTS + "    public static long f(long x) "
                                             "{ assert x < 0; return 0; }\n")),
            "forged_frames": (plain, problem(UNSAFE + FORGE + "    public static long f(long x) { return 0; }\n")),
            # more than the heap at once: no time spent filling it (a loaded machine would time out)
            "memory_bomb": (plain, method("long[][] hog = new long[64][];\n"
                                          "        for (int i = 0; i < 64; i++) hog[i] = new long[1 << 28];\n"
                                          "        return x + hog.length;")),
            # few: RLIMIT_NPROC counts the sandbox user's threads in every sandbox at once
            "fork_bomb": (plain, method("for (int i = 0; i < 4; i++) { try { new ProcessBuilder(\"/bin/sleep\", "
                                        "\"20\").start(); } catch (Exception e) { break; } }\n        return 0;")),
            "network": (plain, method("try (java.net.Socket s = new java.net.Socket()) {\n"
                                      "            s.connect(new java.net.InetSocketAddress(\"1.1.1.1\", 53), 1000);\n"
                                      "            System.out.println(\"CONNECTED\");\n"
                                      "        } catch (Exception e) { }\n        return 0;")),
            "write_outside": (plain, method("try { java.nio.file.Files.writeString(java.nio.file.Path.of("
                                            f"\"{cls.outside}\"), \"hi\"); }} catch (Exception e) {{ }}\n"
                                            "        return 0;")),
            "hidden_search": (task(hidden=(f"assert(f((2l)) == (\"{SECRET}\".length()));",)), method(search)),
            # a task that needs javatuples, on a machine without it (patched below)
            "tuple_without_jar": (make_task("java", HEAD + "    public static Pair<Long, Long> h(long x) {\n", "h", (),
                                            ("assert(h((1l)).equals((Pair.with(1l, 2l))));",), task_id="java/h"),
                                  problem("    public static Pair<Long, Long> h(long x) { return null; }\n",
                                          "import org.javatuples.*;\n")),
        }

    @classmethod
    def setUpClass(cls):
        # javatuples "absent" for the one task that uses it (the others keep the jar)
        check = java._check_tuples
        pretend = lambda prompt, tests, jar: check(prompt, tests, "" if "Pair" in prompt else jar)  # noqa: E731
        with mock.patch.object(java, "_check_tuples", pretend):
            super().setUpClass()

    def test_wrong_syntax_signature_throws(self):
        self.assert_ordinary_failures("Problem.java:4: error", "CodeselfHarness", "throws",
                                      "IndexOutOfBoundsException")
        self.assert_fails("optional_vs_value", "failed")

    def test_exits_hooks_static_initialisers_and_patching_cannot_pass(self):
        # static initialisers run in the first call (the import answer comes before any of them)
        initialiser = self.assert_fails("static_init_throws", "failed")
        self.assertEqual([t.error_type for t in initialiser.tests],
                         ["ArithmeticException", "NoClassDefFoundError", "NoClassDefFoundError"])
        self.assert_fails("static_exit", "runtime_error")
        self.assert_fails("shutdown_hook", "runtime_error")
        self.assert_fails("patch_asserts", "failed")
        self.assertEqual(self.assert_fails("forged_frames", "runtime_error").error_type, "MalformedAnswer")

    def test_memory_bomb_is_memory_error(self):
        self.assertEqual(self.assert_fails("memory_bomb", "memory_error").error_category, "resource")

    def test_task_needing_javatuples_without_it_is_not_judged(self):
        result = self.results["tuple_without_jar"]
        self.assertEqual((result.status, result.error_type), ("sandbox_error", "ToolchainMissing"), result.message)
        self.assertIn("libjavatuples-java", result.message)


class WarmJavacTest(unittest.TestCase):
    """The worker's warm javac (languages/compile_server.py): used under namespaces, kept after a
    compile error (even javac's own stack overflow, which it reports as one), replaced after a
    compile that ran out of time, never used under rlimits. The deep nesting and the endless
    compile are the module's compile-time attacks too (each compiled once here). Every step
    compiles a source of its own: an identical one would reuse its build and start no server."""

    @classmethod
    def setUpClass(cls):
        if toolchains.missing("java"):
            raise unittest.SkipTest(toolchains.missing("java"))
        correct = method("return x + 1;")
        # another task: its tests program and its candidate compile on the same server
        other = task(hidden=("assert(f((7l)) == (8l));",))
        steps = {"first": (task(), correct), "other": (other, correct), "deep": (task(), DEEP_NESTING),
                 "after_deep": (task(), method("return 1 + x;")), "endless": (task(), ENDLESS_COMPILE),
                 "fixed": (task(), method("return (x + 1);"))}
        cls.results, cls.servers_after = {}, {}
        with mock.patch.dict(os.environ, {"CODESELF_EXPECTED_CACHE": "off"}), \
                Executor(ExecutionConfig(workers=1, timeout_s=2.0, max_processes=256)) as executor:
            cls.isolation = executor.isolation
            # the warm server compiles these in milliseconds; javac started per compile (rlimits)
            # needs ~0.5 s of CPU, so it keeps the hostile batches' 2 s
            limit = 1.0 if executor.isolation == "namespaces" else 2.0
            with mock.patch.object(program, "COMPILE_TIMEOUT_S", limit):
                for name, (job_task, source) in steps.items():  # in this order, one at a time
                    cls.results[name] = executor.run(job_task, source)
                    cls.servers_after[name] = cls.servers(executor)

    @staticmethod
    def servers(executor):
        return [pid for worker in executor.worker_pids() for pid in descendants(worker) if is_compile_server(pid)]

    def test_compile_time_attacks_are_compile_errors(self):
        deep, endless = self.results["deep"], self.results["endless"]
        self.assertEqual((deep.passed, deep.status), (False, "compile_error"), deep.message)
        self.assertEqual((endless.passed, endless.status, endless.error_type),
                         (False, "compile_error", "CompileTimeout"), endless.message)

    def test_one_server_for_all_compiles_until_an_endless_compile_ends_it(self):
        if self.isolation != "namespaces":
            self.skipTest(f"the warm compiler runs under namespaces isolation only (here {self.isolation})")
        statuses = {name: (result.status, result.message) for name, result in self.results.items()}
        for name in ("first", "other", "after_deep", "fixed"):
            self.assertEqual(statuses[name][0], "passed", (name, statuses[name][1]))
        first = self.servers_after["first"]
        self.assertEqual(len(first), 1)
        for name in ("other", "deep", "after_deep"):  # the same server compiled each
            self.assertEqual(self.servers_after[name], first, name)
        self.assertEqual(statuses["deep"][0], "compile_error", statuses["deep"][1])
        self.assertEqual(self.servers_after["endless"], [])  # killed at the limit
        endless = self.results["endless"]
        self.assertEqual((endless.status, endless.error_type), ("compile_error", "CompileTimeout"))
        self.assertGreaterEqual(endless.cpu_time_s, 0.9)  # the server's CPU is the sample's
        successor = self.servers_after["fixed"]  # started for the next compile
        self.assertEqual(len(successor), 1)
        self.assertNotEqual(successor, first)

    def test_rlimits_isolation_compiles_in_the_child(self):
        with Executor(ExecutionConfig(workers=1, sandbox="rlimits", max_processes=256)) as executor:
            broken = executor.run(task(), method("return y;"))
            self.assertEqual(broken.status, "compile_error")
            self.assertIn("cannot find symbol", broken.message)
            self.assertEqual(self.servers(executor), [])


class JavaHarnessTest(unittest.TestCase):
    def test_a_jvm_that_does_not_start_is_a_sandbox_error(self):
        if toolchains.missing("java"):
            self.skipTest(toolchains.missing("java"))
        reply = {"outcome": "done", "answers": [], "exit_code": 1, "isolation": "namespaces",
                 "stderr": "Error occurred during initialization of VM\nCannot create VM thread."}
        tests = program.task_tests(task())
        result = program.build_result(task(), tests, program.Expected(), reply, runner.timeouts_for(
            task(), ExecutionConfig()))
        self.assertEqual((result.status, result.error_type), ("sandbox_error", "SandboxError"))
        self.assertIn("Cannot create VM thread", result.message)
        # javac that cannot start its threads (RLIMIT_NPROC far too low): not a compile error
        with Executor(ExecutionConfig(workers=1, max_processes=3)) as executor:
            result = executor.run(task(), method("return x + 1;"))
        self.assertEqual(result.status, "sandbox_error", result.message)

    def test_tuple_classes_found_outside_comments_only(self):
        prompt = HEAD + "    // Return a Pair of numbers\n    public static long f(long x) {\n"
        plain = [split_assert("java", "assert(f((1l)) == (2l));", "f")]
        tupled = [split_assert("java", "assert(f((1l)).equals((Pair.with(1l, 2l))));", "f")]
        java._check_tuples(prompt, plain, "")
        java._check_tuples(prompt, tupled, "/usr/share/java/javatuples.jar")
        with self.assertRaisesRegex(toolchains.Unavailable, "libjavatuples-java"):
            java._check_tuples(prompt, tupled, "")

    def test_candidate_program_holds_no_expected_value(self):
        if toolchains.missing("java"):
            self.skipTest(toolchains.missing("java"))
        tests = [split_assert("java", f"assert(f((1l)) == (\"{SECRET}\".length()));", "f")]
        candidate = java.candidate_program("f", method("return 0;"), tests, PROMPT, {})
        self.assertNotIn(SECRET.encode(), b"".join(candidate.files.values()))
        self.assertNotIn(SECRET, " ".join(candidate.run + tuple(candidate.compile[0]["argv"])))
        self.assertIn(SECRET.encode(), java.expected_program("f", tests, PROMPT).files["CodeselfHarness.java"])

if __name__ == "__main__":
    unittest.main()
