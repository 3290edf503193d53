"""C++ adapter: the candidate and the harness are separate translation units, linked per sample.

candidate.cpp is the candidate's program as written (a `main` of its own is renamed by a
`#define` placed before it, in its own unit only). main.cpp is the task's harness: the prompt's
code with the entry point's definition turned into a declaration, runtime/codeself_rt.hpp
(internal linkage throughout), and one closure per test calling `candidate(ARGS)`. It depends
on the task alone, so trusted code compiles it once per task (`prepare`, in the parent, cached
on disk by content) and every sample only compiles its own unit and links. Both units are
compiled with `-std=c++17` (MultiPL-E's flags) and GCC's precompiled <bits/stdc++.h>, forced in
with `-include` (the prompts' own includes would otherwise stop GCC from using it); the
precompiled header is built once per machine into the cache directory, which the sandbox shows
read-only. Expected values: a program of the prompt with a stub body, every original assert
type-checked in a function never called (a test that does not compile there does not compile
in MultiPL-E either: the task is broken), and one closure per test encoding `(EXPECTED)`.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading

from codeself.execution.languages.asserts import SplitAssert
from codeself.execution.languages.program import NativeProgram
from codeself.execution.languages.toolchains import cache_dir, fingerprint, runtime_source, toolchain

FLAGS = ("-std=c++17",)
BUILD_TIMEOUT_S = 600.0  # the precompiled header takes about 4 s of CPU; generous under load
_lock = threading.Lock()


def _gxx() -> str:
    return toolchain("cpp").tools["g++"]


def _cache(kind: str) -> str:
    found = toolchain("cpp")
    # the harness objects also depend on the runtime; the precompiled header does not
    runtime = runtime_source("codeself_rt.hpp").decode() if kind == "harness" else ""
    key = fingerprint(found.version, *FLAGS, runtime)
    path = os.path.join(cache_dir(), f"cpp-{key}", kind)
    os.makedirs(path, mode=0o755, exist_ok=True)
    for directory in (os.path.dirname(path), path):
        os.chmod(directory, 0o755)
    return path


def _build(argv: list[str], cwd: str, what: str) -> None:
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ValueError(f"{what} took more than {BUILD_TIMEOUT_S:g} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ValueError(f"{what} failed: {last[:200]}")


def precompiled_header() -> str:
    """Path of the header to `-include` (its .gch beside it), built once per machine."""
    directory = _cache("pch")
    header = os.path.join(directory, "codeself_stdc++.h")
    with _lock:
        if not os.path.exists(header + ".gch"):
            with tempfile.TemporaryDirectory(dir=directory) as scratch:
                source = os.path.join(scratch, "codeself_stdc++.h")
                with open(source, "w") as handle:
                    handle.write("#include <bits/stdc++.h>\n")
                _build([_gxx(), *FLAGS, "-x", "c++-header", source, "-o", source + ".gch"], scratch,
                       "building C++'s precompiled header")
                os.chmod(source + ".gch", 0o644)
                os.chmod(source, 0o644)
                os.replace(source + ".gch", header + ".gch")
                os.replace(source, header)
    return header


def _split_prompt(prompt: str) -> str:
    code = prompt.rstrip()
    if not code.endswith("{"):
        raise ValueError("the C++ prompt does not end with the entry point's opening brace")
    return code[:-1].rstrip()


def _harness(prompt: str, entry_point: str, tests: list[SplitAssert]) -> str:
    calls = "".join(f"      [&]() {{ return codeself_rt::encode(candidate({t.args})); }},\n" for t in tests)
    return (f"{_split_prompt(prompt)};\n#include \"codeself_rt.hpp\"\n"
            f"int main(int argc, char** argv) {{\n  auto candidate = {entry_point};\n"
            f"  return codeself_rt::serve(argc, argv, {{\n{calls}  }});\n}}\n")


def _expected(prompt: str, entry_point: str, tests: list[SplitAssert]) -> str:
    checks = "".join(f"  assert(candidate({t.args}) == {t.expected});\n" for t in tests)
    values = "".join(f"      [&]() {{ return codeself_rt::encode({t.expected}); }},\n" for t in tests)
    return (f"{_split_prompt(prompt)} {{ std::abort(); }}\n#include \"codeself_rt.hpp\"\n"
            f"[[maybe_unused]] static void codeself_typecheck() {{\n  auto candidate = {entry_point};\n{checks}}}\n"
            f"int main(int argc, char** argv) {{\n  return codeself_rt::serve(argc, argv, {{\n{values}  }});\n}}\n")


def _compile_argv(source: str, output: str) -> list[str]:
    return [_gxx(), *FLAGS, "-include", precompiled_header(), "-Winvalid-pch", "-c", source, "-o", output]


def prepare(entry_point: str, tests: list[SplitAssert], prompt: str) -> dict[str, bytes]:
    """The task's harness object (main.o), compiled by trusted code once and kept on disk."""
    source = _harness(prompt, entry_point, tests)
    directory = _cache("harness")
    path = os.path.join(directory, fingerprint(source) + ".o")
    if not os.path.exists(path):
        with tempfile.TemporaryDirectory(dir=directory) as scratch:
            with open(os.path.join(scratch, "main.cpp"), "w", encoding="utf-8") as handle:
                handle.write(source)
            with open(os.path.join(scratch, "codeself_rt.hpp"), "wb") as handle:
                handle.write(runtime_source("codeself_rt.hpp"))
            _build(_compile_argv("main.cpp", "main.o"), scratch, "compiling the task's C++ harness")
            os.chmod(os.path.join(scratch, "main.o"), 0o644)
            os.replace(os.path.join(scratch, "main.o"), path)
    with open(path, "rb") as handle:
        return {"main.o": handle.read()}


def candidate_program(entry_point: str, program: str, tests: list[SplitAssert], prompt: str,
                      artifacts: dict[str, bytes]) -> NativeProgram:
    # `main` renamed in the candidate's unit only; #line keeps its diagnostics' line numbers
    source = "#define main codeself_candidate_main\n#line 1 \"candidate.cpp\"\n" + program
    files = {"candidate.cpp": source.encode("utf-8", errors="surrogatepass"), "main.o": artifacts["main.o"]}
    # no source excerpts: g++ quotes the file's physical lines, which the two lines above shift
    # (the message would show the wrong code under the right line number)
    compile_commands = (
        {"argv": [*_compile_argv("candidate.cpp", "candidate.o"), "-fno-diagnostics-show-caret"],
         "what": "compiling the candidate"},
        {"argv": [_gxx(), "candidate.o", "main.o", "-o", "program"], "what": "linking the candidate with the harness"},
    )
    return NativeProgram(files=files, compile=compile_commands, run=("./program",), outputs=("program",))


def expected_program(entry_point: str, tests: list[SplitAssert], prompt: str) -> NativeProgram:
    files = {"expected.cpp": _expected(prompt, entry_point, tests).encode(),
             "codeself_rt.hpp": runtime_source("codeself_rt.hpp")}
    compile_commands = (
        {"argv": _compile_argv("expected.cpp", "expected.o"), "what": "compiling the task's tests", "quiet": True},
        {"argv": [_gxx(), "expected.o", "-o", "expected"], "what": "linking the task's tests", "quiet": True},
    )
    return NativeProgram(files=files, compile=compile_commands, run=("./expected",))
