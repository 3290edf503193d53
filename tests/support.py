"""Shared test helpers: put `src/` on sys.path, locate real data, run scripts.

Every test module imports this first (`import support`), which is what lets
`python3 -m unittest discover -s tests` run from a fresh clone without installing.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCRIPTS = REPO_ROOT / "scripts"
# For runs whose policy emits endless loops on purpose (the mock and smoke policies): each such
# program waits out the per-test timeout, whose least value is 1 s by default; these tests judge
# millisecond-scale references, so 0.25 s still leaves every correct program a wide margin.
FAST_TIMEOUTS = ("--timeout-floor-s", "0.25")

if str(REPO_ROOT / "src") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "src"))


def data_file(test: unittest.TestCase | type, name: str) -> Path:
    """Path of a real dataset file under $CODESELF_DATA_DIR, or skip the test saying why.
    `test` may be a test class (from setUpClass): the whole class is then skipped."""
    data_dir = os.environ.get("CODESELF_DATA_DIR")
    path = Path(data_dir or ".") / name
    reason = ("CODESELF_DATA_DIR is not set; real-data test skipped (CI sets it)" if not data_dir
              else None if path.is_file() else f"{path} not found under CODESELF_DATA_DIR")
    if reason and isinstance(test, type):
        raise unittest.SkipTest(reason)
    if reason:
        test.skipTest(reason)
    return path


_BYTECODE_DIR: list[str] = []  # the temporary directory script runs keep their bytecode in, made on first use


def script_env() -> dict[str, str] | None:
    """The environment of script runs: this one, except that with PYTHONDONTWRITEBYTECODE set
    (no __pycache__ in the tree) each run would compile every module it imports again (~0.1 s
    of CPU per run, hundreds of runs per suite). Runs then share bytecode in a temporary
    directory outside the tree (PYTHONPYCACHEPREFIX), removed when the tests end; what a script
    does is unchanged. None (inherit) when bytecode is written anyway."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return None
    if not _BYTECODE_DIR:
        import atexit
        import shutil
        import tempfile

        _BYTECODE_DIR.append(tempfile.mkdtemp(prefix="codeself-test-bytecode-"))
        atexit.register(shutil.rmtree, _BYTECODE_DIR[0], True)
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": _BYTECODE_DIR[0]}


def run_script(name: str, *args: str, cwd: Path | None = None, timeout: float = 300,
               input_text: str | None = None) -> subprocess.CompletedProcess:
    """Run `scripts/<name>` with this interpreter, capturing text output."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / name), *map(str, args)],
        cwd=cwd or REPO_ROOT, capture_output=True, text=True, timeout=timeout,
        input=input_text if input_text is not None else "", env=script_env(),
    )


def start_script(name: str, *args) -> tuple:
    """Start `scripts/<name>` as `run_script` runs it (this interpreter, the repository as working
    directory, empty stdin, text output captured), without waiting: other work can run meanwhile.
    `finish_script` waits for it."""
    import tempfile

    command = [sys.executable, str(SCRIPTS / name), *map(str, args)]
    # files, not pipes: a run that writes a lot never waits for this process to read
    out, err = (tempfile.TemporaryFile("w+", encoding="utf-8") for _ in range(2))
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                               env=script_env())
    return command, process, out, err


def finish_script(started: tuple, timeout: float = 300) -> subprocess.CompletedProcess:
    """The result of a `start_script` run, as `run_script` returns it (killed after `timeout`)."""
    command, process, out, err = started
    try:
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        texts = []
        for handle in (out, err):
            handle.seek(0)
            texts.append(handle.read())
            handle.close()
    return subprocess.CompletedProcess(command, process.returncode, *texts)


def run_scripts(*calls: tuple, timeout: float = 300) -> list[subprocess.CompletedProcess]:
    """Run several scripts at the same time, each call `(name, *args)` as `run_script` runs it,
    and return their results in call order. Only for runs independent of each other: no output
    of one is an input or an output of another."""
    import time

    started, results, waited = [], [], 0
    try:
        for call in calls:
            started.append(start_script(*call))
        deadline = time.monotonic() + timeout
        for run in started:
            waited += 1  # finish_script cleans up after itself, even when it raises
            results.append(finish_script(run, timeout=max(0.0, deadline - time.monotonic())))
    finally:
        for run in started[waited:]:  # only after a timeout or an error here: stop the runs left
            run[1].kill()
            finish_script(run)
    return results


def in_process(name: str, *args) -> subprocess.CompletedProcess:
    """`run_script(name, *args)` as the script's main() in this process, with the same arguments
    and its result shaped the same: no interpreter start, for runs whose point is what they
    write, not the script as a process."""
    code, out, err = run_in_process(load_script(name.removesuffix(".py")), *args)
    return subprocess.CompletedProcess([name, *map(str, args)], code, out, err)


def run_beside(mine: tuple, *others: tuple) -> list[subprocess.CompletedProcess]:
    """`run_scripts(mine, *others)`, except that `mine` runs as its script's main() in this
    process (`in_process`) while the others run as processes, all at the same time: one
    interpreter start less. The same rule as run_scripts: the runs are independent of each other."""
    started = []
    try:
        for call in others:
            started.append(start_script(*call))
        result = in_process(*mine)
    finally:
        runs = [finish_script(run) for run in started]
    return [result, *runs]


def convert_twice(test: unittest.TestCase, tmp: str, fmt: str, source: Path, name: str) -> tuple[Path, dict]:
    """Run prepare_datasets.py twice into `tmp/a` and `tmp/b` with splits and a manifest,
    assert the two runs wrote identical bytes, and return the first output and its manifest."""
    import json

    runs = [(Path(tmp, run, name), Path(tmp, run, name + ".manifest.json")) for run in ("a", "b")]
    results = run_scripts(*(("prepare_datasets.py", "--format", fmt, "--input", source, "--output", out,
                              "--assign-splits", "--manifest", manifest, "--quiet") for out, manifest in runs))
    outputs = []
    for (out, manifest), result in zip(runs, results):
        test.assertEqual(result.returncode, 0, result.stderr)
        test.assertEqual(result.stderr, "")
        outputs.append((out.read_bytes(), manifest.read_bytes()))
    test.assertEqual(outputs[0], outputs[1])
    return Path(tmp, "a", name), json.loads(outputs[0][1])


_CONVERTED: dict[Path, bytes] = {}  # source -> its prepare_datasets.py output, converted once per test process


def prepare_real_mbpp(test: unittest.TestCase, tmp: str) -> Path:
    """Convert the real MBPP file (official splits) into `tmp`, or skip when it is absent.

    The conversion runs once per test process; later calls write the same bytes (conversion is
    deterministic: test_datasets_mbpp checks two runs agree) into their own `tmp`."""
    source = data_file(test, "mbpp.jsonl")
    tasks = Path(tmp, "mbpp.jsonl")
    if source not in _CONVERTED:
        prepared = run_script("prepare_datasets.py", "--format", "mbpp", "--input", source, "--output", tasks,
                              "--assign-splits", "--quiet")
        test.assertEqual(prepared.returncode, 0, prepared.stderr)
        _CONVERTED[source] = tasks.read_bytes()
    else:
        tasks.write_bytes(_CONVERTED[source])
    return tasks


def load_script(name: str):
    """A script's module (`scripts/<name>.py`), for calling its main() in this process: no
    interpreter start, for checks that end before any work (refused flags and inputs)."""
    import importlib.util
    from unittest import mock

    spec = importlib.util.spec_from_file_location(f"script_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    with mock.patch.object(sys, "path", [str(SCRIPTS), *sys.path]):  # for `import _bootstrap`
        spec.loader.exec_module(module)
    return module


def run_in_process(module, *argv) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `module.main(argv)` (see load_script). argparse's refusals
    (`parser.error`, exit 2) raise SystemExit; its code is returned as a run's exit code would be."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = module.main([str(arg) for arg in argv])
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
    return code, out.getvalue(), err.getvalue()


_LOADED: dict[str, object] = {}  # script name -> its module, loaded once per test process


def refusal(name: str, *args) -> subprocess.CompletedProcess:
    """`run_script(name, *args)` for a run that must be refused before any work (bad flags or
    inputs, outputs that would overwrite something): the script's main() in this process, its
    result shaped as run_script's. No interpreter start (~0.25 s of CPU each); a run that is
    not refused would do its work in this process, so keep runs that work on run_script."""
    if name not in _LOADED:
        _LOADED[name] = load_script(name.removesuffix(".py"))
    code, out, err = run_in_process(_LOADED[name], *args)
    return subprocess.CompletedProcess([name, *map(str, args)], code, out, err)


def run_unprivileged(test: unittest.TestCase, script: str, uid_base: int, timeout_s: float = 60.0) -> str:
    """stdout of `python -c script tests_dir src_dir` run as an unprivileged uid (claimed from
    `uid_base`, so no other test run uses it now): an ordinary user's path through the sandbox.
    (`unshare -Ur` as root would not do: root keeps privileges a user lacks.) Skips the test
    without root, util-linux `setpriv` or a Python >= 3.11 that such a uid can run (pyenv under
    /root: no); fails it when the script fails."""
    from codeself.execution import sandbox, uids

    setpriv = shutil.which("setpriv")
    python = next((p for p in (sys.executable, "/usr/bin/python3") if _runs_unprivileged(setpriv, p)), None)
    if setpriv is None or not sandbox.is_host_root() or python is None:
        test.skipTest("needs root, util-linux `setpriv` and a Python >= 3.11 an unprivileged uid can run")
    uid, claim = uids.claim(uid_base, 64)
    home = tempfile.mkdtemp()
    try:
        os.chown(home, uid, uid)
        done = subprocess.run(
            [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", python, "-c", script,
             str(Path(__file__).resolve().parent), str(REPO_ROOT / "src")],
            capture_output=True, text=True, timeout=timeout_s, env={"HOME": home, "PATH": "/usr/bin:/bin"})
    finally:
        shutil.rmtree(home, ignore_errors=True)
        claim.close()
    test.assertEqual(done.returncode, 0, done.stderr[-2000:])
    return done.stdout


def _runs_unprivileged(setpriv: str | None, python: str) -> bool:
    """Can uid 65534 run this interpreter, and is it >= 3.11?"""
    if setpriv is None or not os.path.exists(python):
        return False
    probe = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", python, "-c",
             "import os, sys; assert sys.version_info >= (3, 11) and os.access(sys.executable, os.X_OK)"]
    return subprocess.run(probe, capture_output=True, cwd="/").returncode == 0


def descendants(pid):
    """Host pids of every live descendant of `pid` (by PPid chains in /proc)."""
    from codeself.execution.sandbox import children_by_parent

    parents = children_by_parent(live_only=True)
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
