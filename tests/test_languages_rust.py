"""Rust through the sandbox: runtime crate apart, verdicts in the parent, hostile programs fail."""

import dataclasses
import json
import os
import shutil
import tempfile
import unittest

import support  # noqa: F401
from language_cases import SECRET, HostileMixin, make_task
from codeself.execution.languages import native
from codeself.execution.languages.equality import values_equal

PROMPT = "/// add one\nfn f(x: isize) -> isize {\n"
BOOL_PROMPT = "fn g(x: isize) -> bool {\n"


def task(hidden=("assert_eq!(candidate(2), 3);", "assert_eq!(candidate(5), 6);")):
    return make_task("rust", PROMPT, "f", ("assert_eq!(candidate(1), 2);",), hidden)


def init_array(body):
    """A function the loader runs before main (a static initialiser)."""
    return ('#[used]\n#[link_section = ".init_array"]\nstatic INIT: extern "C" fn() = {\n'
            f'    extern "C" fn init() {{ {body} }}\n    init\n}};\n')


FORGE = ("use std::io::Write;\nuse std::os::unix::io::FromRawFd;\n"
         + init_array('let mut out = unsafe { std::fs::File::from_raw_fd(4) }; '
                      'for b in ["{\\"ok\\":true}", "{\\"values\\":[2]}"] { '
                      'out.write_all(&(b.len() as u32).to_be_bytes()).ok(); out.write_all(b.as_bytes()).ok(); } '
                      'std::mem::forget(out);'))


class RustTest(HostileMixin, unittest.TestCase):
    LANGUAGE, SUFFIX = "rust", "rs"
    # each costs two rustc runs; every reference of a converted file is checked by
    # scripts/check_references.py, so two show the real-data path here
    REFERENCES = 2
    # the endless compile ends at 1 s of CPU: each rustc run here takes ~0.1 s (the runtime crate
    # is built once, outside the sandbox)
    COMPILE_TIMEOUT_S = 1.0

    @classmethod
    def hostile_cases(cls):
        plain = task()
        looping = dataclasses.replace(plain, metadata={"timeout_s": 0.25})
        return {
            # first, so that they start first: the jobs that wait out a limit
            # rustc's own lint stops an endless const evaluation after ~1 s; allowed, it never ends
            "endless_compile": (plain, "#[allow(long_running_const_eval)]\nconst X: u64 = { let mut i = 0u64; loop { i = i.wrapping_add(1); } };\n"
                                       "fn f(x: isize) -> isize { x + X as isize }\n"),
            # the loop's own limit, 0.25 s a test (task metadata timeout_s; the others keep the batch's 1 s):
            # an endless loop waits it out, and under load once more x the slowdown measured then
            "endless_loop": (looping, "fn f(x: isize) -> isize { let mut i = 0u64; loop { i = std::hint::black_box(i + 1); } }\n"),
            "correct_with_main": (plain, PROMPT + "    x + 1\n}\n\nfn main() {\n    std::process::exit(1);\n}\n"),
            "wrong": (plain, "fn f(x: isize) -> isize { if x == 1 { 2 } else { 0 } }\n"),
            "syntax": (plain, "fn f(x: isize) -> isize { x + }\n"),
            # 1 == true in Python, not in Rust (assert_eq! of isize and bool does not compile)
            "wrong_type": (make_task("rust", BOOL_PROMPT, "g", (), ("assert_eq!(candidate(1), true);",)),
                           "fn g(x: isize) -> isize { 1 }\n"),
            "wrong_signature": (plain, "fn f(x: Vec<isize>) -> isize { x.len() as isize }\n"),
            "panics": (plain, "fn f(x: isize) -> isize { let v: Vec<isize> = vec![2]; v[x as usize - 1] }\n"),
            "macro_assert": (plain, "macro_rules! assert_eq { ($a:expr, $b:expr) => {} }\n"
                                    "macro_rules! vec { ($($a:tt)*) => { Vec::new() } }\n"
                                    "fn f(x: isize) -> isize { 0 }\n"),
            "static_exit": (plain, init_array("std::process::exit(0);") + "fn f(x: isize) -> isize { x + 1 }\n"),
            "panic_hook_exit": (plain, "fn f(x: isize) -> isize {\n    std::panic::set_hook(Box::new(|_| "
                                       "std::process::exit(0)));\n    panic!(\"no\")\n}\n"),
            "forged_frames": (plain, FORGE + "fn f(x: isize) -> isize { 0 }\n"),
            "include_dev_zero": (plain, "static Z: &[u8] = include_bytes!(\"/dev/zero\");\n"
                                        "fn f(x: isize) -> isize { x + Z.len() as isize }\n"),
            "include_shadow": (plain, "static S: &str = include_str!(\"/etc/shadow\");\n"
                                      "fn f(x: isize) -> isize { x + S.len() as isize }\n"),
            "memory_bomb": (plain, "fn f(x: isize) -> isize { let mut hog = Vec::new();\n"
                                   "    for _ in 0..16 { hog.push(vec![1u8; 256 << 20]); }\n    x + hog.len() as isize }\n"),
            # 20, not 50: RLIMIT_NPROC counts the sandbox user's processes in every sandbox at once,
            # and a compiler running beside this program needs threads (docs/languages.md)
            "fork_bomb": (plain, "fn f(x: isize) -> isize { for _ in 0..20 {\n"
                                 "    if std::process::Command::new(\"/bin/sleep\").arg(\"20\").spawn().is_err() { break; } }\n"
                                 "    0 }\n"),
            "network": (plain, "fn f(x: isize) -> isize { if std::net::TcpStream::connect(\"1.1.1.1:53\").is_ok() {\n"
                               "    println!(\"CONNECTED\"); } 0 }\n"),
            "write_outside": (plain, f"fn f(x: isize) -> isize {{ let _ = std::fs::write(\"{cls.outside}\", \"hi\"); 0 }}\n"),
            "hidden_search": (task(hidden=(f"assert_eq!(candidate(2), \"{SECRET}\".len() as isize);",)),
                              "fn walk(dir: &std::path::Path, key: &str, found: &mut usize) {\n"
                              "    if let Ok(entries) = std::fs::read_dir(dir) { for e in entries.flatten() {\n"
                              "        let p = e.path(); if p.is_dir() { walk(&p, key, found); }\n"
                              "        else if let Ok(data) = std::fs::read(&p) {\n"
                              "            if String::from_utf8_lossy(&data).contains(key) { println!(\"{:?}\", p); *found += 1; } } } } }\n"
                              # built at run time: rustc folds format!("zq-secret-{}", 7731) into the
                              # literal, and the program's own binary would then hold the key
                              "fn f(x: isize) -> isize { let key = [\"zq\", \"secret\", \"7731\"].join(\"-\");\n"
                              "    let mut found = 0;\n"
                              "    walk(std::path::Path::new(\"/tmp\"), &key, &mut found);\n"
                              "    if std::env::args().any(|a| a.contains(&key)) { found += 1; }\n"
                              "    println!(\"FOUND {}\", found); x + 1 }\n"),
        }

    def test_wrong_syntax_signature_panics(self):
        self.assert_ordinary_failures("candidate.rs:1", "harness.rs", "panics", "IndexOutOfBounds")

    def test_macros_exits_and_forged_frames_cannot_pass(self):
        self.assert_fails("macro_assert", "failed")
        self.assert_fails("static_exit", "runtime_error")
        self.assert_fails("panic_hook_exit", "runtime_error")
        self.assertEqual(self.assert_fails("forged_frames", "runtime_error").error_type, "MalformedAnswer")

    def test_compile_time_attacks_are_compile_errors(self):
        self.assert_fails("include_dev_zero", "compile_error")
        self.assert_fails("include_shadow", "compile_error")
        self.assertEqual(self.assert_fails("endless_compile", "compile_error").error_type, "CompileTimeout")


class CompilerLogTest(unittest.TestCase):
    """The sandbox's reading of compiler logs (native.py), on hand-written logs."""

    def setUp(self):
        self.cwd = os.getcwd()
        self.tmp = tempfile.mkdtemp()
        os.chdir(self.tmp)

    def tearDown(self):
        os.chdir(self.cwd)
        shutil.rmtree(self.tmp)

    def log(self, *lines):
        with open(native.LOG, "w") as handle:
            handle.write("".join((json.dumps(line) if isinstance(line, dict) else line) + "\n" for line in lines))

    def test_rustc_errors_shown_only_for_the_candidates_file(self):
        def error(text, file, expanded_from=None, child_file=None):
            span = {"file_name": file, "is_primary": True}
            if expanded_from:
                span["expansion"] = {"span": {"file_name": expanded_from}}
            children = [{"spans": [{"file_name": child_file}]}] if child_file else []
            return {"level": "error", "message": text, "rendered": text, "spans": [span], "children": children}
        self.log(error("in the candidate", "candidate.rs"),
                 error("through assert_eq!", "/rustc/abc/library/core/src/macros/mod.rs", "candidate.rs"),
                 error("quotes a test", "harness.rs"), error("macro in the harness", "/rustc/x.rs", "harness.rs"),
                 error("note in the harness", "candidate.rs", child_file="harness.rs"),
                 {"level": "warning", "message": "w", "spans": []})
        text, starved = native._rustc_diagnostics("candidate.rs")
        self.assertEqual(text.splitlines(), ["in the candidate", "through assert_eq!",
                                             native.HARNESS_HIDDEN.format(3)])
        self.assertFalse(starved)

    def test_javac_errors_shown_only_for_the_candidates_file(self):
        self.log("Problem.java:3: error: ';' expected", "        return x", "                ^",
                 "CodeselfHarness.java:5: error: incompatible types: String cannot be converted to long",
                 '            () -> Problem.f("secret input"),', "Note: Some input files use unchecked operations.",
                 "2 errors")
        self.assertEqual(native._log_lines(native.javac_diagnostics, "Problem.java").splitlines(),
                         ["Problem.java:3: error: ';' expected", "        return x", "                ^",
                          native.HARNESS_HIDDEN.format(1)])
        self.log("[0.04s][warning][os,thread] Failed to start thread \"VM Thread\" - pthread_create failed (EAGAIN)",
                 "Error occurred during initialization of VM")
        self.assertTrue(native._jvm_did_not_start())
        self.log("Problem.java:1: error: Error occurred during initialization of VM")
        self.assertFalse(native._jvm_did_not_start())

    def test_a_compiler_without_threads_is_the_machines_failure(self):
        self.log("thread 'rustc' panicked at compiler/rustc_codegen_ssa/src/back/write.rs:1929:6:",
                 "failed to spawn work thread: Os { code: 11, kind: WouldBlock }")
        self.assertTrue(native._rustc_diagnostics("candidate.rs")[1])
        # the candidate's own text cannot say it: compile_error! is a JSON diagnostic
        self.log({"level": "error", "message": "failed to spawn work thread", "rendered": "failed to spawn",
                  "spans": [{"file_name": "candidate.rs", "is_primary": True}]})
        self.assertFalse(native._rustc_diagnostics("candidate.rs")[1])
        self.log("g++: fatal error: cannot execute 'cc1plus': vfork: Resource temporarily unavailable")
        self.assertTrue(native._driver_says("/usr/bin/g++"))
        self.log("candidate.cpp:1:2: error: #error g++: Resource temporarily unavailable")
        self.assertFalse(native._driver_says("/usr/bin/g++"))
        self.log("g++: internal compiler error: CPU time limit exceeded signal terminated program cc1plus")
        self.assertTrue(native._driver_says("/usr/bin/g++", ("CPU time limit exceeded",)))


class TypedEqualityTest(unittest.TestCase):
    def test_kinds_differ_as_in_rust_and_java(self):
        cases = [("rust_eq", 1, True, False), ("rust_eq", 1, 1.0, False), ("rust_eq", [1, 2], [1, 2], True),
                 ("rust_eq", {1: "a"}, {True: "a"}, False), ("rust_eq", {(1, 2)}, {(1, 2)}, True),
                 ("rust_eq", float("nan"), float("nan"), False), ("rust_eq", [1], (1,), False),
                 ("java_equals", float("nan"), float("nan"), True), ("java_equals", -0.0, 0.0, False),
                 ("java_eq", 3, 3.0, True), ("java_eq", 1, True, False), ("java_eq", -0.0, 0.0, True),
                 ("java_equals", None, None, True), ("java_equals", {"a": [1.5]}, {"a": [1.5]}, True)]
        for rule, actual, expected, equal in cases:
            self.assertEqual(values_equal(rule, actual, expected), equal, (rule, actual, expected))


if __name__ == "__main__":
    unittest.main()
