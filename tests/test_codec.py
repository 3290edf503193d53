import support  # noqa: F401

import builtins
import collections
import json
import math
import unittest

from codeself.execution import codec
from codeself.execution.codec import MalformedValue, UnsupportedValue, ValueTooLarge, decode, dumps, encode, loads


def same(a, b) -> bool:
    """Equal with types preserved at every level; nan equals nan; -0.0 differs from 0.0."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if type(a) is complex:
        return same(a.real, b.real) and same(a.imag, b.imag)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return list(a) == list(b) and all(type(k) is type(k2) for k, k2 in zip(a, b)) \
            and all(same(a[k], b[k]) for k in a)
    if type(a) in (set, frozenset):
        return a == b and sorted(type(x).__name__ for x in a) == sorted(type(x).__name__ for x in b)
    return a == b


class RoundTripTest(unittest.TestCase):
    VALUES = [
        None, True, False, 0, -7, 2**63 - 1, -2**63, 2**63, -2**63 - 1, 10**5000, -(3**4000),
        1.5, -0.0, 0.0, float("inf"), float("-inf"), float("nan"), 5e-324, 1.7976931348623157e308,
        1 + 2j, complex(float("nan"), -0.0), complex(float("inf"), 1), "", "héllo\n\x00", "a\ud800b",
        b"", b"\x00\xff", [], (), [1, [2, [3]]], (1,), ((1, 2), [3]), {}, {"a": 1, 2: "b", (1, 2): [3]},
        {True: 1, 1.5: None, None: 0, b"k": 1j, frozenset({1}): set()}, set(), frozenset(),
        {frozenset({1, 2}), frozenset()}, {(1, "a"), (2, "b")}, [None, True, 1, 1.0, "1", b"1"],
    ]

    def test_every_supported_value_round_trips_with_types(self):
        for value in self.VALUES:
            with self.subTest(kind=type(value).__name__):
                wire = json.loads(json.dumps(encode(value)))  # through real JSON text
                self.assertTrue(same(decode(wire), value), decode(wire))
                self.assertTrue(same(loads(dumps(value)), value))

    def test_negative_zero_and_nan_survive(self):
        self.assertEqual(math.copysign(1, decode(encode(-0.0))), -1.0)
        self.assertTrue(math.isnan(decode(encode(float("nan")))))

    def test_wire_format_is_tagged(self):
        # small ints and strings are plain JSON; everything else is a [tag, ...] list
        self.assertEqual(encode([1, "a", None, True]), ["l", [1, "a", None, True]])
        self.assertEqual(encode((1.5,)), ["t", [["f", "1.5"]]])
        self.assertEqual(encode({(1,): b"\x01"}), ["d", [[["t", [1]], ["b", "01"]]]])
        self.assertEqual(encode(2**64), ["i", "0x10000000000000000"])  # 2**64 = 0x1 followed by 16 zeros
        self.assertEqual(dumps(-0.0), '["f","-0.0"]')

    def test_bool_is_not_confused_with_int(self):
        self.assertIs(decode(encode(True)), True)
        self.assertIs(type(decode(encode(1))), int)
        self.assertEqual(list(decode(encode({True: "t"}))), [True])

    def test_stdlib_dict_subclasses_travel_as_plain_dicts(self):
        counter = collections.Counter("abca")  # {'a': 2, 'b': 1, 'c': 1}
        for value in (counter, collections.defaultdict(int, a=1), collections.OrderedDict(b=2)):
            decoded = decode(encode(value))
            self.assertIs(type(decoded), dict)
            self.assertEqual(decoded, dict(value))

    def test_patched_counter_methods_are_not_called(self):
        calls = []

        class Sneaky(collections.Counter):
            pass

        patched = {"items": lambda self: calls.append("items") or [], "__len__": lambda self: calls.append("len") or 0,
                   "__iter__": lambda self: calls.append("iter") or iter(()), "__eq__": lambda self, other: True}
        missing = object()
        originals = {name: collections.Counter.__dict__.get(name, missing) for name in patched}
        for name, function in patched.items():
            setattr(collections.Counter, name, function)
        try:
            self.assertEqual(decode(encode(collections.Counter("aa"))), {"a": 2})
        finally:
            for name, original in originals.items():
                if original is missing:
                    delattr(collections.Counter, name)
                else:
                    setattr(collections.Counter, name, original)
        self.assertEqual(collections.Counter(a=1, b=0), collections.Counter(a=1))  # Counter.__eq__ is back
        self.assertEqual(calls, [])
        with self.assertRaises(UnsupportedValue):  # a further subclass is not on the list
            encode(Sneaky("a"))


class RejectionTest(unittest.TestCase):
    def assert_unsupported(self, value, type_name):
        with self.assertRaises(UnsupportedValue) as caught:
            encode(value)
        self.assertIn(type_name, str(caught.exception))
        self.assertIsInstance(caught.exception, TypeError)

    def test_subclasses_with_custom_eq_are_rejected(self):
        class AlwaysInt(int):
            def __eq__(self, other):
                return True

        class AlwaysStr(str):
            def __eq__(self, other):
                return True

        class AlwaysList(list):
            def __eq__(self, other):
                return True

        class AlwaysDict(dict):
            def __eq__(self, other):
                return True

        for cls, payload in ((AlwaysInt, 3), (AlwaysStr, "x"), (AlwaysList, [1]), (AlwaysDict, {"a": 1})):
            with self.subTest(cls=cls.__name__):
                self.assert_unsupported(cls(payload), cls.__qualname__)
                self.assert_unsupported([1, {"k": cls(payload)}], cls.__qualname__)  # nested too

    def test_always_equal_object_is_rejected(self):
        class Anything:
            def __eq__(self, other):
                return True

            __hash__ = object.__hash__

        self.assert_unsupported(Anything(), "Anything")
        self.assert_unsupported({Anything()}, "Anything")
        self.assert_unsupported({Anything(): 1}, "Anything")

    def test_lying_class_attribute_and_metaclass_are_not_consulted(self):
        called = []

        class Meta(type):
            def __eq__(cls, other):
                called.append("eq")
                return True

            def __hash__(cls):
                called.append("hash")
                return 0

        class Liar(metaclass=Meta):
            __class__ = property(lambda self: int)  # isinstance(Liar(), int) is True

        self.assertIsInstance(Liar(), int)
        self.assert_unsupported(Liar(), "Liar")
        self.assertEqual(called, [])

    def test_other_types_are_rejected(self):
        for value, name in ((object(), "object"), (range(3), "range"), (iter([1]), "list_iterator"),
                            (bytearray(b"a"), "bytearray"), (len, "builtin_function_or_method"),
                            (Ellipsis, "ellipsis"), (collections.deque([1]), "collections.deque")):
            with self.subTest(name=name):
                self.assert_unsupported(value, name)

    def test_cycles_are_rejected_without_recursing_forever(self):
        looped = [1]
        looped.append(looped)
        self.assert_unsupported(looped, "cyclic list")
        mapping = {}
        mapping["self"] = [mapping]
        self.assert_unsupported(mapping, "cyclic dict")

    def test_shared_but_acyclic_references_are_fine(self):
        shared = [1, 2]
        self.assertEqual(decode(encode([shared, shared, (shared,)])), [[1, 2], [1, 2], ([1, 2],)])

    def test_size_and_depth_are_bounded(self):
        with self.assertRaises(ValueTooLarge):
            encode("x" * 2000, max_bytes=1000)
        with self.assertRaises(ValueTooLarge):
            encode(list(range(200)), max_bytes=1000)  # 200 nodes * 8 bytes > 1000
        with self.assertRaises(ValueTooLarge):
            encode(b"\x00" * 600, max_bytes=1000)  # bytes cost 2 per byte (hex)
        with self.assertRaises(ValueTooLarge):
            encode(2 ** 10000, max_bytes=1000)  # ~2500 hex digits
        self.assertEqual(decode(encode("x" * 900, max_bytes=1000)), "x" * 900)
        nested = []
        for _ in range(150):
            nested = [nested]
        with self.assertRaises(ValueTooLarge):
            encode(nested)
        self.assertEqual(decode(encode(nested, max_depth=200), max_depth=200), nested)

    def test_exponential_sharing_hits_the_size_limit_quickly(self):
        value = []
        for _ in range(60):  # 2**60 leaves if expanded
            value = [value, value]
        with self.assertRaises(ValueTooLarge):
            encode(value, max_bytes=1 << 20)  # (the default 16 MiB takes a few seconds)

    def test_monkeypatched_builtins_do_not_affect_encoding(self):
        saved = {name: getattr(builtins, name) for name in ("type", "isinstance", "len", "list", "iter", "id", "hex")}
        try:
            builtins.type = lambda *args: int
            builtins.isinstance = lambda *args: True
            builtins.len = lambda *args: 0
            builtins.list = tuple
            builtins.iter = lambda *args: iter(())
            builtins.id = lambda *args: 0
            builtins.hex = lambda *args: "0x0"
            encoded = encode({"a": [1, 2**70, "xyz"], "b": (2.5,)})
        finally:
            for name, value in saved.items():
                setattr(builtins, name, value)
        self.assertEqual(decode(encoded), {"a": [1, 2**70, "xyz"], "b": (2.5,)})


class DecodeTest(unittest.TestCase):
    def test_malformed_input_is_rejected(self):
        bad = [
            1.5, ["q", "x"], ["i", "0x5"], ["i", "zz"], ["f", "1" * 50], ["f", 1.0], ["f", "abc"],
            ["s", [["l", []]]], ["d", [[["l", []], 1]]], ["d", [[1]]], ["l", "notalist"], ["c", "1"],
            {"a": 1}, ["l"], [], ["b", "0"], ["t", [["x", 1]]],
        ]
        for obj in bad:
            with self.subTest(obj=obj):
                with self.assertRaises(MalformedValue):
                    decode(obj)

    def test_loads_rejects_non_json_and_oversized_and_deep_input(self):
        for text in ("", "{", "NaN", "[" * 100000 + "]" * 100000):
            with self.subTest(text=text[:10]):
                with self.assertRaises(MalformedValue):
                    loads(text)
        with self.assertRaises(MalformedValue):
            loads(dumps("x" * 100), max_bytes=50)

    def test_hash_flooding_sets_are_rejected(self):
        modulus = 2**61 - 1  # hash(k * modulus) == 0 for every int k on 64-bit CPython
        colliding = [k * modulus for k in range(1, 200)]
        self.assertEqual(len({hash(item) for item in colliding}), 1)
        forged = ["s", [["i", hex(item)] if abs(item) >= 2**63 else item for item in colliding]]
        with self.assertRaises(MalformedValue):
            decode(forged)
        with self.assertRaises(MalformedValue):
            decode(["d", [[item, 0] for item in forged[1]]])
        self.assertEqual(len(decode(["s", list(range(1000))])), 1000)  # ordinary big sets are fine

    def test_check_hash_spread_counts_runs(self):
        codec.check_hash_spread(list(range(10)))
        with self.assertRaises(ValueError):
            codec.check_hash_spread([k * (2**61 - 1) for k in range(1, codec.MAX_SAME_HASH + 2)])


class CompiledProbeTest(unittest.TestCase):
    """The worker -> child wire: probes compiled in the worker, marshalled to the child."""

    def setUp(self):
        from codeself.execution import supervise

        self.supervise = supervise

    def test_compiled_like_the_child_would(self):
        import marshal

        code = self.supervise.compiled_probe("f(2) + 1")
        self.assertEqual(code.co_filename, "<test>")
        shipped = marshal.loads(marshal.dumps({"probes": [code], "n": "ab"}))
        namespace = {"f": lambda x: x * 10}
        self.assertEqual(eval(shipped["probes"][0], namespace), 21)  # 2 * 10 + 1

    def test_child_answers_code_and_text_probes_alike(self):
        from codeself.execution import child

        namespace = {"__name__": "candidate", "__builtins__": builtins}
        child._import({"program": "def f(x):\n    return [x, x * 2]\n", "setup": ""}, namespace)
        step = {"probes": [self.supervise.compiled_probe("f(3)"), "f(4)"]}
        self.assertEqual(child._answer(step, namespace, "f", 1 << 20), {"values": [["l", [3, 6]], ["l", [4, 8]]]})

    def test_uncompilable_and_huge_probes_travel_as_text(self):
        from codeself.execution import child

        self.assertEqual(self.supervise.compiled_probe("f(("), "f((")
        answer = child._answer({"probes": ["f(("]}, {"__builtins__": builtins}, "f", 1 << 20)
        self.assertEqual(answer["error"]["type"], "SyntaxError")
        huge = "f(" + "1" * (self.supervise.MAX_COMPILED_PROBE + 1) + ")"
        self.assertEqual(self.supervise.compiled_probe(huge), huge)
        self.assertNotIsInstance(self.supervise.compiled_probe("f(" + "1 + " * 2000 + "1)"), str)

    def test_the_worker_keeps_no_probe(self):
        """Nothing of a run's probes (hidden inputs) outlives it in the worker, so a child forked
        later cannot find an earlier run's probes through the worker's modules."""
        import gc

        from codeself.execution import worker

        secret = "f('canary-5b1f0e')"
        self.supervise.compiled_probe(secret)
        gc.collect()
        for module in (self.supervise, worker):
            for value in vars(module).values():
                if isinstance(value, (dict, list, set, tuple)) or hasattr(value, "__dict__"):
                    self.assertNotIn("canary-5b1f0e", repr(getattr(value, "__dict__", value)), module.__name__)


if __name__ == "__main__":
    unittest.main()
