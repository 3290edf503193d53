"""Rust through the sandbox: runtime crate apart, verdicts in the parent, hostile programs fail."""

import unittest

import support  # noqa: F401
from language_cases import SECRET, HostileMixin, make_task
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

    @classmethod
    def hostile_cases(cls):
        plain = task()
        return {
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
            "endless_compile": (plain, "const X: u64 = { let mut i = 0u64; loop { i = i.wrapping_add(1); } };\n"
                                       "fn f(x: isize) -> isize { x + X as isize }\n"),
            "endless_loop": (plain, "fn f(x: isize) -> isize { let mut i = 0u64; loop { i = std::hint::black_box(i + 1); } }\n"),
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
        self.assertEqual(self.assert_fails("wrong", "failed").error_category, "wrong_answer")
        self.assert_fails("wrong_type", "failed")
        syntax = self.assert_fails("syntax", "compile_error")
        self.assertIn("candidate.rs:1", syntax.message)
        signature = self.assert_fails("wrong_signature", "compile_error")
        # the harness's errors quote test inputs: counted, never shown
        self.assertIn("error(s) in the test harness, not shown", signature.message)
        self.assertNotIn("harness.rs", signature.message)
        panics = self.assert_fails("panics", "failed")
        self.assertEqual([t.error_type for t in panics.tests], [None, "IndexOutOfBounds", "IndexOutOfBounds"])
        self.assertEqual(panics.error_category, "index_key")

    def test_macros_exits_and_forged_frames_cannot_pass(self):
        self.assert_fails("macro_assert", "failed")
        self.assert_fails("static_exit", "runtime_error")
        self.assert_fails("panic_hook_exit", "runtime_error")
        self.assertEqual(self.assert_fails("forged_frames", "runtime_error").error_type, "MalformedAnswer")

    def test_compile_time_attacks_are_compile_errors(self):
        self.assert_fails("include_dev_zero", "compile_error")
        self.assert_fails("include_shadow", "compile_error")
        self.assertEqual(self.assert_fails("endless_compile", "compile_error").error_type, "CompileTimeout")


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
