import support  # noqa: F401

import ast
import collections
import gzip
import json
import math
import unittest

from codeself.execution import codec
from codeself.execution.assertions import SplitTest, split_test
from codeself.execution.judge import is_floats, judge_test, short_repr, tolerant_equal
from test_assertions import _mbpp_entry_point


def verdict(snippet, *values, entry_point="f", **options):
    """Judge `snippet` on the given probe values after a real codec round trip."""
    values = [codec.loads(codec.dumps(value)) for value in values]
    return judge_test(split_test(snippet, entry_point), values, **options)


def passes(snippet, *values, **options) -> bool:
    return verdict(snippet, *values, **options)[0]


class PythonSemanticsTest(unittest.TestCase):
    def test_plain_equality(self):
        self.assertTrue(passes("assert f(1) == [1, (2, 'a')]", [1, (2, "a")]))
        self.assertFalse(passes("assert f(1) == [1, (2, 'a')]", [1, [2, "a"]]))  # tuple vs list differs
        self.assertFalse(passes("assert f(1) == (1, 2)", [1, 2]))
        self.assertTrue(passes("assert f(1) != 3", 4))

    def test_python_numeric_equality_is_kept(self):
        # as in the original in-process assert: True == 1 and 1 == 1.0
        self.assertTrue(passes("assert f(1) == 1", True))
        self.assertTrue(passes("assert f(1) == 2", 2.0))
        self.assertTrue(passes("assert f(1) == {1: 'a'}", {True: "a"}))
        self.assertFalse(passes("assert f(1) is True", 1))
        self.assertTrue(passes("assert f(1) is None", None))

    def test_truthiness(self):
        self.assertTrue(passes("assert f(1)", True))
        self.assertFalse(passes("assert f(1)", False))
        self.assertTrue(passes("assert not f(1)", False))

    def test_wrapped_probes_and_judge_side_math(self):
        self.assertTrue(passes("assert set(f(1)) == {1, 2}", {2, 1}))
        self.assertTrue(passes("assert math.isclose(f(1), 3.0, rel_tol=0.001)", 3.002))
        self.assertFalse(passes("assert math.isclose(f(1), 3.0, rel_tol=0.001)", 3.01))
        self.assertTrue(passes("assert abs(f(1) - 0.33) < 1e-6", 0.33000000001))
        self.assertTrue(passes("assert round(f(1) - 0.5, 2) == 0", 0.501))
        self.assertTrue(passes("assert f(1) == f(2)", [1], [1]))
        self.assertFalse(passes("assert f(1) == f(2)", [1], [2]))
        self.assertTrue(passes("assert 0 < f(1) < 10", 5))
        self.assertTrue(passes("from math import *\nassert isclose(f(1), pi)", math.pi))
        self.assertTrue(passes("assert isinstance(f(1), set)", {1}))
        self.assertTrue(passes("assert type(f(2)) == frozenset", frozenset()))
        self.assertTrue(passes('assert True, "always"'))

    def test_nan_is_not_equal_without_tolerance(self):
        self.assertFalse(passes("assert f(1) == float('nan')", math.nan))
        self.assertTrue(passes("assert math.isnan(f(1))", math.nan))


class ToleranceTest(unittest.TestCase):
    def test_atol_applies_to_float_leaves_recursively(self):
        # |1.0000005 - 1.0| = 5e-7 <= 1e-6 + 1e-7 * 1.0
        self.assertFalse(passes("assert f(1) == 1.0", 1.0000005))
        self.assertTrue(passes("assert f(1) == 1.0", 1.0000005, atol=1e-6))
        self.assertTrue(passes("assert f(1) == [1.0, (2.0, {'k': 3.0})]", [1.0000005, (2.0, {"k": 2.9999995})],
                               atol=1e-6))
        self.assertFalse(passes("assert f(1) == 1.0", 1.000002, atol=1e-6))
        self.assertTrue(passes("assert f(1) == 1", 1.0000005, atol=1e-6))  # int expected, float returned
        self.assertFalse(passes("assert f(1) == [1.0]", (1.0,), atol=1e-6))  # container types still must match
        self.assertFalse(passes("assert f(1) == {'a': 1.0}", {"b": 1.0}, atol=1e-6))
        self.assertTrue(passes("assert f(1) == 2 + 1j", 2.0000001 + 1j, atol=1e-6))

    def test_not_equal_uses_the_same_tolerance(self):
        self.assertFalse(passes("assert f(1) != 1.0", 1.0000005, atol=1e-6))
        self.assertTrue(passes("assert f(1) != 1.0", 1.1, atol=1e-6))

    def test_relative_term_uses_the_expected_side(self):
        # expected 1e6: allowed error 1e-6 + 1e-7 * 1e6 = 0.100001
        self.assertTrue(passes("assert f(1) == 1000000.0", 1000000.1, atol=1e-6))
        self.assertTrue(passes("assert 1000000.0 == f(1)", 1000000.1, atol=1e-6))
        # expected 0.0: allowed error is atol only, whatever the returned magnitude
        self.assertFalse(passes("assert f(1) == 0.0", 2e-6, atol=1e-6))

    def test_nan_and_infinity_with_tolerance(self):
        self.assertTrue(passes("assert f(1) == float('nan')", math.nan, atol=1e-6))  # numpy's equal_nan
        self.assertTrue(passes("assert f(1) == float('inf')", math.inf, atol=1e-6))
        self.assertFalse(passes("assert f(1) == float('inf')", 1e308, atol=1e-6))
        self.assertFalse(passes("assert f(1) == 1.0", math.nan, atol=1e-6))
        self.assertFalse(passes("assert f(1) == 1.0", 10**400, atol=1e-6))  # too big for a float: not close

    def test_tolerance_only_touches_equality(self):
        self.assertFalse(passes("assert f(1) < 1.0", 1.0000005, atol=1e-6))
        self.assertTrue(passes("assert 0 < f(1) == 1.0", 1.0000005, atol=1e-6))
        self.assertFalse(passes("assert 2 < f(1) == 1.0", 1.0000005, atol=1e-6))

    def test_evalplus_default_float_tolerance(self):
        # EvalPlus uses atol 1e-6 when the task's atol is 0 and the expected value is a float
        # or a flat list/tuple of floats; other expected values compare exactly.
        self.assertTrue(passes("assert f(1) == 0.1", 0.1000005, default_float_atol=1e-6))
        self.assertTrue(passes("assert f(1) == [0.1, 0.2]", [0.1000005, 0.2], default_float_atol=1e-6))
        self.assertFalse(passes("assert f(1) == [0.1, 2]", [0.1000005, 2], default_float_atol=1e-6))
        self.assertFalse(passes("assert f(1) == [[0.1]]", [[0.1000005]], default_float_atol=1e-6))
        self.assertFalse(passes("assert f(1) == 1", 1.0000005, default_float_atol=1e-6))

    def test_tolerant_equal_and_is_floats_directly(self):
        self.assertTrue(tolerant_equal([1.0, "a"], [1.0000001, "a"], 1e-6))
        self.assertFalse(tolerant_equal([1.0, "a"], [1.0000001, "b"], 1e-6))
        self.assertTrue(tolerant_equal(True, 1.0000001, 1e-6))
        self.assertFalse(tolerant_equal("1.0", 1.0, 1e-6))
        self.assertEqual([is_floats(v) for v in (1.0, [1.0, 2.0], (1.0,), [], [1.0, 1], 1, [[1.0]])],
                         [True, True, True, True, False, False, False])


class MessageTest(unittest.TestCase):
    def test_public_message_says_expected_and_got(self):
        self.assertEqual(verdict("assert f(1) == [1, 2]", [2, 1]),
                         (False, "AssertionError", "expected [1, 2], got [2, 1]"))
        self.assertEqual(verdict("assert 'ab' == f(1)", "ba"), (False, "AssertionError", "expected 'ab', got 'ba'"))
        self.assertEqual(verdict("assert f(1)", False), (False, "AssertionError", "expected a true value, got False"))
        self.assertEqual(verdict("assert abs(f(1) - 2) < 0.5", 3),
                         (False, "AssertionError", "assertion failed: abs(_v0 - 2) < 0.5 with _v0 = 3"))

    def test_hidden_message_never_shows_the_test_or_expected_value(self):
        secret = "SECRET-EXPECTED-VALUE"
        for snippet, value in ((f"assert f(1) == '{secret}'", "other"),
                               (f"assert f(1) < '{secret}'", 5),  # TypeError mentioning nothing secret
                               (f"assert sorted(f(1)) == ['{secret}']", [1, "x"])):
            passed, error_type, message = verdict(snippet, value, hidden=True)
            self.assertFalse(passed)
            self.assertNotIn(secret, message)
            self.assertNotIn("assert", message)
            self.assertTrue(message.startswith("hidden test failed"), message)
        self.assertEqual(verdict("assert f(1) == 'x'", [1], hidden=True),
                         (False, "AssertionError", "hidden test failed: returned value of type list did not match"))

    def test_messages_are_bounded(self):
        _passed, _error, message = verdict("assert f(1) == 'short'", "y" * 100000)
        self.assertLessEqual(len(message), 300)
        self.assertIn("got 'yyyy", message)
        self.assertEqual(short_repr(10**5000), "<int with 16610 bits>")  # 5000 * log2(10) = 16609.6

    def test_judge_errors_are_failed_tests(self):
        self.assertEqual(verdict("assert f(1) < 3", "x")[:2], (False, "TypeError"))
        self.assertEqual(verdict("assert f(1)[f(2)] == 3", [1], 5)[:2], (False, "IndexError"))


class GuardTest(unittest.TestCase):
    """Returned values cannot make the parent compute for long or allocate much.

    The limits are lowered here so that an unguarded operation would still finish at
    once: the tests check that the guard fires, not how long anything takes.
    """

    def setUp(self):
        from codeself.execution import judge_guards as judge_module

        names = ("MAX_RESULT_BITS", "MAX_INT_WORK", "MAX_REPEAT", "MAX_MODPOW_WORK")
        saved = {name: getattr(judge_module, name) for name in names}
        for name, value in zip(names, (1000, 10**6, 1000, 10**5)):
            setattr(judge_module, name, value)
        self.addCleanup(lambda: [setattr(judge_module, name, value) for name, value in saved.items()])

    def assert_refused(self, snippet, *values, error_type="JudgeLimitExceeded"):
        passed, error, message = verdict(snippet, *values)
        self.assertEqual((passed, error), (False, error_type), message)

    def test_costly_operations_are_refused(self):
        self.assert_refused("assert 2 ** f(1) == 4", 1001)  # 2 bits * 1001 > 1000
        self.assert_refused("assert pow(3, f(1)) == 4", 1001)
        self.assert_refused("assert pow(3, f(1), f(2)) == 4", 2**100, 2**100)  # 101 * 101**2 > 10**5
        self.assert_refused("assert [0] * f(1) == []", 1001)
        self.assert_refused("assert 'ab' * f(1) == ''", 501)
        self.assert_refused("assert f(1) * 'ab' == ''", 501)
        self.assert_refused("assert 1 << f(1) == 2", 1000)
        self.assert_refused("assert bytes(f(1) + 0) == b''", 1001)
        self.assert_refused("assert f(1) * f(2) == 1", 2**1000, 2**1000)  # 1001 * 1001 > 10**6
        self.assert_refused("assert divmod(f(1), f(2)) == 1", 2**1000, 2**1000)
        self.assert_refused("assert f(1) // f(2) == 1", 2**1000, 2**1000)

    def test_just_below_the_limits_is_computed(self):
        self.assertTrue(passes("assert 2 ** f(1) == 2 ** 500", 500))
        self.assertTrue(passes("assert len([0] * f(1)) == 1000", 1000))
        self.assertTrue(passes("assert f(1) * f(2) == 2 ** 400", 2**200, 2**200))  # 201 * 201 < 10**6
        self.assertTrue(passes("assert pow(3, f(1), f(2)) == 1", 2**10, 2))  # 11 * 2**2 < 10**5

    def test_realistic_attacks_with_default_limits(self):
        from codeself.execution import judge_guards as judge_module

        judge_module.MAX_RESULT_BITS, judge_module.MAX_INT_WORK, judge_module.MAX_REPEAT = 2**20, 2**36, 2**24
        judge_module.MAX_MODPOW_WORK = 2**44
        self.assert_refused("assert 2 ** f(1) == 4", 10**12)
        self.assert_refused("assert [0] * f(1) == []", 10**12)
        self.assert_refused("assert bytes(f(1) + 0) == b''", 10**12)
        self.assert_refused("assert round(f(1) + 0, f(2)) == 0", 5, -10**12)

    def test_sum_of_lists_is_linear_and_exact(self):
        many = [[k] for k in range(20000)]  # quadratic concatenation would copy 2 * 10**8 items
        self.assertTrue(passes("assert sum(f(1), []) == f(2)", many, list(range(20000))))
        self.assertTrue(passes("assert sum(f(1), ()) == (1, 2)", [(1,), (2,)]))
        self.assertTrue(passes("assert sum(f(1), 0.5) == 3.5", [1, 2]))
        self.assertEqual(verdict("assert sum(f(1), []) == []", [[1], (2,)])[:2], (False, "TypeError"))

    def test_hash_flooding_is_refused(self):
        colliding = [k * (2**61 - 1) for k in range(1, 5000)]  # all hash to 0 on 64-bit CPython
        self.assert_refused("assert set(f(1) + []) == set()", colliding, error_type="ValueError")
        self.assert_refused("assert frozenset(f(1) + []) == set()", colliding, error_type="ValueError")
        self.assert_refused("assert dict(zip(f(1) + [], f(1) + [])) == {}", colliding, colliding,
                            error_type="ValueError")
        self.assertTrue(passes("assert set(f(1) + []) == set(f(2) + [])", list(range(5000)), list(range(5000))))

    def test_ordinary_uses_of_guarded_names_still_work(self):
        self.assertTrue(passes("assert pow(f(1), 2) == 9", 3))
        self.assertTrue(passes("assert 2 ** f(1) == 8", 3))
        self.assertTrue(passes("assert f(1) * 2 == [1, 1]", [1]))
        self.assertTrue(passes("assert dict(f(1) + []) == {1: 2}", [(1, 2)]))
        self.assertTrue(passes("assert isinstance(f(1), (dict, set, bytes))", b"x"))
        self.assertTrue(passes("assert type(f(1)) is dict", {}))
        self.assertTrue(passes("assert round(f(1) + 0, 1) == 2.5", 2.46))


class NamespaceTest(unittest.TestCase):
    def test_each_judge_gets_a_fresh_namespace(self):
        from codeself.execution import judge

        first = judge._namespace([1, 2], 0.0, 0.0)
        second = judge._namespace([], 0.0, 0.0)
        self.assertEqual((first["_v0"], first["_v1"]), (1, 2))
        self.assertNotIn("_v0", second)  # nothing left over from the previous test
        self.assertNotIn("_v0", judge._BASE_NAMESPACE)
        self.assertIsNot(first["__builtins__"], second["__builtins__"])
        self.assertEqual(first["__builtins__"], {})

    def test_repeated_judges_agree(self):
        split = SplitTest(probes=("f(1)",), judge="_v0 == [1, 2.5]", fallback=None)
        self.assertEqual(judge_test(split, [[1, 2.5]]), (True, None, ""))
        self.assertEqual(judge_test(split, [[1, 2.5000001]], atol=1e-3), (True, None, ""))
        self.assertFalse(judge_test(split, [[1, 2.6]], atol=1e-3)[0])
        self.assertEqual(judge_test(split, [[1, 2.5]]), (True, None, ""))


class ContractTest(unittest.TestCase):
    def test_wrong_value_count_is_a_caller_error(self):
        with self.assertRaises(ValueError):
            judge_test(split_test("assert f(1) == f(2)", "f"), [1])

    def test_fallback_split_cannot_be_judged(self):
        with self.assertRaises(ValueError):
            judge_test(split_test("for i in x: assert f(i)", "f"), [])

    def test_hand_built_hostile_judges_are_refused_before_running(self):
        for judge in ("__import__('os').system('true')", "_v0.__class__.__subclasses__()",
                      "[c for c in ().__class__.__mro__]", "open('/etc/passwd').read()"):
            with self.subTest(judge=judge):
                with self.assertRaises(ValueError):
                    judge_test(SplitTest(probes=("f(1)",), judge=judge, fallback=None), [1])


if __name__ == "__main__":
    unittest.main()


# Runs in a separate interpreter (trusted reference code only; bounded memory, scratch cwd):
# for each job, the original in-process assert verdict next to the split verdict.
_FIDELITY_CHILD = r'''
import contextlib, io, json, resource, signal, sys
from codeself.execution import codec
from codeself.execution.assertions import split_test
from codeself.execution.judge import judge_test
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
class Slow(BaseException):
    pass
def on_alarm(*_):
    raise Slow()
signal.signal(signal.SIGALRM, on_alarm)
def original(snippet, namespace):
    try:
        exec(snippet, dict(namespace))
        return True
    except Exception:
        return False
def split_verdict(split, namespace):
    try:
        values = [codec.loads(codec.dumps(eval(probe, dict(namespace)))) for probe in split.probes]
    except Exception:
        return False
    return judge_test(split, values)[0]
for line in sys.stdin:
    job = json.loads(line)
    namespace = {"__name__": "solution"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(job["code"], namespace)
    verdicts = []
    for snippet in job["tests"]:
        split = split_test(snippet, job["entry_point"])
        if split.judge is None:
            verdicts.append("fallback")
            continue
        signal.setitimer(signal.ITIMER_REAL, 2.0)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                verdicts.append([original(snippet, namespace), split_verdict(split, namespace)])
        except Slow:
            verdicts.append("slow")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    print(json.dumps([job["name"], verdicts]), flush=True)
'''


class RealDataFidelityTest(unittest.TestCase):
    """Split verdicts equal the original asserts' verdicts on reference and 'return None' programs.

    Covers every MBPP and HumanEval task with a 'return None' stub, every second HumanEval
    canonical solution and every fourth MBPP reference solution (all of them take ~15 s;
    the engine's own tests run every reference end to end).
    """

    def run_jobs(self, jobs):
        """Run the jobs in a child interpreter; return verdict counts."""
        import os
        import subprocess
        import sys
        import tempfile

        env = dict(os.environ, PYTHONPATH=str(support.REPO_ROOT / "src"))
        with tempfile.TemporaryDirectory() as scratch:
            completed = subprocess.run([sys.executable, "-c", _FIDELITY_CHILD], cwd=scratch, env=env, timeout=180,
                                       input="\n".join(json.dumps(job) for job in jobs), capture_output=True, text=True)
        self.assertEqual(completed.returncode, 0, completed.stderr[-2000:])
        outputs = [(completed.stdout, completed.stderr)]
        counts = collections.Counter()
        mismatches = []
        for stdout, _stderr in outputs:
            for line in stdout.splitlines():
                name, verdicts = json.loads(line)
                for index, verdict in enumerate(verdicts):
                    if isinstance(verdict, list):
                        counts[tuple(verdict)] += 1
                        if verdict[0] != verdict[1]:
                            mismatches.append((name, index, verdict))
                    else:
                        counts[verdict] += 1
        self.assertEqual(mismatches, [])
        return counts

    @staticmethod
    def stub(entry_point):
        return f"\n\ndef {entry_point}(*args, **kwargs):\n    return None\n"

    def mbpp_jobs(self):
        jobs = []
        with open(support.data_file(self, "mbpp.jsonl"), encoding="utf-8") as handle:
            for record in map(json.loads, handle):
                entry_point = _mbpp_entry_point(record)
                tests = record["test_list"] + record["challenge_test_list"]
                programs = [("none", record["code"] + self.stub(entry_point))]
                if record["task_id"] % 4 == 0:
                    programs.append(("ref", record["code"]))
                for kind, code in programs:
                    jobs.append({"name": f"{kind}/mbpp/{record['task_id']}", "entry_point": entry_point,
                                 "code": code + "\n" + record["test_setup_code"], "tests": tests})
        return jobs

    def humaneval_jobs(self):
        jobs = []
        with gzip.open(support.data_file(self, "HumanEval.jsonl.gz"), "rt", encoding="utf-8") as handle:
            for record in map(json.loads, handle):
                entry_point = record["entry_point"]
                check = next(node for node in ast.parse(record["test"]).body
                             if isinstance(node, ast.FunctionDef) and node.name == "check")
                tests = [ast.get_source_segment(record["test"], node).replace("candidate", entry_point)
                         for node in check.body if isinstance(node, ast.Assert)]
                program = record["prompt"] + record["canonical_solution"] + "\n" + record["test"]
                programs = [("none", program + self.stub(entry_point))]
                if int(record["task_id"].split("/")[1]) % 2 == 0:
                    programs.append(("ref", program))
                for kind, code in programs:
                    jobs.append({"name": f"{kind}/{record['task_id']}", "code": code,
                                 "entry_point": entry_point, "tests": tests})
        return jobs

    def test_mbpp_and_humaneval(self):
        counts = self.run_jobs(self.mbpp_jobs() + self.humaneval_jobs())
        # MBPP 596: 3 tests, stub and reference (596 % 4 == 0); HumanEval/151: 1 test, stub only
        self.assertEqual(counts["fallback"], 6 + 1)
        self.assertLessEqual(counts["slow"], 2)  # a reference may take seconds on a busy machine
        # compared: MBPP stubs 2938 - 3 and ~2938 / 4 references; HumanEval stubs 1176 - 1 and ~1176 / 2 references
        self.assertGreater(counts[(True, True)] + counts[(False, False)], 2935 + 700 + 1175 + 550)
        self.assertGreater(counts[(True, True)], 700 + 550)  # the references pass


class JudgeCacheTest(unittest.TestCase):
    def test_judges_are_kept_by_source_size_least_recently_used_out_first(self):
        # a batch over a benchmark with more distinct judges than the cache held compiled most
        # of them again for every sample (MBPP+: 18.5k judges, 8192 were kept)
        from codeself.execution import judge
        cache = judge.CompiledJudges()
        cache.MAX_SOURCE = 3 * (len("_v0 == 1") + cache.ENTRY_OVERHEAD)  # room for three such judges
        for value in range(1, 5):
            self.assertEqual(eval(cache.get(f"_v0 == {value}", 1, False), {"_v0": value}), True)  # noqa: S307
        self.assertEqual((cache.compiled, cache.hits), (4, 0))
        cache.get("_v0 == 4", 1, False)
        cache.get("_v0 == 2", 1, False)
        self.assertEqual((cache.compiled, cache.hits), (4, 2))
        cache.get("_v0 == 1", 1, False)  # the oldest, dropped when the fourth came in
        self.assertEqual((cache.compiled, cache.hits), (5, 2))
        cache.get("_v0 == 2", 1, False)  # used since: kept
        self.assertEqual((cache.compiled, cache.hits), (5, 3))
        big = "_v0 == [" + ", ".join(["1"] * 600) + "]"  # larger than the whole budget: kept alone
        cache.get(big, 1, False)
        cache.get(big, 1, False)
        self.assertEqual((cache.compiled, cache.hits, len(cache._kept)), (6, 4, 1))
        with self.assertRaises(ValueError):  # an invalid judge is refused every time, never kept
            cache.get("__import__('os')", 0, False)
        self.assertEqual(len(cache._kept), 1)

    def test_judge_test_reads_the_shared_cache(self):
        # the cache judge_test reads (another test may have imported the module afresh since)
        compiled = judge_test.__globals__["COMPILED"]
        self.assertGreaterEqual(compiled.MAX_SOURCE, 4 << 20)  # MBPP+'s 2 MB of judges fit
        judge_test(split_test("assert f(1) == 1", "f"), [1])
        hits, made = compiled.hits, compiled.compiled
        # a passing test: one lookup (a failing one also looks up its expected side, for the message)
        self.assertEqual(judge_test(split_test("assert f(1) == 1", "f"), [1])[0], True)
        self.assertEqual((compiled.hits, compiled.compiled), (hits + 1, made))
