"""Rust adapter: the runtime is a crate of its own; the test calls live in a child module.

The runtime (runtime/codeself_rt.rs: protocol and encoder) is compiled by trusted code once per
machine into an rlib in the cache directory, which the sandbox shows read-only; the candidate's
macros and items cannot reach it (it is another crate, used by absolute paths only). Per sample
one rustc run compiles main.rs, which declares `mod candidate;` (the candidate's file as
written: its `fn main` is only a function there), and candidate.rs gains one line declaring the
child module `codeself_harness` (harness.rs), which may call the candidate's private entry
point: one closure per test, `candidate(ARGS)`, encoded by the runtime. MultiPL-E compiles with
plain `rustc` (debug: overflow checks on); so do we. Diagnostics are kept only for the
candidate's own file (rustc's JSON output, filtered in the sandbox): the harness's hold the
tests' inputs. Expected values: the prompt with a stub body, every original assert_eq!
type-checked in a function never called, and one closure per test encoding
`if false { candidate(ARGS) } else { EXPECTED }`, which gives EXPECTED the type the candidate
returns (an empty `vec![]` needs it), without calling the stub.
"""

from __future__ import annotations

import glob
import os
import subprocess
import tempfile
import threading

from codeself.execution.languages.asserts import SplitAssert
from codeself.execution.languages.program import BASE_ENV, NativeProgram
from codeself.execution.languages.toolchains import cache_dir, fast_link, fingerprint, runtime_source, toolchain

EDITION = "2021"
# prefer-dynamic: std is linked as the toolchain's shared library (a 20 KB binary, not 4 MB, and a
# faster link); the program finds it through LD_LIBRARY_PATH (_env)
FLAGS = ("--edition", EDITION, "-C", "codegen-units=1", "-C", "debuginfo=0", "-C", "prefer-dynamic")
QUIET_LINTS = ("-A", "warnings")
BUILD_TIMEOUT_S = 600.0
_lock = threading.Lock()

MAIN = ("#[allow(unused_imports, dead_code, unused_variables, unused_mut, non_snake_case)]\n"
        "mod candidate;\nfn main() {\n    candidate::codeself_harness::run();\n}\n")


def _rustc() -> str:
    return toolchain("rust").tools["rustc"]


def runtime_library() -> str:
    """Path of the runtime rlib (libcodeself_rt.rlib), built once per machine."""
    source = runtime_source("codeself_rt.rs")
    key = fingerprint(toolchain("rust").version, *FLAGS, source.decode())
    directory = os.path.join(cache_dir(), f"rust-{key}")
    library = os.path.join(directory, "libcodeself_rt.rlib")
    with _lock:
        if not os.path.exists(library):
            os.makedirs(directory, mode=0o755, exist_ok=True)
            os.chmod(directory, 0o755)
            with tempfile.TemporaryDirectory(dir=directory) as scratch:
                with open(os.path.join(scratch, "codeself_rt.rs"), "wb") as handle:
                    handle.write(source)
                done = subprocess.run([_rustc(), *FLAGS, "--crate-type", "rlib", "--crate-name", "codeself_rt",
                                       "codeself_rt.rs", "-o", "libcodeself_rt.rlib"], cwd=scratch,
                                      capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
                if done.returncode != 0:
                    raise ValueError(f"building the Rust harness runtime failed: {done.stderr.strip()[-300:]}")
                os.chmod(os.path.join(scratch, "libcodeself_rt.rlib"), 0o644)
                os.replace(os.path.join(scratch, "libcodeself_rt.rlib"), library)
    return library


def _env() -> dict[str, str]:
    """rustc finds its own libraries through $ORIGIN, which the view cannot resolve (no /proc);
    programs find std's shared library in the target's library directory."""
    sysroot = os.path.dirname(os.path.dirname(_rustc()))
    targets = sorted(glob.glob(os.path.join(sysroot, "lib", "rustlib", "*", "lib", "libstd-*.so")))
    dirs = [os.path.join(sysroot, "lib"), *dict.fromkeys(os.path.dirname(path) for path in targets)]
    return {**BASE_ENV, "LD_LIBRARY_PATH": ":".join(dirs)}


def _compile(what: str, quiet: bool) -> dict:
    # the linker by its real path: `cc` is an /etc/alternatives link, and the view has no /etc
    argv = [_rustc(), *FLAGS, *QUIET_LINTS, "-C", f"linker={toolchain('rust').tools['cc']}",
            *(part for flag in fast_link() for part in ("-C", f"link-arg={flag}")),
            "--crate-type", "bin", "--crate-name", "program",
            "--extern", f"codeself_rt={runtime_library()}", "--error-format=json", "main.rs", "-o", "program"]
    command = {"argv": argv, "what": what, "filter": "rustc-json:candidate.rs"}
    if quiet:
        command["quiet"] = True
    return command


def _closures(bodies: list[str]) -> str:
    return "".join(f"        ::std::boxed::Box::new(move || ::codeself_rt::encode(&({body}))),\n" for body in bodies)


# the lints a harness module (and a batch's task module) leaves unsaid: generated code trips them
ALLOWED = "allow(unused_imports, dead_code, unused_variables, unused_mut, unused_parens, non_snake_case)"


def _typecheck(entry_point: str, checks: str) -> str:
    return f"fn codeself_typecheck() {{\n    let candidate = {entry_point};\n{checks}}}\n"


def _harness(entry_point: str, bodies: list[str], checks: str = "") -> str:
    return (f"#![{ALLOWED}]\nuse super::*;\n{_typecheck(entry_point, checks)}"
            f"pub fn run() {{\n    let candidate = {entry_point};\n"
            f"    ::codeself_rt::serve(::std::vec![\n{_closures(bodies)}    ]);\n}}\n")


def _with_harness(source: str) -> bytes:
    # the child module may use the candidate's private items; #[path] keeps it a file of its own
    text = source + "\n#[path = \"harness.rs\"]\npub(crate) mod codeself_harness;\n"
    return text.encode("utf-8", errors="surrogatepass")


def prepare(entry_point: str, tests: list[SplitAssert], prompt: str) -> dict[str, bytes]:
    runtime_library()
    return {}


def candidate_program(entry_point: str, program: str, tests: list[SplitAssert], prompt: str,
                      artifacts: dict[str, bytes]) -> NativeProgram:
    bodies = [f"candidate({test.args})" for test in tests]
    files = {"main.rs": MAIN.encode(), "candidate.rs": _with_harness(program),
             "harness.rs": _harness(entry_point, bodies).encode()}
    return NativeProgram(files=files, compile=(_compile("compiling the candidate", False),), run=("./program",),
                         env=_env(), outputs=("program",))


def _stub(prompt: str) -> str:
    stub = prompt.rstrip()
    if not stub.endswith("{"):
        raise ValueError("the Rust prompt does not end with the entry point's opening brace")
    return stub + "\n    unimplemented!()\n}\n"


def _expected_parts(entry_point: str, tests: list[SplitAssert]) -> tuple[list[str], str]:
    checks = "".join(f"    assert_eq!(candidate({t.args}), {t.expected});\n" for t in tests)
    return [f"if false {{ candidate({t.args}) }} else {{ {t.expected} }}" for t in tests], checks


def expected_program(entry_point: str, tests: list[SplitAssert], prompt: str) -> NativeProgram:
    bodies, checks = _expected_parts(entry_point, tests)
    files = {"main.rs": MAIN.encode(), "candidate.rs": _with_harness(_stub(prompt)),
             "harness.rs": _harness(entry_point, bodies, checks).encode()}
    return NativeProgram(files=files, compile=(_compile("compiling the task's tests", True),), run=("./program",),
                         env=_env())


def expected_batch(parts: list[tuple[str, list[SplitAssert], str]]) -> NativeProgram:
    """The tests programs of several tasks (entry point, tests, prompt) as one: expected_batch.py.
    Each task's prompt and calls are a module of their own; `main` serves them all in order."""
    modules = []
    for index, (entry_point, tests, prompt) in enumerate(parts):
        bodies, checks = _expected_parts(entry_point, tests)
        modules.append(
            f"#[{ALLOWED}]\nmod codeself_t{index} {{\n{_stub(prompt)}{_typecheck(entry_point, checks)}"
            f"pub fn calls() -> ::std::vec::Vec<::std::boxed::Box<dyn Fn() -> ::std::string::String>> {{\n"
            f"    let candidate = {entry_point};\n    ::std::vec![\n{_closures(bodies)}    ]\n}}\n}}\n")
    calls = "".join(f"    all.extend(codeself_t{index}::calls());\n" for index in range(len(parts)))
    source = "".join(modules) + f"fn main() {{\n    let mut all = ::std::vec::Vec::new();\n{calls}    ::codeself_rt::serve(all);\n}}\n"
    return NativeProgram(files={"main.rs": source.encode()}, compile=(_compile("compiling a batch of tasks' tests", True),),
                         run=("./program",), env=_env())
