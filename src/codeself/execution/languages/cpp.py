"""C++ adapter: the candidate and the harness are separate translation units, linked per sample.

candidate.cpp is the candidate's program as written (a `main` of its own is renamed by a
`#define` placed before it, in its own unit only). main.cpp is the task's harness: the prompt's
code with the entry point's definition turned into a declaration, runtime/codeself_rt.hpp
(the encoder's templates), and one captureless function per test encoding `candidate(ARGS)`.
It depends on the task alone, so trusted code compiles it once per task (`prepare`, in the
parent, cached on disk by content; the first time, up to 24 tasks' in one compile:
`prepare_many`), joins it with the runtime's compiled part
(runtime/codeself_rt.cpp, built once per machine) and makes the runtime's symbols local, and
every sample only compiles its own unit and links. Both units are compiled with `-std=c++17`
(MultiPL-E's flags). The candidate's gets GCC's precompiled <bits/stdc++.h>, forced in with
`-include` (the prompts' own includes would otherwise stop GCC from using it); the harness's,
without the prompt's #include lines, a smaller precompiled header of its own
(`harness_header`), or else the same as the candidate's. Precompiled headers and the runtime's
object are built once per machine into the cache directory, which the sandbox shows
read-only. Why the runtime is split and the harness has its own header: the runtime's protocol
and encoder code, generated in every unit that included it, was half of each harness's
compile (0.49 -> 0.25 s), and loading all of <bits/stdc++.h> most of the rest (-> 0.12 s). Expected values: a
program of the prompt with a stub body, every original assert type-checked in a function never
called (a test that does not compile there does not compile in MultiPL-E either: the task is
broken), and one function per test encoding `(EXPECTED)`, linked with the runtime's object.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import os
import re
import subprocess
import tempfile
import threading

from codeself.execution.languages.asserts import SplitAssert
from codeself.execution.languages.program import NativeProgram
from codeself.execution.languages.toolchains import cache_dir, fast_link, fingerprint, runtime_source, toolchain

FLAGS = ("-std=c++17",)
RUNTIME = ("codeself_rt.hpp", "codeself_rt.cpp")
RUNTIME_FLAGS = ("-O2",)  # trusted code, built once: optimised
HARNESS_HEADERS = ("cassert", "cfloat", "climits", "cstdlib", "algorithm", "numeric")  # and the runtime's
# a harness's object keeps only what its `main` reaches (_install), built alone or in a batch
HARNESS_FLAGS = ("-ffunction-sections", "-fdata-sections")
BATCH_MAIN = "codeself_main"  # a batch's part i enters at codeself_main<i> (prepare_many)
BUILD_TIMEOUT_S = 600.0  # the precompiled header takes about 4 s of CPU; generous under load
_lock = threading.Lock()


def _gxx() -> str:
    return toolchain("cpp").tools["g++"]


def _cache(kind: str) -> str:
    found = toolchain("cpp")
    # the harness objects and the runtime's object depend on the runtime; the precompiled header does not
    runtime = "".join([*RUNTIME_FLAGS, *HARNESS_HEADERS, *HARNESS_FLAGS,
                       *(runtime_source(name).decode() for name in RUNTIME)]) \
        if kind != "pch" else ""
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
    return _precompiled(_cache("pch"), "codeself_stdc++.h", "#include <bits/stdc++.h>\n")


def harness_header() -> str:
    """The harnesses' own precompiled header, built once per machine: the runtime and the few
    standard headers tests' arguments use, not all of <bits/stdc++.h> (half the size: a harness
    compiles in 0.12 s instead of 0.25 s; one whose prompt needs more falls back, `prepare`)."""
    text = "".join(f"#include <{name}>\n" for name in HARNESS_HEADERS) + "#include \"codeself_rt.hpp\"\n"
    return _precompiled(_cache("runtime"), "codeself_harness.h", text, "codeself_rt.hpp")


def _precompiled(directory: str, name: str, text: str, *runtime: str) -> str:
    header = os.path.join(directory, name)
    with _lock:
        if not os.path.exists(header + ".gch"):
            with tempfile.TemporaryDirectory(dir=directory) as scratch:
                source = os.path.join(scratch, name)
                with open(source, "w") as handle:
                    handle.write(text)
                _write_runtime(scratch, *runtime)
                _build([_gxx(), *FLAGS, "-x", "c++-header", source, "-o", source + ".gch"], scratch,
                       f"building the precompiled header {name}")
                # the header and what it includes stay beside the .gch: g++ reads them if it ever
                # finds the .gch unusable
                for path in (source + ".gch", source, *(os.path.join(scratch, part) for part in runtime)):
                    os.chmod(path, 0o644)
                for part in runtime:
                    os.replace(os.path.join(scratch, part), os.path.join(directory, part))
                os.replace(source + ".gch", header + ".gch")
                os.replace(source, header)
    return header


def runtime_object() -> str:
    """Path of the runtime's compiled part (codeself_rt.o), built once per machine."""
    directory = _cache("runtime")
    path = os.path.join(directory, "codeself_rt.o")
    with _lock:
        if not os.path.exists(path):
            with tempfile.TemporaryDirectory(dir=directory) as scratch:
                _write_runtime(scratch, *RUNTIME)
                _build([_gxx(), *FLAGS, *RUNTIME_FLAGS, "-c", "codeself_rt.cpp", "-o", "codeself_rt.o"], scratch,
                       "building the C++ harness runtime")
                os.chmod(os.path.join(scratch, "codeself_rt.o"), 0o644)
                os.replace(os.path.join(scratch, "codeself_rt.o"), path)
    return path


@functools.lru_cache(maxsize=None)
def _runtime_symbols(path: str) -> tuple[str, ...]:
    """The runtime object's own (strong) global definitions: what each harness makes local."""
    done = subprocess.run([toolchain("cpp").tools["nm"], "--defined-only", "--extern-only", "--format=posix", path],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise ValueError(f"reading the C++ runtime's symbols failed: {done.stderr.strip()[:200]}")
    found = tuple(line.split()[0] for line in done.stdout.splitlines()
                  if len(line.split()) > 1 and line.split()[1] in "TDBR")
    if not any("5serve" in name for name in found):
        raise ValueError("the C++ runtime's object defines no serve(): its build is broken")
    return found


def _write_runtime(directory: str, *names: str) -> None:
    for name in names:
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(runtime_source(name))


def _split_prompt(prompt: str) -> str:
    code = prompt.rstrip()
    if not code.endswith("{"):
        raise ValueError("the C++ prompt does not end with the entry point's opening brace")
    return code[:-1].rstrip()


def _calls(entry_point: str, bodies: list[str]) -> str:
    """One captureless function per test (a plain pointer each, so no std::function is
    generated per test), encoding `body`."""
    calls = "".join(f"    []() -> std::string {{ return codeself_rt::encode({body}); }},\n" for body in bodies)
    return (f"[[maybe_unused]] auto const candidate = {entry_point};\n"
            f"const codeself_rt::Call calls[] = {{\n{calls}    nullptr}};\n")


def _serving(entry_point: str, bodies: list[str], runtime: str = "#include \"codeself_rt.hpp\"\n",
             scope: str = "codeself_harness", main: str = "int main") -> str:
    """The unit's calls, in an unnamed namespace of the unit's own, and its `main` (in a batch
    of harnesses, `extern "C" int codeself_main<i>`, renamed `main` in the task's object)."""
    return (f"{runtime}namespace {{\nnamespace {scope} {{\n{_calls(entry_point, bodies)}"
            f"}}  // namespace {scope}\n}}\n"
            f"{main}(int argc, char** argv) {{\n"
            f"  return codeself_rt::serve(argc, argv, {scope}::calls, {len(bodies)});\n}}\n")


def _harness(prompt: str, entry_point: str, tests: list[SplitAssert], lean: bool = False,
             index: int | None = None) -> str:
    """The harness's unit; `lean`: without the prompt's #includes, for harness_header();
    `index`: lean, as the index-th part of a batch of harnesses (`prepare_many`)."""
    code = _split_prompt(prompt)
    if lean or index is not None:
        code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith("#include"))
    serving = {} if index is None else {"scope": f"codeself_harness{index}",
                                        "main": f'extern "C" int {BATCH_MAIN}{index}'}
    runtime = "" if lean or serving else "#include \"codeself_rt.hpp\"\n"
    return f"{code};\n" + _serving(entry_point, [f"candidate({t.args})" for t in tests], runtime, **serving)


def _typecheck(entry_point: str, tests: list[SplitAssert]) -> str:
    checks = "".join(f"  assert(candidate({t.args}) == {t.expected});\n" for t in tests)
    return f"[[maybe_unused]] static void codeself_typecheck() {{\n  auto candidate = {entry_point};\n{checks}}}\n"


def _expected(prompt: str, entry_point: str, tests: list[SplitAssert]) -> str:
    return (f"{_split_prompt(prompt)} {{ std::abort(); }}\n{_typecheck(entry_point, tests)}"
            + _serving(entry_point, [f"{t.expected}" for t in tests]))


def batchable(prompt: str) -> bool:
    """A prompt whose only preprocessor lines are #includes: they move to the batch's top, and
    the rest goes in a namespace of its own."""
    return all(line.lstrip().startswith("#include") and not line.rstrip().endswith("\\")
               for line in prompt.splitlines() if line.lstrip().startswith("#"))


def _batch_source(parts: list[tuple[str, list[SplitAssert], str]]) -> str:
    includes: dict[str, None] = {}
    units, lists = [], []
    for index, (entry_point, tests, prompt) in enumerate(parts):
        code = []
        for line in _split_prompt(prompt).splitlines():
            if line.lstrip().startswith("#"):
                includes[line.strip()] = None
            else:
                code.append(line)
        units.append(f"namespace codeself_t{index} {{\n" + "\n".join(code) + " { std::abort(); }\n"
                     + _typecheck(entry_point, tests) + _calls(entry_point, [f"{t.expected}" for t in tests])
                     + f"}}  // namespace codeself_t{index}\n")
        lists.append(f"  all.insert(all.end(), codeself_t{index}::calls, codeself_t{index}::calls + {len(tests)});\n")
    return ("".join(f"{line}\n" for line in includes) + "#include \"codeself_rt.hpp\"\n" + "".join(units)
            + "int main(int argc, char** argv) {\n  std::vector<codeself_rt::Call> all;\n" + "".join(lists)
            + "  return codeself_rt::serve(argc, argv, all.data(), all.size());\n}\n")


def _compile_argv(source: str, output: str) -> list[str]:
    return [_gxx(), *FLAGS, "-include", precompiled_header(), "-Winvalid-pch", "-c", source, "-o", output]


def prepare(entry_point: str, tests: list[SplitAssert], prompt: str) -> dict[str, bytes]:
    """The task's harness object (main.o: the harness's unit and the runtime's object joined,
    the runtime's symbols local), compiled by trusted code once and kept on disk."""
    path = _harness_path(entry_point, tests, prompt)
    if not os.path.exists(path):
        with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as scratch:
            for name, text in (("main.cpp", _harness(prompt, entry_point, tests)),
                               ("lean.cpp", _harness(prompt, entry_point, tests, lean=True))):
                with open(os.path.join(scratch, name), "w", encoding="utf-8") as handle:
                    handle.write(text)
            _write_runtime(scratch, "codeself_rt.hpp")
            try:  # a prompt or a test that needs more than harness_header() holds: the whole library
                _build([_gxx(), *FLAGS, *HARNESS_FLAGS, "-include", harness_header(), "-Winvalid-pch", "-c",
                        "lean.cpp", "-o", "harness.o"], scratch, "compiling the task's C++ harness")
            except ValueError:
                _build([*_compile_argv("main.cpp", "harness.o"), *HARNESS_FLAGS], scratch,
                       "compiling the task's C++ harness")
            _install(scratch, "harness.o", path)
    with open(path, "rb") as handle:
        return {"main.o": handle.read()}


def prepare_many(parts: list[tuple[str, list[SplitAssert], str]]) -> None:
    """The harness objects of several tasks (entry point, tests, prompt) from one compile,
    where they are not on disk yet; `prepare` then finds each on disk. Called by
    expected_batch.py on a machine's first evaluation of a file.

    Why: a harness's compile is mostly fixed cost (0.06 of its 0.10 s of CPU is an empty unit
    against harness_header()); 24 harnesses compile in one unit in ~0.5 s. Each task's part
    is its prompt's code at global scope (its entry point must link with the candidate's),
    then its calls in a namespace of its own and an `extern "C"` entry; the task's object is
    the batch's object cut down to what that entry reaches (`ld -r --gc-sections`), joined
    with the runtime, its entry renamed `main`. The other tasks' entry points stay in its
    symbol table only as unreferenced undefined symbols, which no link reports: a candidate
    without its own entry point still fails to link. A prompt with preprocessor lines other
    than #include, or with a using-declaration or directive (it would change how later parts
    look names up), is left to `prepare`; so are the tasks g++'s errors point at (their
    declarations clash with another part's, or need more than harness_header()), and all of
    them when the batch fails again without those."""
    todo: dict[str, tuple[str, list[SplitAssert], str]] = {}
    for entry_point, tests, prompt in parts:
        path = _harness_path(entry_point, tests, prompt)
        if not os.path.exists(path) and batchable(prompt) and \
                not any(line.lstrip().startswith("using") for line in prompt.splitlines()):
            todo[path] = (entry_point, tests, prompt)
    paths = list(todo)
    for _attempt in range(2):
        if len(paths) < 2:
            return
        units = [_harness(prompt, entry_point, tests, index=index)
                 for index, (entry_point, tests, prompt) in enumerate(todo[path] for path in paths)]
        with tempfile.TemporaryDirectory(dir=os.path.dirname(paths[0])) as scratch:
            # named as a harness alone against harness_header() is, since linkers' messages quote it
            with open(os.path.join(scratch, "lean.cpp"), "w", encoding="utf-8") as handle:
                handle.write("".join(units))
            try:
                done = subprocess.run([_gxx(), *FLAGS, *HARNESS_FLAGS, "-include",
                                       harness_header(), "-Winvalid-pch", "-c", "lean.cpp", "-o", "batch.o"],
                                      cwd=scratch, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                return
            if done.returncode == 0:
                for index, path in enumerate(paths):
                    try:
                        _install(scratch, "batch.o", path, f"{BATCH_MAIN}{index}")
                    except ValueError:
                        continue  # left to prepare
                return
        starts = list(itertools.accumulate([1, *(unit.count("\n") for unit in units[:-1])]))
        lines = {int(number) for number in re.findall(r"^lean\.cpp:(\d+):", done.stderr, re.MULTILINE)}
        broken = {bisect.bisect_right(starts, line) - 1 for line in lines}
        paths = [path for index, path in enumerate(paths) if index not in broken]
        if not broken:
            return


def compile_message(text: str) -> str:
    """A compile or link error as the candidate sees it, the same whichever way its harness was
    built: a batch's part's scope (`codeself_harness<i>`, in a linker's message naming the
    harness function that calls a missing entry point) reads as a harness of its own."""
    return re.sub(r"\bcodeself_harness\d+::", "codeself_harness::", text)


def _harness_path(entry_point: str, tests: list[SplitAssert], prompt: str) -> str:
    """Where the task's harness object is kept: named by its (non-batched) harness unit."""
    return os.path.join(_cache("harness"), fingerprint(_harness(prompt, entry_point, tests)) + ".o")


def _install(scratch: str, harness: str, path: str, entry: str = "main") -> None:
    """Join the compiled harness with the runtime's object, keeping only what `entry` reaches
    (a batch's part: its own; the same for a harness alone, so both read alike in a linker's
    message), make the runtime's symbols local, name the entry `main` and move the result to
    `path`."""
    runtime = runtime_object()
    local = [argument for name in _runtime_symbols(runtime) for argument in ("-L", name)]
    keep = ["-Wl,--gc-sections", f"-Wl,--undefined={entry}"]
    rename = ["--redefine-sym", f"{entry}=main"] if entry != "main" else []
    try:
        _build([_gxx(), "-r", "-nostdlib", *keep, harness, runtime, "-o", "main.o"], scratch,
               "joining the task's C++ harness with the runtime")
    except ValueError:
        if entry != "main":
            raise  # a batch's part: left to prepare
        # a linker that refuses --gc-sections with -r (binutils before 2.26): the whole harness
        _build([_gxx(), "-r", "-nostdlib", harness, runtime, "-o", "main.o"], scratch,
               "joining the task's C++ harness with the runtime")
    _build([toolchain("cpp").tools["objcopy"], *local, *rename, "main.o"], scratch,
           "making the C++ runtime's symbols local")
    os.chmod(os.path.join(scratch, "main.o"), 0o644)
    os.replace(os.path.join(scratch, "main.o"), path)


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
        {"argv": [_gxx(), *fast_link(), "candidate.o", "main.o", "-o", "program"],
         "what": "linking the candidate with the harness"},
    )
    return NativeProgram(files=files, compile=compile_commands, run=("./program",), outputs=("program",))


def expected_program(entry_point: str, tests: list[SplitAssert], prompt: str) -> NativeProgram:
    return _tests_program(_expected(prompt, entry_point, tests), "the task's tests")


def expected_batch(parts: list[tuple[str, list[SplitAssert], str]]) -> NativeProgram:
    """The tests programs of several tasks (entry point, tests, prompt) as one: expected_batch.py."""
    return _tests_program(_batch_source(parts), "a batch of tasks' tests", error_lines=True)


def batch_tasks_at(native: NativeProgram, lines: list[int]) -> set[int]:
    """The tasks (positions in the batch) whose namespace holds one of `lines` of the batch's source."""
    starts = [number for number, line in enumerate(native.files["expected.cpp"].decode().splitlines(), 1)
              if line.startswith("namespace codeself_t")]
    return {bisect.bisect_right(starts, line) - 1 for line in lines if starts and line >= starts[0]}


def _tests_program(source: str, what: str, error_lines: bool = False) -> NativeProgram:
    files = {"expected.cpp": source.encode(), "codeself_rt.hpp": runtime_source("codeself_rt.hpp")}
    compile_source = {"argv": _compile_argv("expected.cpp", "expected.o"), "what": f"compiling {what}", "quiet": True}
    if error_lines:
        compile_source["error_lines"] = "expected.cpp"
    compile_commands = (
        compile_source,
        {"argv": [_gxx(), *fast_link(), "expected.o", runtime_object(), "-o", "expected"], "what": f"linking {what}",
         "quiet": True},
    )
    return NativeProgram(files=files, compile=compile_commands, run=("./expected",))
