"""JavaScript adapter: node runs a harness that loads the candidate as a separate script.

The harness (main.js) first loads runtime/codeself_rt.js, which captures every built-in it
uses, then compiles the candidate's source with `vm.Script` (a SyntaxError there is a
compile error) and runs it in the global scope, as `node program.js` would (with `require`
and `module` available), then looks the entry point up by name. Test calls are closures in
the harness (`() => candidate(ARGS)`), run one per step; expected values are computed by a
second program built the same way without any candidate (`() => (EXPECTED)`).
"""

from __future__ import annotations

import json

from codeself.execution.languages.asserts import SplitAssert
from codeself.execution.languages.program import NativeProgram
from codeself.execution.languages.toolchains import runtime_source, toolchain

# V8's helper threads count against RLIMIT_NPROC; one is enough for short programs.
NODE_FLAGS = ("--v8-pool-size=1", "--max-old-space-size=512", "--stack-size=4000")
PRESTART = "codeself_prestart.js"  # node started before its job arrives (supervise.prestart)

_LOAD = """const candidateSource = require('fs').readFileSync('candidate.js', 'utf8');
let candidate, failure;
try {
  const vm = require('vm');
  let script;
  try {
    script = new vm.Script(candidateSource, {filename: 'candidate.js'});
  } catch (error) {
    // the stack's head shows the candidate's line and the error; its frames are the harness's
    failure = {codeselfType: 'CompileError', message: String(error && error.stack || error).split('\\n    at ')[0]};
  }
  if (failure === undefined) {
    globalThis.require = require; globalThis.module = module; globalThis.exports = module.exports;
    script.runInThisContext();
    candidate = vm.runInThisContext(%s);
    if (candidate === undefined) {
      failure = {codeselfType: 'ReferenceError', message: %s};
    }
  }
} catch (error) {
  failure = error === undefined ? {codeselfType: 'Thrown', message: 'undefined'} : error;
}
"""


def _harness(calls: list[str], load_candidate: bool, entry_point: str) -> str:
    lines = ["const codeselfRuntime = require('./codeself_rt.js');",
             "const codeselfNonce = process.argv[process.argv.length - 1];"]
    if load_candidate:
        lookup = json.dumps(f"typeof {entry_point} === 'function' ? {entry_point} : undefined")
        lines.append(_LOAD % (lookup, json.dumps(f"{entry_point} is not defined as a function")))
    else:
        lines.append("let failure;")
    lines.append("codeselfRuntime.importDone(codeselfNonce, failure);")
    lines.append("if (failure === undefined) codeselfRuntime.serve([")
    lines.extend(f"  () => {call}," for call in calls)
    lines.append("]);")
    return "\n".join(lines) + "\n"


def _program(main: str, candidate: str | None) -> NativeProgram:
    node = toolchain("js").tools["node"]
    files = {"codeself_rt.js": runtime_source("codeself_rt.js"), "main.js": main.encode()}
    if candidate is not None:
        files["candidate.js"] = candidate.encode("utf-8", errors="surrogatepass")
    return NativeProgram(files=files, compile=(), run=(node, *NODE_FLAGS, "main.js"),
                         prestart=(PRESTART, runtime_source(PRESTART)))


def prepare(entry_point: str, tests: list[SplitAssert], prompt: str) -> dict[str, bytes]:
    """Nothing to build once per task: node reads the harness as text."""
    return {}


def candidate_program(entry_point: str, program: str, tests: list[SplitAssert], prompt: str,
                      artifacts: dict[str, bytes]) -> NativeProgram:
    # `candidate` is a local of the harness module, as MultiPL-E's `let candidate = f;` line makes it
    calls = [f"candidate({test.args})" for test in tests]
    return _program(_harness(calls, True, entry_point), program)


def expected_program(entry_point: str, tests: list[SplitAssert], prompt: str) -> NativeProgram:
    return _program(_harness([f"({test.expected})" for test in tests], False, entry_point), None)


def expected_batch(parts: list[tuple[str, list[SplitAssert], str]]) -> NativeProgram:
    """The tests programs of several tasks (entry point, tests, prompt) as one: expected_batch.py."""
    return _program(_harness([f"({test.expected})" for _, tests, _ in parts for test in tests], False, ""), None)
