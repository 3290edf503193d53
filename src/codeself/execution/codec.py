"""The closed value codec: the only way a value travels from a candidate's process to the parent.

Why it exists: harnesses that compare `candidate_value == expected` inside the candidate's
process can be beaten by a returned object whose `__eq__` always says yes. Here the child
encodes each probe value into plain JSON-compatible data, and the parent decodes it into
fresh builtin objects, so the comparison in the parent never runs a method the candidate
wrote.

Accepted values (exact types only, checked with `type(v) is T`; subclasses are refused):
None, bool, int, float (incl. inf, -inf, nan, -0.0), complex, str, bytes, list, tuple,
dict, set, frozenset, nested freely within the limits. One closed exception:
collections.Counter, defaultdict and OrderedDict (exact types) are sent as plain dicts.

Wire format (JSON-compatible; every JSON list is a tagged node, so nothing is ambiguous):

| value                      | encoded as                         |
|----------------------------|------------------------------------|
| None / True / False        | null / true / false                |
| int, -2**63 <= n < 2**63   | JSON integer                       |
| other int                  | ["i", hex string]  (no digit limit)|
| float                      | ["f", repr(v)] (exact round trip, incl. "-0.0", "inf", "nan") |
| complex                    | ["c", repr(real), repr(imag)]      |
| str                        | JSON string                        |
| bytes                      | ["b", hex string]                  |
| list / tuple / set / frozenset | ["l" / "t" / "s" / "F", [items...]] |
| dict                       | ["d", [[key, value], ...]] (insertion order kept) |

Limits (defaults; both keyword-overridable): `max_bytes` = 16 MiB of approximate encoded
size and `max_depth` = 100 levels of nesting. Past them `ValueTooLarge`; a cycle is an
`UnsupportedValue`. nan payload bits and the sign of a nan are not preserved.
Strings may hold lone surrogates: transport the result with `json.dumps(..., ensure_ascii=True)`
(the default), or use `dumps`/`loads` below.

Trust model: `encode` runs in the child after candidate code, so it captures every builtin
it uses at import time (the worker must import this module BEFORE running candidate code);
later monkeypatching of `builtins` does not affect it. That is robustness, not the security
boundary — a hostile child can always write any bytes it likes to its channel. The boundary
is `decode` (strict validation, builtin objects only, bounded) plus the parent-side judge,
which holds the expected values the child never sees.
"""

from __future__ import annotations

import collections as _collections
import gc as _gc
import json as _json
from typing import Any

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_DEPTH = 100
_SMALL_INT_LIMIT = 2**63

# Builtins captured at import time: candidate code may rebind `builtins.type` etc. later.
_type = type
_id = id
_len = len
_hex = hex
_int = int
_str = str
_list = list
_tuple = tuple
_set = set
_frozenset = frozenset
_dict = dict
_float = float
_complex = complex
_bytes = bytes
_bool = bool
_float_repr = float.__repr__
_bytes_hex = bytes.hex
_int_bit_length = int.bit_length
_dict_items = dict.items
_dict_len = dict.__len__
_list_append = list.append
_set_add = set.add
_iter = iter
_complex_real = complex.real.__get__
_complex_imag = complex.imag.__get__
_gc_isenabled, _gc_disable, _gc_enable = _gc.isenabled, _gc.disable, _gc.enable
# The only subclasses accepted: stdlib dict subclasses that reference solutions return
# (MBPP 40, 88, 653, 902). Their raw storage is read with `dict.items`, so nothing the
# candidate may have patched onto these classes runs; they decode as plain dicts, which
# compare with dict literals exactly as the originals do.
_DICT_SUBCLASSES = (_collections.Counter, _collections.defaultdict, _collections.OrderedDict)

_set_discard = set.discard
_type_qualname = type.__dict__["__qualname__"].__get__
_type_module = type.__dict__["__module__"].__get__
_NODE_COST = 8  # approximate bytes per encoded node (brackets, tag, separators)


class UnsupportedValue(TypeError):
    """The value (or something inside it) is not of an exactly supported builtin type."""


class ValueTooLarge(ValueError):
    """The encoded value would exceed the size or depth limit."""


class MalformedValue(ValueError):
    """`decode` was given data that `encode` cannot have produced."""


class _Encoder:
    __slots__ = ("budget", "max_depth", "on_path")

    def __init__(self, max_bytes: int, max_depth: int) -> None:
        self.budget = max_bytes
        self.max_depth = max_depth
        self.on_path: set = _set()

    def spend(self, cost: int) -> None:
        self.budget -= cost
        if self.budget < 0:
            raise ValueTooLarge("value too large to return: encoded size exceeds the limit")

    def encode(self, value: Any, depth: int) -> Any:
        """Encode one node; its own _NODE_COST was already charged by the caller."""
        kind = _type(value)
        if value is None or kind is _bool:
            return value
        if kind is _int:
            if -_SMALL_INT_LIMIT <= value < _SMALL_INT_LIMIT:
                return value
            self.spend(_int_bit_length(value) // 4 + 1)
            return ["i", _hex(value)]
        if kind is _float:
            return ["f", _float_repr(value)]
        if kind is _complex:
            return ["c", _float_repr(_complex_real(value)), _float_repr(_complex_imag(value))]
        if kind is _str:
            self.spend(_len(value))
            return value
        if kind is _bytes:
            self.spend(2 * _len(value))
            return ["b", _bytes_hex(value)]
        # identity tests only: `kind in {...}` would hash `kind`, running a metaclass __hash__
        if kind is _list or kind is _tuple or kind is _set or kind is _frozenset or kind is _dict:
            return self.encode_container(value, kind, depth)
        if kind is _DICT_SUBCLASSES[0] or kind is _DICT_SUBCLASSES[1] or kind is _DICT_SUBCLASSES[2]:
            return self.encode_container(value, _dict, depth)
        raise UnsupportedValue(f"cannot return a value of type {_type_name(kind)}: only None, bool, int, "
                               "float, complex, str, bytes, list, tuple, dict, set and frozenset "
                               "(exact types, no subclasses) can be returned")

    def encode_container(self, value: Any, kind: type, depth: int) -> list:
        if depth >= self.max_depth:
            raise ValueTooLarge(f"value too deeply nested to return (more than {self.max_depth} levels)")
        key = _id(value)
        if key in self.on_path:
            raise UnsupportedValue(f"cannot return a cyclic {_type_name(kind)} (it contains itself)")
        # charge the container's brackets and tag, and every direct child up front
        # (len of an exact builtin is the builtin's own)
        # (dict.__len__, not len(): a patched Counter.__len__ must not skew the budget)
        self.spend(_NODE_COST * (1 + (2 * _dict_len(value) if kind is _dict else _len(value))))
        _set_add(self.on_path, key)
        items: list = []
        encode = self.encode
        depth += 1
        if kind is _dict:
            for item_key, item_value in _iter(_dict_items(value)):
                _list_append(items, [encode(item_key, depth), encode(item_value, depth)])
            tag = "d"
        else:
            # exact builtin type, so iteration uses the builtin's own __iter__
            for item in _iter(value):
                item_kind = _type(item)
                if item_kind is _int and -_SMALL_INT_LIMIT <= item < _SMALL_INT_LIMIT:
                    _list_append(items, item)  # fast path for the commonest element
                else:
                    _list_append(items, encode(item, depth))
            tag = "l" if kind is _list else "t" if kind is _tuple else "s" if kind is _set else "F"
        _set_discard(self.on_path, key)
        return [tag, items]


def _type_name(kind: type) -> str:
    try:  # the base `type` descriptors, so a metaclass property cannot run here
        module = _type_module(kind)
        name = _type_qualname(kind)
    except Exception:
        return "<unknown type>"
    if _type(module) is not _str or _type(name) is not _str:
        return "<unknown type>"
    label = name if module == "builtins" else f"{module}.{name}"
    return label if _len(label) <= 100 else "..." + label[-97:]


def encode(value: Any, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """JSON-compatible encoding of `value`; raises UnsupportedValue or ValueTooLarge."""
    encoder = _Encoder(max_bytes, max_depth)
    encoder.spend(_NODE_COST)
    collecting = _gc_isenabled()
    if collecting:  # the output is acyclic; collections during a big encode cost ~3x the time
        _gc_disable()
    try:
        return encoder.encode(value, 0)
    finally:
        if collecting:
            _gc_enable()


def decode(obj: Any, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Fresh builtin objects from `encode`'s output; MalformedValue for anything else.

    Runs in the parent on data a hostile child may have forged, so every node is validated.
    """
    try:
        return _decode(obj, 0, max_depth)
    except MalformedValue:
        raise
    except (TypeError, ValueError, OverflowError, RecursionError) as error:
        raise MalformedValue(f"malformed encoded value: {type(error).__name__}: {str(error)[:200]}") from None


def _decode(obj: Any, depth: int, max_depth: int) -> Any:
    kind = type(obj)
    if obj is None or kind in (bool, int, str):
        return obj
    if kind is not list or len(obj) < 2 or type(obj[0]) is not str:
        raise MalformedValue(f"malformed encoded value: unexpected {kind.__name__}")
    tag = obj[0]
    if tag in ("l", "t", "s", "F", "d"):
        return _decode_container(obj, tag, depth, max_depth)
    if tag == "c" and len(obj) == 3:
        return complex(_decode_float(obj[1]), _decode_float(obj[2]))
    if len(obj) != 2 or type(obj[1]) is not str:
        raise MalformedValue(f"malformed encoded value: bad node with tag {tag[:10]!r}")
    if tag == "i":
        value = int(obj[1], 16)
        if -_SMALL_INT_LIMIT <= value < _SMALL_INT_LIMIT:
            raise MalformedValue("malformed encoded value: small int in big-int form")
        return value
    if tag == "f":
        return _decode_float(obj[1])
    if tag == "b":
        return bytes.fromhex(obj[1])
    raise MalformedValue(f"malformed encoded value: unknown tag {tag[:10]!r}")


def _decode_float(text: Any) -> float:
    if type(text) is not str or not 0 < len(text) <= 40 or not text.isascii():
        raise MalformedValue("malformed encoded value: bad float")
    return float(text)


def _decode_container(obj: list, tag: str, depth: int, max_depth: int) -> Any:
    if len(obj) != 2 or type(obj[1]) is not list:
        raise MalformedValue(f"malformed encoded value: bad {tag!r} node")
    if depth >= max_depth:
        raise MalformedValue("malformed encoded value: nested too deeply")
    if tag == "d":
        pairs = []
        for pair in obj[1]:
            if type(pair) is not list or len(pair) != 2:
                raise MalformedValue("malformed encoded value: bad dict entry")
            pairs.append((_decode(pair[0], depth + 1, max_depth), _decode(pair[1], depth + 1, max_depth)))
        check_hash_spread([key for key, _value in pairs])
        return dict(pairs)
    items = [_decode(item, depth + 1, max_depth) for item in obj[1]]
    if tag == "l":
        return items
    if tag != "t":
        check_hash_spread(items)
    return {"t": tuple, "s": set, "F": frozenset}[tag](items)


MAX_SAME_HASH = 64  # elements sharing one hash value allowed in a decoded set / dict


def check_hash_spread(keys: list) -> None:
    """Refuse hash-flooding input: many distinct keys with one hash make set/dict building quadratic.

    Ints and tuples hash deterministically, so a hostile child could send 10**5 ints with
    equal hashes and stall the parent inside `set(...)`. Sorting the hashes (no hashing of
    hashes, which could itself be flooded) finds the longest run of equal values.
    """
    if len(keys) <= MAX_SAME_HASH:
        return
    hashes = sorted(hash(key) for key in keys)
    run = 1
    for previous, current in zip(hashes, hashes[1:]):
        run = run + 1 if current == previous else 1
        if run > MAX_SAME_HASH:
            raise ValueError(f"{len(keys)} set elements / dict keys include more than {MAX_SAME_HASH} "
                             "with the same hash (hash flooding)")


def dumps(value: Any, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH) -> str:
    """`encode` then compact ASCII JSON: the text form to put on the child's channel."""
    return _json.dumps(encode(value, max_bytes=max_bytes, max_depth=max_depth),
                       ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def loads(text: str | bytes, *, max_bytes: int = 4 * DEFAULT_MAX_BYTES,
          max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse and `decode` text from an untrusted channel; MalformedValue on any problem."""
    if len(text) > max_bytes:
        raise MalformedValue(f"malformed encoded value: {len(text)} bytes exceeds the {max_bytes}-byte limit")
    try:
        obj = _json.loads(text)
    except (ValueError, RecursionError, UnicodeDecodeError) as error:
        raise MalformedValue(f"malformed encoded value: not JSON ({type(error).__name__})") from None
    return decode(obj, max_depth=max_depth)
