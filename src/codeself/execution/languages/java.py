"""Java adapter: the candidate's class and the harness's class are separate compilation units.

Problem.java is the candidate's source as written (MultiPL-E's file name: a `public class`
of another name does not compile there either). CodeselfHarness.java is the task's harness:
the prompt's import lines, then one lambda per test, `() -> Problem.ENTRY(ARGS)`, handed to
the runtime `codeself_rt.Rt` (runtime/Rt.java), which answers the import step before any
class of the candidate is initialised (its static initialisers run in the first call), then
each step with the encoded result, and halts the JVM when the worker is done (no shutdown
hook of the candidate runs). So a run that gives no import answer is a JVM that did not start
(`TRUSTED_UNTIL_IMPORT`: a sandbox_error, never the candidate's verdict); so is a javac that
did not start (RLIMIT_NPROC counts threads, and a JVM needs about twelve).
The runtime lives in a package of its own, compiled once per machine by trusted code into the
cache directory (read-only in the sandbox): classes the candidate declares in the unnamed
package cannot shadow the names it uses. One javac run per sample compiles both files
(`-proc:none`: no annotation processor, so no code runs at compile time); its diagnostics
are kept only for Problem.java (the harness's quote test inputs). A fresh JVM runs each
sample with `-ea`, as MultiPL-E does. javac starts from a class-data-sharing archive of its
own classes (built once per machine, `-XX:ArchiveClassesAtExit`), which halves its start-up.

Expected values: Problem.java becomes the prompt with a body that throws plus every original
assert in a method never called (a test that does not compile is a broken task), and a
second harness encodes `(EXPECTED)` per test: the candidate is not in that program.

javatuples (`import org.javatuples.*;` heads every MultiPL-E prompt) is optional: without
the jar a stub package stands in for the import, and a task whose prompt or tests use a
javatuples class is Unavailable (a sandbox_error naming the package to install).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import tempfile
import threading

from codeself.code_mask import mask
from codeself.execution.languages.asserts import SplitAssert
from codeself.execution.languages.native import HEAP_TOKEN
from codeself.execution.languages.program import BASE_ENV, NativeProgram
from codeself.execution.languages.toolchains import (JAVATUPLES_MISSING, Unavailable, cache_dir, fingerprint,
                                                     runtime_source, toolchain)

BUILD_TIMEOUT_S = 600.0
# Few threads (RLIMIT_NPROC counts every thread of the sandbox user, in every sandbox at once),
# small fixed reservations, the heap what the address-space limit leaves (native.HEAP_TOKEN).
JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:-UseNotificationThread", "-XX:+ReduceSignalUsage", "-XX:-UsePerfData",
             "-XX:CompressedClassSpaceSize=64m", "-XX:ReservedCodeCacheSize=48m", f"-Xmx{HEAP_TOKEN}m")
JAVAC_FLAGS = ("-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1")  # short-lived: C1 only
JAVAC_OPTIONS = ("-proc:none", "-nowarn", "-encoding", "UTF-8", "-d", ".")
ENV = {**BASE_ENV, "MALLOC_ARENA_MAX": "2"}  # glibc's per-thread arenas would reserve 64 MiB each
TUPLE_CLASSES = re.compile(r"\b(?:Unit|Pair|Triplet|Quartet|Quintet|Sextet|Septet|Octet|Ennead|Decade|"
                           r"KeyValue|LabelValue)\b")
HARNESS = "CodeselfHarness"
TRUSTED_UNTIL_IMPORT = True  # nothing of the candidate runs before the import answer (above)
_lock = threading.Lock()


def _tools() -> dict[str, str]:
    return toolchain("java").tools


def _cache() -> str:
    key = fingerprint(toolchain("java").version, _tools()["javatuples"], *JVM_FLAGS, *JAVAC_FLAGS,
                      runtime_source("Rt.java").decode(), runtime_source("CompileServer.java").decode())
    return os.path.join(cache_dir(), f"java-{key}")


def _run(argv: list[str], cwd: str, what: str) -> None:
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
                              env={**ENV, "PATH": os.environ.get("PATH", BASE_ENV["PATH"])})
    except subprocess.TimeoutExpired:
        raise ValueError(f"{what} took more than {BUILD_TIMEOUT_S:g} s") from None
    if done.returncode != 0:
        last = ((done.stderr + done.stdout).strip().splitlines() or ["no output"])[-1]
        raise ValueError(f"{what} failed: {last[:200]}")


def runtime() -> dict[str, str]:
    """The per-machine build (once): "classes" (codeself_rt, and the org.javatuples stub when
    the jar is absent) and "archive" (javac's class-data archive; "" when it could not be made)."""
    directory = _cache()
    built = {"classes": os.path.join(directory, "classes"), "archive": os.path.join(directory, "javac.jsa")}
    with _lock:
        if not os.path.isdir(built["classes"]):
            os.makedirs(directory, mode=0o755, exist_ok=True)
            os.chmod(directory, 0o755)
            with tempfile.TemporaryDirectory(dir=directory) as scratch:
                try:
                    _build_classes(scratch)
                except ValueError as error:  # trusted code that does not build: this machine's fault
                    raise Unavailable(str(error)) from None
                _build_archive(scratch)
                for root, dirs, files in os.walk(scratch):
                    for name in dirs + files:
                        os.chmod(os.path.join(root, name), 0o755 if name in dirs else 0o644)
                if os.path.exists(os.path.join(scratch, "javac.jsa")):
                    os.replace(os.path.join(scratch, "javac.jsa"), built["archive"])
                try:
                    os.replace(os.path.join(scratch, "classes"), built["classes"])
                except OSError:  # another process built it meanwhile (a directory is not replaced)
                    if not os.path.isdir(built["classes"]):
                        raise
    if not os.path.exists(built["archive"]):
        built["archive"] = ""
    return built


def _build_classes(scratch: str) -> None:
    classes = os.path.join(scratch, "classes")
    os.makedirs(os.path.join(scratch, "src", "org", "javatuples"))
    sources = [os.path.join(scratch, "src", name) for name in ("Rt.java", "CompileServer.java")]
    for source in sources:
        with open(source, "wb") as handle:
            handle.write(runtime_source(os.path.basename(source)))
    if not _tools()["javatuples"]:
        sources.append(os.path.join(scratch, "src", "org", "javatuples", "CodeselfAbsent.java"))
        with open(sources[-1], "w") as handle:
            handle.write("package org.javatuples;\n/** Stands in for the javatuples jar, absent here. */\n"
                         "final class CodeselfAbsent {\n}\n")
    _run([_tools()["javac"], *JAVAC_OPTIONS[:-2], "-d", classes, *sources], scratch,
         "building the Java harness runtime")


def _build_archive(scratch: str) -> None:
    """javac's classes, dumped after compiling a program like the ones it will compile."""
    tests = [SplitAssert("f", "new ArrayList<Long>(Arrays.asList(1l, 2l)), \"a\"", "Optional.of(3l)", "java_equals")]
    prompt = "import java.util.*;\nclass Problem {\n    public static Optional<Long> f(ArrayList<Long> x, String s) {\n"
    work = os.path.join(scratch, "sample")
    os.makedirs(work)
    for name, data in _expected_files("f", tests, prompt).items():
        with open(os.path.join(work, name), "wb") as handle:
            handle.write(data)
    try:
        _run([_tools()["javac"], *(f"-J{flag.replace(HEAP_TOKEN, '512')}" for flag in JVM_FLAGS + JAVAC_FLAGS),
              f"-J-XX:ArchiveClassesAtExit={os.path.join(scratch, 'javac.jsa')}",
              *JAVAC_OPTIONS, "-cp", _classpath(os.path.join(scratch, "classes")), "Problem.java",
              f"{HARNESS}.java"], work, "archiving javac's classes")
    except ValueError:
        pass  # no archive (no base archive in this JDK, say): javac starts slower, nothing else


def _classpath(classes: str) -> str:
    return ":".join(path for path in (classes, _tools()["javatuples"]) if path)


def _class_name(prompt: str) -> str:
    found = re.search(r"\bclass\s+([A-Za-z_$][\w$]*)", mask(prompt, "java"))
    return found.group(1) if found else "Problem"


def _imports(prompt: str) -> str:
    return "".join(line + "\n" for line in prompt.splitlines() if re.match(r"\s*import\s+[\w.*\s]+;\s*$", line))


def _check_tuples(prompt: str, tests: list[SplitAssert], jar: str) -> None:
    """Unavailable when the jar is absent and the prompt's code or the tests name its classes."""
    if jar:
        return
    code = mask("\n".join(line for line in prompt.splitlines() if not line.lstrip().startswith("import")), "java")
    code += "\n" + "\n".join(mask(f"{t.args}\n{t.expected}", "java") for t in tests)
    if TUPLE_CLASSES.search(code):
        raise Unavailable(f"this Java task uses {JAVATUPLES_MISSING}")


def _harness(prompt: str, calls: list[str]) -> str:
    lambdas = "".join(f"            () -> {call},\n" for call in calls)
    return (f"{_imports(prompt)}import codeself_rt.Rt;\n\nfinal class {HARNESS} {{\n"
            f"    public static void main(String[] args) {{\n        Rt.serve(args, new Rt.Call[] {{\n"
            f"{lambdas}        }});\n    }}\n}}\n")


def _program(files: dict[str, bytes], what: str, quiet: bool) -> NativeProgram:
    built = runtime()
    archive = (f"-J-XX:SharedArchiveFile={built['archive']}",) if built["archive"] else ()
    javac = [_tools()["javac"], *(f"-J{flag}" for flag in JVM_FLAGS + JAVAC_FLAGS), *archive, *JAVAC_OPTIONS,
             "-cp", _classpath(built["classes"]), "Problem.java", f"{HARNESS}.java"]
    # the launchers find libjli.so through $ORIGIN, which the view cannot resolve (no /proc)
    home = os.path.dirname(os.path.dirname(_tools()["java"]))
    env = {**ENV, "LD_LIBRARY_PATH": os.path.join(home, "lib")}
    # the worker's warm javac answers this command when it can (compile_server.py); else it runs
    server = {"argv": [_tools()["java"], *JVM_FLAGS, *JAVAC_FLAGS, "-cp", built["classes"], "codeself_rt.CompileServer",
                       _classpath(built["classes"]), *JAVAC_OPTIONS[:-2]],
              "env": env, "sources": ["Problem.java", f"{HARNESS}.java"], "own_file": "Problem.java", "what": what}
    command = {"argv": javac, "what": what, "filter": "javac:Problem.java", "jvm": True, "server": server}
    if quiet:
        command["quiet"] = server["quiet"] = True
    run = (_tools()["java"], *JVM_FLAGS, "-ea", "-cp", f"{_classpath(built['classes'])}:.", HARNESS)
    return NativeProgram(files=files, compile=(command,), run=run, env=env)


def prepare(entry_point: str, tests: list[SplitAssert], prompt: str) -> dict[str, bytes]:
    _check_tuples(prompt, tests, _tools()["javatuples"])
    runtime()
    return {}


def candidate_program(entry_point: str, program: str, tests: list[SplitAssert], prompt: str,
                      artifacts: dict[str, bytes]) -> NativeProgram:
    name = _class_name(prompt)
    files = {"Problem.java": program.encode("utf-8", errors="surrogatepass"),
             f"{HARNESS}.java": _harness(prompt, [f"{name}.{entry_point}({t.args})" for t in tests]).encode()}
    return dataclasses.replace(_program(files, "compiling the candidate", False), outputs=("*.class",))


def expected_program(entry_point: str, tests: list[SplitAssert], prompt: str) -> NativeProgram:
    return _program(_expected_files(entry_point, tests, prompt), "compiling the task's tests", True)


def _expected_files(entry_point: str, tests: list[SplitAssert], prompt: str) -> dict[str, bytes]:
    return {"Problem.java": _stub(tests, prompt).encode(),
            f"{HARNESS}.java": _harness(prompt, [f"({t.expected})" for t in tests]).encode()}


def _stub(tests: list[SplitAssert], prompt: str) -> str:
    """The prompt with a body that throws, and every original assert in a method never called."""
    stub = prompt.rstrip()
    if not stub.endswith("{"):
        raise ValueError("the Java prompt does not end with the entry point's opening brace")
    checks = "".join(f"        assert({t.callee}({t.args}) == {t.expected});\n" if t.equality == "java_eq"
                     else f"        assert({t.callee}({t.args}).equals({t.expected}));\n" for t in tests)
    return stub + ("\n        throw new UnsupportedOperationException();\n    }\n"
                   f"    static void codeselfTypecheck() {{\n{checks}    }}\n}}\n")


def batchable(prompt: str) -> bool:
    """A prompt whose only top-level class is its entry point's: renamed, it shares a file."""
    return len(re.findall(r"\bclass\s+[A-Za-z_$]", mask(prompt, "java"))) == 1


def expected_batch(parts: list[tuple[str, list[SplitAssert], str]]) -> NativeProgram:
    """The tests programs of several tasks (entry point, tests, prompt) as one: expected_batch.py.
    Each task's class is renamed CodeselfT<i> (its asserts call the entry point unqualified), all
    in Problem.java under the prompts' imports; the harness encodes every task's values."""
    imports: dict[str, None] = {}
    classes, values = [], []
    for index, (_, tests, prompt) in enumerate(parts):
        own = _imports(prompt).splitlines()
        imports.update(dict.fromkeys(own))
        code = "".join(line + "\n" for line in prompt.splitlines() if line not in own)
        found = re.search(r"\bclass\s+[A-Za-z_$][\w$]*", mask(code, "java"))
        if not found:
            raise ValueError("the Java prompt declares no class")
        classes.append(_stub(tests, code[:found.start()] + f"class CodeselfT{index}" + code[found.end():]))
        values.extend(f"({t.expected})" for t in tests)
    header = "".join(line + "\n" for line in imports)
    files = {"Problem.java": (header + "".join(classes)).encode(), f"{HARNESS}.java": _harness(header, values).encode()}
    return _program(files, "compiling a batch of tasks' tests", True)
