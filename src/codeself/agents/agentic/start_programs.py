"""Seeded transformations of a reference solution into repair starts, one family per category.

Each function yields candidate `Mutation`s (program + description; the description's first
word names the transformation) in a seeded order; `categories.py` runs them in the sandbox and
keeps the first that really shows the category's defect. Why several per category: any one
transformation may not apply to a given reference, or may leave it correct.

* **syntax** (`syntax_candidates`): text edits that break compilation the ways people do —
  a missing `:` after a block header, `=` for `==` in a condition, a dropped `)`, a misspelt
  `return`, a line indented once too far — then `mutations.break_syntax` as a last resort.
  Every candidate is checked with `compile` here; the sandbox confirms it (phase "syntax").
* **type_error** (`type_error_candidates`): AST edits that make the program raise TypeError —
  iterating over `len(x)` instead of `x` ("forgot range()"), a numeric constant written as a
  string, an operand wrapped in `str()`, an extra argument to a one-argument builtin, None
  passed as a call's first argument.
* **algorithmic** (`quadratic_variants`): the reference, unchanged, behind a copy of its first
  argument made in quadratic time by Python-level loops (walking to each index in turn, or
  recounting the length at every index). It returns the same values, so it passes every test;
  only the efficiency measurement (instructions at `metadata.scale_inputs`) tells it apart.
  Built-in calls hide their inner loops from the instruction count, so the slow part is
  written as Python loops on purpose. Needs a list, tuple, string or dict first argument.

Logic starts are the existing operator/constant mutations (`mutations.mutation_candidates`);
security starts are the vulnerable variants of `generated_security`.
"""

from __future__ import annotations

import ast
import random
import re
from collections.abc import Iterator

from codeself.agents.backends.mutations import Mutation, break_syntax

HEADER = re.compile(r"^(\s*(?:def|if|elif|else|for|while|try|except|with|class)\b[^\n]*?):(\s*(?:#[^\n]*)?)$")
CONDITION = re.compile(r"^(\s*(?:if|elif|while)\b[^\n]*?) == ")
RETURN_VALUE = re.compile(r"^(\s*)return (?=\S)")
ONE_ARGUMENT_BUILTINS = ("len", "abs", "sorted", "reversed", "ord", "chr", "list", "tuple", "set", "str", "int")


def _compiles(code: str) -> bool:
    try:
        compile(code, "<start>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _line_edits(lines: list[str]) -> list[tuple[int, str, str]]:
    """(line index, new line, description) for every syntax edit that applies to a line."""
    edits = []
    for index, line in enumerate(lines):
        number = index + 1
        if match := HEADER.match(line):
            edits.append((index, match.group(1) + match.group(2), f"missing_colon at line {number}"))
        if match := CONDITION.match(line):
            edits.append((index, line.replace(" == ", " = ", 1), f"assign_in_condition at line {number}"))
        if line.rstrip().endswith(")") and "(" in line:
            stripped = line.rstrip()
            edits.append((index, stripped[:-1], f"unclosed_paren at line {number}"))
        if RETURN_VALUE.match(line):
            edits.append((index, RETURN_VALUE.sub(r"\1retrun ", line, count=1), f"misspelt_keyword at line {number}"))
        previous = lines[index - 1].rstrip() if index else ""
        if index and line.strip() and previous and not previous.endswith((":", "\\", ",", "(", "[", "{")):
            edits.append((index, "  " + line, f"over_indented at line {number}"))
    return edits


def syntax_candidates(code: str, rng: random.Random) -> Iterator[Mutation]:
    """Programs that do not compile, each one edit away from `code` (module docstring)."""
    lines = code.rstrip("\n").split("\n")
    edits = _line_edits(lines)
    rng.shuffle(edits)
    for index, new_line, description in edits:
        broken = "\n".join(lines[:index] + [new_line] + lines[index + 1:]) + "\n"
        if not _compiles(broken):
            yield Mutation(broken, description)
    fallback = break_syntax(code, rng)
    yield Mutation(fallback.code, "break_syntax: " + fallback.description)


class _TypeSites(ast.NodeVisitor):
    """Where a TypeError can be planted, in source order: (kind, node)."""

    def __init__(self) -> None:
        self.sites: list[tuple[str, ast.AST]] = []
        self._docstrings: set[int] = set()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        first = node.body[0] if node.body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            self._docstrings.add(id(first.value))
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self.sites.append(("iterate_len", node))
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.sites.append(("iterate_len", node))
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mod, ast.FloorDiv, ast.Div, ast.Pow)):
            self.sites.append(("str_operand", node))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if type(node.value) in (int, float) and id(node) not in self._docstrings:
            self.sites.append(("quoted_number", node))

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id in ONE_ARGUMENT_BUILTINS and len(node.args) == 1:
            self.sites.append(("extra_argument", node))
        if node.args and not (isinstance(node.func, ast.Name) and node.func.id in ("str", "repr", "print", "bool")):
            self.sites.append(("none_argument", node))
        self.generic_visit(node)


def _type_sites(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    visitor = _TypeSites()
    visitor.visit(tree)
    return visitor.sites


def _plant(kind: str, node: ast.AST) -> str:
    line = getattr(node, "lineno", getattr(getattr(node, "iter", None), "lineno", "?"))
    if kind == "iterate_len":
        node.iter = ast.Call(ast.Name("len", ast.Load()), [node.iter], [])
    elif kind == "str_operand":
        node.left = ast.Call(ast.Name("str", ast.Load()), [node.left], [])
    elif kind == "quoted_number":
        node.value = str(node.value)
    elif kind == "none_argument":
        node.args[0] = ast.Constant(None)
    else:
        node.args.append(node.args[0])
    return f"{kind} at line {line}"


def type_error_candidates(code: str, rng: random.Random) -> Iterator[Mutation]:
    """Programs one AST edit away from `code` that are meant to raise TypeError (module
    docstring); whether one does on the task's tests is for the sandbox to say."""
    count = len(_type_sites(ast.parse(code)))
    order = list(range(count))
    rng.shuffle(order)
    seen = {ast.unparse(ast.parse(code))}
    for index in order:
        tree = ast.parse(code)  # fresh per candidate: sites come in the same order
        kind, node = _type_sites(tree)[index]
        description = _plant(kind, node)
        program = ast.unparse(ast.fix_missing_locations(tree))
        if program not in seen:
            seen.add(program)
            yield Mutation(program + "\n", description)


WALK_HELPER = ("def {helper}(items, index):\n    position = 0\n    for item in items:\n"
               "        if position == index:\n            return item\n        position += 1\n"
               "    raise IndexError(index)\n")
COUNT_HELPER = "def {helper}(items):\n    count = 0\n    for _ in items:\n        count += 1\n    return count\n"
# (flavour, helper, how the copy of parameter {p} is built as a list expression)
FLAVOURS = (
    ("walk_to_index", WALK_HELPER, "[{helper}({p}, index) for index in range(len({p}))]"),
    ("recount_length", COUNT_HELPER, "[{p}[index] for index in range(len({p})) if index < {helper}({p})]"),
)
REBUILD = {list: "{items}", tuple: "tuple({items})", str: "''.join({items})"}


def quadratic_variants(code: str, entry_point: str, first_argument: object,
                       rng: random.Random) -> Iterator[Mutation]:
    """`code` behind a quadratic-time copy of its entry point's first parameter, one per
    flavour that fits the argument's type (seeded order); nothing for other types."""
    kind = type(first_argument)
    flavours = [f for f in FLAVOURS if kind in REBUILD or (kind is dict and f[0] == "walk_to_index")]
    rng.shuffle(flavours)
    for flavour, helper_template, items_template in flavours:
        tree = ast.parse(code)
        function = next((node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == entry_point
                         and node.args.args), None)
        if function is None:
            return
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} | {
            node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        helper = "_item_at" if flavour == "walk_to_index" else "_length_of"
        while helper in names:
            helper += "_"
        parameter = function.args.args[0].arg
        items = items_template.format(helper=helper, p=parameter)
        if kind is dict:
            rebuilt = f"{{key: {parameter}[key] for key in {items}}}"
        else:
            rebuilt = REBUILD[kind].format(items=items)
        first = 1 if (function.body and isinstance(function.body[0], ast.Expr)
                      and isinstance(function.body[0].value, ast.Constant)) else 0
        function.body.insert(first, ast.parse(f"{parameter} = {rebuilt}").body[0])
        tree.body.insert(tree.body.index(function), ast.parse(helper_template.format(helper=helper)).body[0])
        yield Mutation(ast.unparse(ast.fix_missing_locations(tree)) + "\n",
                       f"{flavour}: a quadratic copy of `{parameter}` before the reference's body")
