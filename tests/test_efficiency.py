"""Deterministic efficiency (issue 19, item 2): instructions counted at scale inputs, the score,
tamper detection, passing answers only, the record's JSON, and the generated scale inputs."""

import dataclasses
import os
import random
import tempfile
import unittest
from unittest import mock

import support  # noqa: F401
from codeself.datasets import generated
from codeself.datasets.generated_scale import SCALE_MAKERS
from codeself.datasets.task import Task
from codeself.execution import ExecutionConfig, Executor, charged, efficiency, meter
from codeself.execution.result import ExecutionResult

EXECUTOR = None
SIZES = (8, 16, 32, 64)
REFERENCE = "def total(xs):\n    return sum(x for x in xs)\n"
LINEAR = "def total(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t\n"
QUADRATIC = ("def total(xs):\n    t = 0\n    for i in range(len(xs)):\n        for j in range(i):\n"
             "            t += 0\n        t += xs[i]\n    return t\n")


def setUpModule():
    global EXECUTOR
    EXECUTOR = Executor(ExecutionConfig(workers=1, timeout_s=5.0, efficiency=True))


def tearDownModule():
    EXECUTOR.close()


def toy_task(**metadata) -> Task:
    scale = [{"size": n, "args": repr((list(range(n)),))} for n in SIZES]
    return Task(task_id="toy/total", source="toy", prompt="Sum a list.", entry_point="total", starter_code="",
                public_tests=("assert total([1, 2]) == 3",), hidden_tests=("assert total([]) == 0",),
                setup_code="", reference_solution=REFERENCE, split="test",
                metadata={"scale_inputs": scale, **metadata})


class MeasuredAnswers(unittest.TestCase):
    def test_same_program_same_record_twice(self):
        first, second = EXECUTOR.run(toy_task(), LINEAR), EXECUTOR.run(toy_task(), LINEAR)
        self.assertEqual(first.efficiency["status"], "ok")
        self.assertEqual(first.efficiency, second.efficiency)
        self.assertEqual(first.efficiency["sizes"], list(SIZES))

    def test_quadratic_scores_below_linear(self):
        linear = EXECUTOR.run(toy_task(), LINEAR).efficiency
        quadratic = EXECUTOR.run(toy_task(), QUADRATIC).efficiency
        self.assertLess(quadratic["score"], linear["score"])
        self.assertLess(linear["exponent"], 1.2)
        self.assertGreater(quadratic["exponent"], 1.6)
        self.assertEqual(EXECUTOR.run(toy_task(), REFERENCE).efficiency["score"], 1.0)
        for record in (linear, quadratic):
            self.assertTrue(0.0 <= record["score"] <= 1.0)

    def test_failing_answer_has_no_efficiency(self):
        result = EXECUTOR.run(toy_task(), "def total(xs):\n    return 1\n")
        self.assertFalse(result.passed)
        self.assertIsNone(result.efficiency)
        self.assertNotIn("efficiency", result.to_json())
        self.assertIsNone(efficiency.score_of(result))

    def test_different_value_at_scale_is_not_scored(self):
        cheat = "def total(xs):\n    return sum(xs) if len(xs) < 5 else 0\n"
        record = EXECUTOR.run(toy_task(), cheat).efficiency
        self.assertEqual(record["status"], "failed")
        self.assertNotIn("score", record)

    def test_program_naming_the_tracer_is_refused(self):
        for program in ("import sys\ndef total(xs):\n    sys.settrace(None)\n    return sum(xs)\n",
                        "import threading\ndef total(xs):\n    return sum(xs)\n",
                        "def total(xs):\n    f = getattr(__builtins__, 'sum')\n    return f(xs)\n"):
            result = EXECUTOR.run(toy_task(), program)
            self.assertTrue(result.passed, program)
            self.assertEqual(result.efficiency["status"], "refused", program)
            self.assertIsNone(efficiency.score_of(result))

    def test_over_budget_scores_zero(self):
        with mock.patch.object(efficiency, "MAX_INSTRUCTIONS", 2000):  # the reference needs < 500
            record = EXECUTOR.run(toy_task(), QUADRATIC).efficiency
        self.assertEqual((record["status"], record["score"]), ("over_budget", 0.0))

    def test_edited_scale_inputs_are_read_again(self):
        # the parsed scale inputs are kept per task id: a task of the same id with other inputs must not reuse them
        EXECUTOR.run(toy_task(), LINEAR)
        fewer = dataclasses.replace(toy_task(), metadata={"scale_inputs": toy_task().metadata["scale_inputs"][:2]})
        self.assertEqual(EXECUTOR.run(fewer, LINEAR).efficiency["sizes"], list(SIZES[:2]))

    def test_task_without_scale_inputs(self):
        task = dataclasses.replace(toy_task(), metadata={})
        record = EXECUTOR.run(task, LINEAR).efficiency
        self.assertEqual(record["status"], "unavailable")


def family_task(name: str, reference: str, make) -> Task:
    """A toy task whose answers are called on make(n) at SIZES (one list argument)."""
    scale = [{"size": n, "args": repr((make(n),))} for n in SIZES]
    expected = generated.run_reference(reference, "f", [(make(3),)])[0]
    return Task(task_id=f"toy/{name}", source="toy", prompt="", entry_point="f", starter_code="",
                public_tests=(f"assert f({make(3)!r}) == {expected!r}",),
                hidden_tests=(), setup_code="", reference_solution=reference, split="test",
                metadata={"scale_inputs": scale})


# (family, reference (linear), quadratic answer whose inner loop is a builtin, input at size n)
BUILTIN_QUADRATIC = (
    ("count_occurrences", "def f(xs):\n    counts = {}\n    for x in xs:\n"
                          "        counts[x] = counts.get(x, 0) + 1\n    return counts\n",
     "def f(xs):\n    return {x: xs.count(x) for x in xs}\n",
     lambda n: [i % (n // 2) for i in range(n)]),
    ("remove_duplicates", "def f(xs):\n    seen, out = set(), []\n    for x in xs:\n"
                          "        if x not in seen:\n            seen.add(x)\n            out.append(x)\n    return out\n",
     "def f(xs):\n    out = []\n    for x in xs:\n        if x not in out:\n            out.append(x)\n    return out\n",
     lambda n: list(range(n - 1)) + [0]),
    ("running_sum", "def f(xs):\n    total, out = 0, []\n    for x in xs:\n        total += x\n        out.append(total)\n"
                    "    return out\n", "def f(xs):\n    return [sum(xs[:i + 1]) for i in range(len(xs))]\n",
     lambda n: list(range(n))),
)



def spied(executor) -> list:
    """Every job `executor` dispatches (one child each), with whether its reply held a measurement."""
    dispatched, dispatch = [], executor._dispatch

    def spy(job, on_progress=None):
        reply = dispatch(job, on_progress)
        dispatched.append((job, reply.measure is not None))
        return reply

    executor._dispatch = spy
    return dispatched


class MeasuredInTheTestChild(unittest.TestCase):
    def test_one_child_per_answer_and_cached_costs(self):
        task, program = toy_task(), "def total(xs):\n    acc = 0\n    for x in xs:\n        acc += x\n    return acc\n"
        with tempfile.TemporaryDirectory() as tmp:
            config = ExecutionConfig(workers=1, timeout_s=5.0, efficiency=True,
                                     calibration_cache=os.path.join(tmp, "calibration.json"))
            with Executor(config) as first:
                first.run(task, REFERENCE)  # times the reference and measures its costs
                dispatched = spied(first)
                measured = first.run(task, program)
                # one job, so one child: it ran the tests, then (they passed) the measurement
                self.assertEqual([(job.measure is not None, held) for job, held in dispatched], [(True, True)])
                self.assertEqual(measured.efficiency["status"], "ok")
                self.assertEqual(measured.efficiency, EXECUTOR.run(task, program).efficiency)
                dispatched.clear()
                again = first.run(task, program.replace("return acc", "return acc  # same code"))
                self.assertEqual(again.efficiency, measured.efficiency)
                failing = first.run(task, "def total(xs):\n    return 1\n")
                self.assertIsNone(failing.efficiency)
                # the same compiled code is not measured again (its job holds no measurement)
                self.assertEqual([(job.measure is not None, held) for job, held in dispatched][0], (False, False))
            with Executor(config) as second:
                dispatched = spied(second)
                self.assertEqual(second.run(task, program).efficiency, measured.efficiency)
                self.assertEqual(len(dispatched), 1)  # timeouts and the reference's costs came from the file


class BuiltinCharges(unittest.TestCase):
    """Work inside builtins is charged: a quadratic answer whose inner loop is a builtin no
    longer scores like the linear reference."""

    def check_family(self, family):
        name, reference, quadratic, make = next(item for item in BUILTIN_QUADRATIC if item[0] == family)
        task = family_task(name, reference, make)
        linear = EXECUTOR.run(task, reference).efficiency
        charged = EXECUTOR.run(task, quadratic).efficiency
        self.assertEqual((linear["status"], charged["status"]), ("ok", "ok"))
        self.assertEqual(linear["score"], 1.0)
        self.assertLess(charged["score"], 0.5)
        self.assertGreater(charged["exponent"], 1.4)

    def test_list_count_in_a_loop(self):
        self.check_family("count_occurrences")

    def test_not_in_a_list(self):
        self.check_family("remove_duplicates")

    def test_sum_of_slices(self):
        self.check_family("running_sum")

    def test_rewrite_keeps_values_and_exceptions(self):
        import marshal

        program = ('from __future__ import annotations\nclass C:\n    def g(self, a: list[int] | None) -> int:\n'
                   '        s = "ab" * 2\n        s += "c"\n        b = a[1:] + [0] * 2\n        b += a\n'
                   '        q = {1} | set(a)\n        q -= {2}\n        return [s, b, sorted(q), 3 not in b, a.pop(0),'
                   ' ", ".join(map(str, a)), a.index(3)]\n'
                   'def f(a):\n    return C().g(list(a))\n'
                   'def bad(a):\n    return 1 in a\n')
        plain, rewritten = {}, {}
        exec(compile(program, "<p>", "exec"), plain)
        exec(marshal.loads(charged.charged_code(program)), rewritten)
        self.assertEqual(rewritten["f"]([1, 2, 3]), plain["f"]([1, 2, 3]))
        self.assertEqual(rewritten["C"].g.__annotations__, plain["C"].g.__annotations__)
        with self.assertRaises(TypeError):
            rewritten["bad"](5)
        cost, value, _ = meter.measure(rewritten["f"], [[1, 2, 3]], 10**6)
        self.assertEqual((cost["tampered"], value), ("", plain["f"]([1, 2, 3])))

    def test_numbers_are_not_routed_through_helpers(self):
        """A local that can only hold a number keeps its arithmetic as written (charged
        nothing either way, but a helper call costs counted instructions); any other binding
        of the name, anywhere, keeps the helper."""
        import ast
        import marshal

        def helpers(program):
            return sorted(node.func.id for node in ast.walk(charged.charged_tree(program))
                          if isinstance(node, ast.Call) and isinstance(node.func, ast.Name))

        loop = "def f(xs):\n    total = {init}\n    for x in xs:\n        total += x\n{more}    return total\n"
        self.assertEqual(helpers(loop.format(init="3", more="")), [])
        self.assertEqual(helpers(loop.format(init="-(2 ** 3) + 0.5", more="    total = total % 7 - x\n")), [])
        for init, more in (("[]", ""), ("3", "    total = xs\n"), ("3", "    total *= 2\n"), ("3", "    del total\n"),
                           ("3", "    total, y = 1, 2\n"), ("3", "    [(total := 1) for _ in xs]\n"),
                           ("3", "    for total in xs:\n        pass\n"), ("'%d' % 3", ""), ("len(xs)", ""),
                           ("3", "    def g():\n        nonlocal total\n        total = xs\n"),
                           ("-(-(-(-(-1))))", "")):  # five operators deep: past what the rewrite looks at
            self.assertEqual(helpers(loop.format(init=init, more=more)).count("__codeself_iadd__"), 1, (init, more))
        self.assertIn("__codeself_iadd__", helpers("def f(total, xs):\n    total += xs\n    return total\n"))
        # the same name in another function, or read at module level, is another variable
        others = "def g(total):\n    return total + 1.5j * total\ndef h(xs):\n    total = 0\n    return total + xs\n"
        self.assertIn("__codeself_add__", helpers(loop.format(init="3", more="") + others))
        self.assertEqual(helpers("def f(xs):\n    t = 0\n    return t + xs\nu = t + t\n"), ["__codeself_add__"])
        self.assertEqual(helpers("t = [1]\ndef f(xs):\n    t = 0\n    return t + xs\n"), ["__codeself_add__"])
        nested = "def f(xs):\n    t = 1\n    g = lambda y: y + t\n    return [x * t + t for x in xs] + [g(2)]\n"
        self.assertEqual(helpers(nested), ["__codeself_add__", "__codeself_mul__", "g"])
        program = (loop.format(init="3", more="    total -= xs[0] | 1\n")
                   + "def g(xs):\n    s = []\n    s += xs\n    return s\n")
        rewritten = {}
        exec(marshal.loads(charged.charged_code(program)), rewritten)
        cost, value, _ = meter.measure(rewritten["f"], [[1, 2, 3]], 10**6)
        self.assertEqual((cost["tampered"], value), ("", 8))
        with self.assertRaises(TypeError):
            rewritten["f"]([[1]])  # 3 + [1]: the error the program raises unrewritten
        small, large = (meter.measure(rewritten["g"], [[0] * n], 10**6)[0]["instructions"] for n in (10, 110))
        self.assertEqual(large - small, 100)  # `s += xs` on a list is still charged len(xs)

    def test_a_repeated_program_is_rewritten_once(self):
        program = "def f(xs):\n    return sorted(xs)[:2]  # repeated 5b2c\n"
        with mock.patch.object(charged, "_charged_code", wraps=charged._charged_code) as rewrite:
            first = charged.charged_code(program)
            self.assertEqual(charged.charged_code(program), first)
            self.assertEqual(charged.charged_code(program + " "), first)  # other text: rewritten (same code)
        self.assertEqual(rewrite.call_count, 2)

    def test_charges_are_sizes_and_helpers_are_not_traced(self):
        import marshal

        namespace = {}
        exec(marshal.loads(charged.charged_code("def f(a):\n    return a.count(0)\n")), namespace)
        small, large = (meter.measure(namespace["f"], [[0] * n], 10**6)[0]["instructions"] for n in (10, 110))
        self.assertEqual(large - small, 100)

    def test_program_naming_a_helper_is_refused(self):
        result = EXECUTOR.run(toy_task(), "__codeself_in__ = None\ndef total(xs):\n    return sum(xs)\n")
        self.assertTrue(result.passed)
        self.assertEqual(result.efficiency["status"], "refused")


class Meter(unittest.TestCase):
    """The child-side meter, called in this process: what it flags as tampering."""

    def test_counts_are_exact_and_repeatable(self):
        def loop(n):
            return [i for i in range(n)]

        counts = [meter.measure(loop, [n], 10**6)[0]["instructions"] for n in (10, 10, 20)]
        self.assertEqual(counts[0], counts[1])
        self.assertGreater(counts[2], counts[0])

    def test_removing_the_tracer_is_tampering(self):
        import sys

        cost, value, error = meter.measure(lambda: sys.settrace(None), [], 10**6)
        self.assertIn("settrace", cost["tampered"])

    def test_a_thread_is_tampering(self):
        import _thread
        import time

        def spawn():
            _thread.start_new_thread(time.sleep, (0.01,))

        cost, _, _ = meter.measure(spawn, [], 10**6)
        self.assertIn("start_new_thread", cost["tampered"])

    def test_untampered_call_is_clean(self):
        cost, value, error = meter.measure(lambda xs: sorted(xs), [[3, 1, 2]], 10**6)
        self.assertEqual((cost["tampered"], value, error), ("", [1, 2, 3], None))


class Records(unittest.TestCase):
    def test_old_records_load_and_new_ones_round_trip(self):
        result = EXECUTOR.run(toy_task(), LINEAR)
        record = result.to_json()
        old = {key: value for key, value in record.items() if key != "efficiency"}
        self.assertIsNone(ExecutionResult.from_json(old).efficiency)
        self.assertNotIn("efficiency", ExecutionResult.from_json(old).to_json())
        self.assertEqual(ExecutionResult.from_json(record), result)
        self.assertEqual(efficiency.score_of(record), record["efficiency"]["score"])
        self.assertEqual(efficiency.score_of(result), record["efficiency"]["score"])  # read without to_json()
        self.assertIsNone(efficiency.score_of(dataclasses.replace(result, passed=False)))

    def test_plan_keys_follow_the_task(self):
        """The per-task part of plan (scale inputs, reference key, answer-key digest) is worked
        out once per task, yet an edited task, or another budget, gets keys of its own."""
        from codeself.execution import efficiency_run, programs

        state, task = efficiency_run.Efficiency(None, 4), toy_task()
        code, rewritten = programs.check(LINEAR, False).code, charged.charged_code(LINEAR)

        def plan(edited):
            pending = state.plan(edited, LINEAR, code, 1.0, 2)
            self.assertEqual(pending.key, efficiency_run.answer_key(edited, rewritten))
            self.assertEqual(pending.reference, efficiency.reference_key(edited))
            return pending

        first = plan(task)
        self.assertEqual(plan(task).key, first.key)
        edits = [dataclasses.replace(task, hidden_tests=("assert total([4]) == 4",)),
                 dataclasses.replace(task, metadata={"scale_inputs": task.metadata["scale_inputs"][:2]}),
                 dataclasses.replace(task, reference_solution=LINEAR)]
        for edited in edits:
            self.assertNotEqual(plan(edited).key, first.key)
        with mock.patch.object(efficiency, "MAX_INSTRUCTIONS", 2000):
            self.assertNotEqual(plan(task).key, first.key)
        self.assertEqual(len(plan(edits[1]).inputs), 2)

    def test_rewrite_locations_are_fix_missing_locations(self):
        """charged_code places the nodes it adds itself; the code is the one that
        ast.fix_missing_locations over the whole rewritten tree gives (line numbers decide
        which NOPs CPython keeps, so they could change a count)."""
        import ast
        import marshal

        def walked(program):
            tree = charged.charged_tree(program)
            start = 1 if isinstance(tree.body[0], ast.Expr) else 0
            start += sum(isinstance(node, ast.ImportFrom) and node.module == "__future__" for node in tree.body)
            names = [ast.alias(name) for name in sorted(meter.HELPERS)]
            tree.body.insert(start, ast.ImportFrom("codeself.execution.meter", names, 0))
            return marshal.dumps(compile(ast.fix_missing_locations(tree), "<candidate>", "exec", dont_inherit=True))

        for program in ('"""Doc."""\nfrom __future__ import annotations\nimport os\n\ndef f(a: list) -> int:\n'
                        '    b = a[1:] + a[::2] + a[:-1]\n    b += a\n    return len(b) if 3 not in a else a.count(3)\n',
                        "def g(s):\n    def h(t):\n        return t[:]\n    return h(s)[\n        1:\n    ]\n"):
            self.assertEqual(charged.charged_code(program), walked(program))

    def test_malformed_scale_inputs_are_one_line_errors(self):
        for bad in ([{"size": 1, "args": "([1],)"}], [{"size": 2, "args": "([1],)"}, {"size": 1, "args": "([1],)"}],
                    [{"size": 1, "args": "nope"}, {"size": 2, "args": "([1],)"}], "x"):
            task = dataclasses.replace(toy_task(), metadata={"scale_inputs": bad})
            with self.assertRaises(ValueError) as caught:
                efficiency.scale_inputs(task)
            self.assertNotIn("\n", str(caught.exception))

    def test_refusal_reads_names_not_prose(self):
        from codeself.execution import programs

        def risky(program):
            return efficiency.risky_name(programs.check(program, False).code)

        self.assertIsNone(risky('import re\ndef f(s):\n    """Inspect the modules; signal nothing."""\n'
                                '    return re.compile("a").findall(s)\n'))
        self.assertEqual(risky('def f(x):\n    return x.__getattribute__("sys.modules")\n'), "__getattribute__")
        self.assertEqual(risky('import sys\ndef f(x):\n    return [sys.modules]\n'), "modules")
        self.assertEqual(risky('def f(x):\n    return __import__("threading")\n'), "__import__")

    def test_growth_exponent(self):
        sizes = [10, 20, 40, 80]
        self.assertAlmostEqual(efficiency.growth_exponent(sizes, [3 * n for n in sizes]), 1.0, places=3)
        self.assertAlmostEqual(efficiency.growth_exponent(sizes, [n * n for n in sizes]), 2.0, places=3)


class GeneratedScaleInputs(unittest.TestCase):
    def test_opt_in_adds_only_scale_inputs(self):
        family = next(f for f in generated.FAMILIES if f.name == "running_sum")
        templates = generated.template_partition(family, 0)["train"]
        plain = generated.make_task(family, "train", templates, random.Random("t"), 0)
        scaled = generated.make_task(family, "train", templates, random.Random("t"), 0, scale=True)
        inputs = scaled.metadata.pop("scale_inputs")
        self.assertEqual(plain, scaled)
        self.assertEqual([entry["size"] for entry in inputs], [16, 32, 64, 128, 256])
        parsed = efficiency.scale_inputs(dataclasses.replace(plain, metadata={"scale_inputs": inputs}))
        self.assertEqual([len(item.args[0]) for item in parsed], [16, 32, 64, 128, 256])

    def test_every_maker_names_a_family_and_its_reference_runs(self):
        families = {family.name: family for family in generated.distribution(2).families}
        self.assertLessEqual(set(SCALE_MAKERS), set(families))
        for name, maker in SCALE_MAKERS.items():
            family = families[name]
            rng = random.Random(name)
            params = family.make_params(rng)
            drawn = (generated.make_task(family, "test", [(0, 0)], random.Random(f"{name}{n}"), 0, scale=True)
                     for n in range(50))
            task = next(task for task in drawn if task is not None)
            for item in efficiency.scale_inputs(task):
                generated.run_reference(task.reference_solution, task.entry_point, [item.args])
            self.assertTrue(maker(rng, params, 4))


if __name__ == "__main__":
    unittest.main()
