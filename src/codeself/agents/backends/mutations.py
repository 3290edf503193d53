"""Source mutations the mock backend uses to fabricate realistic wrong programs.

A "mutated" program differs from the reference by one small change a model might make:
a comparison operator (`<` vs `<=`), an arithmetic operator (`+` vs `-`, `//` vs `/`), an
integer constant off by one, or a wrong constant; a program with none of these loses one
statement of a function body instead (and only a program with no such statement either gets
`return None` as its body). A mutation may by chance leave the program correct (equivalent
mutants exist), so `mutation_candidates` also yields the alternatives in a seeded order: the
mock backend screens them in the sandbox and keeps the first that fails the task's tests.

Inside `while` statements only the loop condition is mutated, and only in ways that move the
last iteration by one step (`<` vs `<=`, `>` vs `>=`, an integer off by one): a changed loop
step easily loops forever, and the mock has a separate, explicit `infinite_loop` variant.
"""

from __future__ import annotations

import ast
import itertools
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

_COMPARE_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
                  ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_ARITH_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add,
                ast.FloorDiv: ast.Div, ast.Div: ast.FloorDiv, ast.Pow: ast.Mult}


@dataclass(frozen=True)
class Mutation:
    code: str  # the mutated program
    description: str  # e.g. "compare Lt->LtE at line 3"


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _nodes_outside_while(tree: ast.AST) -> tuple[list[ast.AST], list[ast.expr]]:
    """ast.walk order, skipping every `while` statement; also each skipped loop's condition."""
    nodes, conditions, stack = [], [], [tree]
    while stack:
        node = stack.pop(0)
        if isinstance(node, ast.While):
            conditions.append(node.test)
            continue
        nodes.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return nodes, conditions


_LOOP_SAFE_COMPARES = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _sites(tree: ast.AST) -> list[tuple[str, ast.AST, int]]:
    """(kind, node, position) for every mutable site, in a deterministic order.

    Inside `while` statements only the condition is mutated, and only by `<`/`<=`/`>`/`>=`
    swaps and integer off-by-one, which move the loop's last iteration by one step instead
    of making it endless.
    """
    docstrings = _docstring_nodes(tree)
    sites: list[tuple[str, ast.AST, int]] = []
    nodes, conditions = _nodes_outside_while(tree)
    for node in nodes:
        if isinstance(node, ast.Compare):
            sites.extend(("compare", node, i) for i, op in enumerate(node.ops) if type(op) in _COMPARE_SWAPS)
        elif isinstance(node, ast.BinOp) and type(node.op) in _ARITH_SWAPS:
            sites.append(("arith", node, 0))
        elif isinstance(node, ast.Constant) and id(node) not in docstrings:
            if type(node.value) is int:
                sites.extend([("off_by_one", node, 0), ("wrong_constant", node, 0)])
            elif type(node.value) in (float, str):
                sites.append(("wrong_constant", node, 0))
    for condition in conditions:
        for node in ast.walk(condition):
            if isinstance(node, ast.Compare):
                sites.extend(("compare", node, i) for i, op in enumerate(node.ops)
                             if isinstance(op, _LOOP_SAFE_COMPARES))
            elif isinstance(node, ast.Constant) and type(node.value) is int:
                sites.append(("off_by_one", node, 0))
    return sites


def _apply(kind: str, node: ast.AST, position: int, rng: random.Random) -> str:
    line = getattr(node, "lineno", "?")
    if kind == "compare":
        old = node.ops[position]
        node.ops[position] = _COMPARE_SWAPS[type(old)]()
        return f"compare {type(old).__name__}->{type(node.ops[position]).__name__} at line {line}"
    if kind == "arith":
        old = node.op
        node.op = _ARITH_SWAPS[type(old)]()
        return f"arith {type(old).__name__}->{type(node.op).__name__} at line {line}"
    old_value = node.value
    if kind == "off_by_one":
        node.value = old_value + rng.choice((-1, 1))
    elif type(old_value) is int:
        node.value = old_value * 2 + 3 if old_value != 0 else 2
    elif type(old_value) is float:
        node.value = old_value * 2 + 0.5
    else:
        node.value = old_value[:-1] if len(old_value) > 1 else old_value + "x"
    return f"{kind} {old_value!r}->{node.value!r} at line {line}"


def mutate(code: str, rng: random.Random) -> Mutation:
    """Apply one randomly chosen mutation; without any site, drop a statement instead."""
    first = next(mutation_candidates(code, rng), None)
    return first or Mutation(_return_none(code), "no mutable site: body replaced by `return None`")


def mutation_candidates(code: str, rng: random.Random) -> Iterator[Mutation]:
    """Every distinct mutant of `code`, lazily, in a seeded order: the operator and constant
    sites (shuffled), then dropped function-body statements (from a random start), then the
    body replaced by `return None`. The first one is what `mutate` returns, drawing the same
    random numbers, so a caller that takes only the first behaves exactly like `mutate`; the
    rest let a caller skip mutants that turn out equivalent to the reference."""
    seen = {ast.unparse(ast.parse(code)) + "\n"}
    last = Mutation(_return_none(code), "no mutable site: body replaced by `return None`")
    for mutation in itertools.chain(_site_mutations(code, rng), _drop_statements(code, rng), [last]):
        if mutation.code not in seen:
            seen.add(mutation.code)
            yield mutation


def _site_mutations(code: str, rng: random.Random) -> Iterator[Mutation]:
    order = list(range(len(_sites(ast.parse(code)))))
    rng.shuffle(order)
    for index in order:
        tree = ast.parse(code)  # a fresh tree per attempt: sites are found in the same order
        kind, node, position = _sites(tree)[index]
        description = _apply(kind, node, position, rng)
        yield Mutation(ast.unparse(tree) + "\n", description)


def _droppable(tree: ast.AST) -> list[tuple[ast.FunctionDef, int]]:
    """(function, index) of top-level body statements that may be deleted: not a docstring,
    `return`, nested function or `while` loop (deleting a loop's step could make it endless)."""
    found = []
    for node in _nodes_outside_while(tree)[0]:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = _after_docstring(node.body)
            found.extend((node, i) for i, stmt in enumerate(node.body)
                         if i >= first and not isinstance(stmt, (ast.Return, ast.FunctionDef, ast.While)))
    return found


def _drop_statements(code: str, rng: random.Random) -> Iterator[Mutation]:
    """Delete one statement of a function body ("forgot a line"), each in turn from a random start."""
    count = len(_droppable(ast.parse(code)))
    if not count:
        return
    start = rng.randrange(count)
    for index in [(start + step) % count for step in range(count)]:
        tree = ast.parse(code)
        function, position = _droppable(tree)[index]
        removed = function.body.pop(position)
        if not function.body:
            function.body.append(ast.Pass())
        yield Mutation(ast.unparse(tree) + "\n", f"dropped the statement at line {removed.lineno}")


def _return_none(code: str) -> str:
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.body = [ast.Return(value=ast.Constant(value=None))]
            return ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    return ast.unparse(tree) + "\nNone\n"


def add_infinite_loop(code: str, entry_point: str) -> str:
    """Put `while True: pass` first in the entry point's body (module top if not found)."""
    tree = ast.parse(code)
    loop = ast.While(test=ast.Constant(value=True), body=[ast.Pass()], orelse=[])
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            node.body.insert(_after_docstring(node.body), loop)
            break
    else:
        tree.body.insert(0, loop)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _after_docstring(body: list[ast.stmt]) -> int:
    first = body[0] if body else None
    is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    return 1 if is_doc and isinstance(first.value.value, str) else 0


_DEF_COLON = re.compile(r"^(\s*def [^\n]*\))(\s*(->[^\n:]*)?):(\s*(#.*)?)$", re.MULTILINE)


def break_syntax(code: str, rng: random.Random) -> Mutation:
    """A program that does not compile: a missing colon or an unclosed parenthesis."""
    candidates = []
    match = _DEF_COLON.search(code)
    if match:
        candidates.append((code[:match.start()] + match.group(1) + match.group(2) + (match.group(4) or "")
                           + code[match.end():], "missing ':' after def"))
    lines = code.rstrip("\n").split("\n")
    candidates.append(("\n".join(lines[:-1] + [lines[-1] + " + ("]) + "\n", "unclosed '(' on the last line"))
    broken, description = rng.choice(candidates)
    try:
        compile(broken, "<mock>", "exec", dont_inherit=True)
    except SyntaxError:
        return Mutation(broken, description)
    return Mutation(code + "\ndef (:\n", "appended 'def (:'")
