"""The rewrite behind builtin charges (meter.py): what the measuring child imports.

Why a rewrite: work inside a C builtin is one instruction to the tracer, so `a.count(x)` in
a loop would score like a linear answer. `a in b`, `a[i:j]`, `a + b` (and *, -, |, &, ^,
their augmented forms on a plain name) and calls of CHARGED_FUNCTIONS names or
CHARGED_METHODS attributes become calls of the meter's helpers, which do the same operation
(same value, same exceptions, same evaluation order) and charge its size. Annotations and
match patterns are left alone (patterns must stay literals). The reference gets the same
rewrite, so both sides of a score are counted alike.

Numbers are not routed through a helper. An operation on two numbers is charged nothing, yet
a helper call under the tracer costs several traced instructions and hooks: it was half of
measuring a loop like `total += x`. So an operand the rewrite can tell is a number leaves
the operation as written: a numeric literal (not beside `*`, as in `[0] * n`), or a
*numeric local* (`numeric_locals`), and with one of them beside +, -, |, &, ^ the other
operand is a number too, or the operation raises TypeError (a builtin sequence, set or dict
has no such operator with a number). The exception is a class whose operator methods return
something else (the program's own `__radd__` returning a list, or a library's, as
`0 + collections.UserString("a")` gives a UserString): such a value is not charged
afterwards either, as `self.a += b` is not (docs/schemas.md lists what is not charged).
This changes the count, not just its speed: COST_MODEL says which rule a record used.
"""

from __future__ import annotations

import ast
import marshal
from typing import Any

from codeself.execution import meter, scan

# augmented assignments that keep a number a number (or raise): not `*=` ([0] repeated) or `@=`
_NUMERIC_UPDATES = (ast.Add, ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift, ast.BitOr,
                    ast.BitAnd, ast.BitXor)
_NUMBER_TYPES = (int, float, complex)  # bool is an int
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)  # where a statement's names are bound


def numeric_locals(tree: ast.Module) -> dict[ast.AST, frozenset[str]]:
    """Per function, the local names that can only hold a number: every binding of the name in
    the whole program is a statement of that one function (`name = value`, `name: T = value`,
    or an augmented assignment other than `*=` and `@=`), every such value is a numeric
    expression (`_numeric`: literals, and operators over numeric locals and literals), and the
    name is never bound any other way anywhere (parameter, loop or `with` target, unpacking,
    walrus, import, `except ... as`, match capture, `del`, `global`, `nonlocal`, def or class
    name). Inside that function and the scopes nested in it, the name then means that local."""
    bound_elsewhere: set[str] = set()  # names bound some other way, in any scope
    assigned: dict[str, list[tuple[ast.AST, ast.AST | None]]] = {}  # name -> (scope, value or None for +=)
    direct: set[int] = set()  # ids of the Name targets of the statements recorded in `assigned`
    pending: list[tuple[ast.AST, ast.AST | None]] = [(tree, None)]
    while pending:
        node, scope = pending.pop()
        kind = type(node)
        if kind in (ast.Assign, ast.AnnAssign, ast.AugAssign):
            targets = node.targets if kind is ast.Assign else [node.target]
            augmented = kind is ast.AugAssign
            if all(type(target) is ast.Name for target in targets) and (
                    not augmented or isinstance(node.op, _NUMERIC_UPDATES)) and (augmented or node.value is not None):
                for target in targets:
                    assigned.setdefault(target.id, []).append((scope, None if augmented else node.value))
                    direct.add(id(target))
        elif kind is ast.Name:
            if type(node.ctx) is not ast.Load and id(node) not in direct:
                bound_elsewhere.add(node.id)
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            bound_elsewhere.add(node.name)
        elif kind is ast.arg:
            bound_elsewhere.add(node.arg)
        elif kind is ast.alias:
            bound_elsewhere.add((node.asname or node.name).split(".")[0])
        elif kind in (ast.Global, ast.Nonlocal):
            bound_elsewhere.update(node.names)
        elif kind is ast.ExceptHandler or kind is ast.MatchAs or kind is ast.MatchStar:
            if node.name:
                bound_elsewhere.add(node.name)
        elif kind is ast.MatchMapping and node.rest:
            bound_elsewhere.add(node.rest)
        inner = node if kind in _SCOPES else scope
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                pending.extend((item, inner) for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                pending.append((value, inner))
    candidates = {name: sites for name, sites in assigned.items()
                  if name not in bound_elsewhere and len({id(scope) for scope, _ in sites}) == 1
                  and type(sites[0][0]) in (ast.FunctionDef, ast.AsyncFunctionDef)}
    changed = True
    while changed:  # the greatest set whose every assigned value is numeric given the set itself
        changed = False
        for name in [name for name, sites in candidates.items()
                     if not all(value is None or _numeric(value, candidates) for _, value in sites)]:
            del candidates[name]
            changed = True
    found: dict[ast.AST, set[str]] = {}
    for name, sites in candidates.items():
        found.setdefault(sites[0][0], set()).add(name)
    return {scope: frozenset(names) for scope, names in found.items()}


def _numeric(node: ast.AST, names, depth: int = 4) -> bool:
    """True when `node` evaluates to a number (or raises) whenever each of `names` holds one.
    Looks `depth` operators deep at most (deeper is "not known"): the rewrite asks this of
    every operator's operands, and a long chain `a + b + ...` must not cost its square."""
    kind = type(node)
    if kind is ast.Constant:
        return isinstance(node.value, _NUMBER_TYPES)
    if kind is ast.Name:
        return node.id in names
    if depth == 0:
        return False
    if kind is ast.UnaryOp:
        return type(node.op) is ast.Not or _numeric(node.operand, names, depth - 1)
    if kind is ast.BinOp and isinstance(node.op, _NUMERIC_UPDATES):
        if type(node.op) is ast.Mod:  # "%d" % n formats a string: the left side must be the number
            return _numeric(node.left, names, depth - 1)
        return _numeric(node.left, names, depth - 1) or _numeric(node.right, names, depth - 1)
    return False


class _Charged(ast.NodeTransformer):
    """The rewrite of the module docstring.

    `visit` and `generic_visit` do what NodeTransformer's do for visitors that always return
    a node (all of these), without its generator per node and method lookup by name per
    visit: the rewrite runs on every answer an environment step measures."""

    def __init__(self, numeric: dict[ast.AST, frozenset[str]] | None = None) -> None:
        self._visitors: dict[type, Any] = {}
        self._numeric = numeric or {}
        self._in_scope: frozenset[str] = frozenset()  # numeric locals visible here

    def visit(self, node):
        visitor = self._visitors.get(type(node))
        if visitor is None:
            visitor = self._visitors[type(node)] = getattr(self, f"visit_{type(node).__name__}", self.generic_visit)
        return visitor(node)

    def generic_visit(self, node):
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for position, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        value[position] = self.visit(item)
            elif isinstance(value, ast.AST):
                setattr(node, name, self.visit(value))
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.In, ast.NotIn)):
            return node  # chained comparisons are not charged
        call = _helper("in", [node.left, node.comparators[0]], node)
        return ast.copy_location(ast.UnaryOp(ast.Not(), call), node) if isinstance(node.ops[0], ast.NotIn) else call

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load) or not isinstance(node.slice, ast.Slice):
            return node
        bounds = [part or ast.copy_location(ast.Constant(None), node)
                  for part in (node.slice.lower, node.slice.upper, node.slice.step)]
        return _helper("slice", [node.value, *bounds], node)

    def visit_BinOp(self, node):
        plain = self._plain(node.op, node.left, node.right)  # before the operands are rewritten
        self.generic_visit(node)
        name = meter.BINARY.get(type(node.op).__name__)
        if name is None or plain:
            return node
        return _helper(name, [node.left, node.right], node)

    def visit_AugAssign(self, node):
        plain = self._plain(node.op, node.target, node.value)
        self.generic_visit(node)
        name = meter.BINARY.get(type(node.op).__name__)
        if name is None or not isinstance(node.target, ast.Name) or plain:
            return node  # attribute and item targets are not charged (they would be evaluated twice)
        load = ast.copy_location(ast.Name(node.target.id, ast.Load()), node.target)
        return ast.copy_location(ast.Assign([node.target], _helper(f"i{name}", [load, node.value], node)), node)

    def _plain(self, op: ast.operator, *operands: ast.expr) -> bool:
        """True when the operation is arithmetic for sure: a number (`_numeric`: literals and
        numeric locals) beside +, -, |, &, ^, or numbers only beside * (`[0] * n` copies)."""
        if isinstance(op, ast.Mult):
            return all(_numeric(operand, self._in_scope) for operand in operands)
        return any(_numeric(operand, self._in_scope) for operand in operands)

    def visit_Call(self, node):
        self.generic_visit(node)
        function = node.func
        if (isinstance(function, ast.Name) and function.id in meter.CHARGED_FUNCTIONS) or \
                (isinstance(function, ast.Attribute) and function.attr in meter.CHARGED_METHODS):
            return ast.copy_location(ast.Call(_name("call", node), [function, *node.args], node.keywords), node)
        return node

    def visit_arg(self, node):
        return node  # an annotation

    def visit_FunctionDef(self, node):
        outer = self._in_scope
        names = self._numeric.get(node)
        if names:
            self._in_scope = outer | names
        try:
            return _without(self, node, "returns")
        finally:
            self._in_scope = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_AnnAssign(self, node):
        return _without(self, node, "annotation")

    def visit_match_case(self, node):
        return _without(self, node, "pattern")


def _without(visitor: ast.NodeTransformer, node: ast.AST, field: str) -> ast.AST:
    kept = getattr(node, field)
    setattr(node, field, None)
    visitor.generic_visit(node)
    setattr(node, field, kept)
    return node


def _name(helper: str, where: ast.AST) -> ast.Name:
    return ast.copy_location(ast.Name(f"{meter.HELPER_PREFIX}{helper}__", ast.Load()), where)


def _helper(helper: str, args: list, where: ast.AST) -> ast.Call:
    return ast.copy_location(ast.Call(_name(helper, where), args, []), where)


def charged_tree(program: str) -> ast.Module:
    """The program's tree, rewritten (without the helpers' import); SyntaxError etc. as ast.parse."""
    tree = ast.parse(program, "<candidate>")
    return _Charged(numeric_locals(tree)).visit(tree)


# `from codeself.execution.meter import __codeself_add__, ...`, placed in every rewritten tree
# (built once: compile() only reads it). Every node the rewrite makes has a location, the
# one ast.fix_missing_locations would give it, without walking the whole tree again: this
# import's is line 1, column 0.
_AT_START = {"lineno": 1, "col_offset": 0, "end_lineno": 1, "end_col_offset": 0}
_HELPER_IMPORT = ast.ImportFrom("codeself.execution.meter",
                                [ast.alias(name, **_AT_START) for name in sorted(meter.HELPERS)], 0, **_AT_START)


CACHE_SIZE = 1024  # programs whose rewrite is remembered (RL groups repeat programs)
MAX_CACHED_CODE = 1 << 16  # larger rewritten code is not kept (bounded memory)
_CACHE = scan.DigestCache(CACHE_SIZE)


def charged_code(program: str) -> bytes:
    """The program rewritten for builtin charges and compiled, marshalled (what the measuring
    child imports); b"" when it cannot be (the caller reports why). A pure function of the
    text, kept for recent programs: the efficiency cache's key is this code's digest, so a
    repeated program would otherwise pay the rewrite (~0.1 ms) just to find its cost."""
    key = scan.DigestCache.key(program)
    found, code = _CACHE.get(key)
    if not found:
        code = _charged_code(program)
        if len(code) <= MAX_CACHED_CODE:
            _CACHE.put(key, code)
    return code


def _charged_code(program: str) -> bytes:
    try:
        tree = charged_tree(program)
        body = tree.body
        start = 1 if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else 0
        while start < len(body) and isinstance(body[start], ast.ImportFrom) and body[start].module == "__future__":
            start += 1
        body.insert(start, _HELPER_IMPORT)
        return marshal.dumps(compile(tree, "<candidate>", "exec", dont_inherit=True, optimize=0))
    except (SyntaxError, ValueError, MemoryError, RecursionError, TypeError):
        return b""
