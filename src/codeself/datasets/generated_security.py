"""Security task families of the generated distribution: toy programs whose tests attack them.

Why a module of its own: the repair category `security` (codeself.agents.agentic.categories)
needs tasks where a plausible program passes ordinary inputs and fails hostile ones, and a
vulnerable starting program to repair. These families follow the conventions of
`generated_families` (placeholders, samplers; expected values come from running the
reference), with two additions: the first input, the public test, is always an attack that
every vulnerable variant below fails, and the hidden tests mix further attacks with benign
inputs (so "reject everything" fails too).

| family | the function ... | attacks in the tests |
|---|---|---|
| `safe_join` | joins a user path under a base directory, None when it escapes | `..`, absolute paths, a sibling directory sharing the base's prefix, `....//` |
| `build_query` | writes a value into an SQL query as a string literal (quotes doubled) | quotes that would end the literal (`' OR '1'='1`, `'; DROP TABLE ...`) |
| `render_html` | puts a user string in an element's text and `title` attribute, HTML-escaped | tags, quotes breaking out of the attribute, `&` |

`VULNERABLE` gives each family's vulnerable variants (the category's "transformation"):
templates with the family's placeholders, rendered for a task by `vulnerable_programs`.
Opt-in (`GeneratorConfig.security_tasks`, `prepare_datasets.py --security-tasks N`): without
it no generator version's files change.
"""

from __future__ import annotations

import random
from string import Template
from typing import Any

from codeself.datasets.generated_families import Family, Inputs, Params
from codeself.datasets.generated_families_text import WORDS
from codeself.datasets.snippets import python_source

BASES = ("/srv/app/uploads", "/var/www/static", "/home/app/files", "/data/exports", "/opt/site/media")
TABLES = (("users", "name"), ("orders", "city"), ("books", "title"), ("staff", "email"))
TAGS = ("span", "div", "p", "em")


def _base(rng: random.Random) -> Params:
    return {"base": rng.choice(BASES)}


def _join_inputs(rng: random.Random, p: Params) -> Inputs:
    base = p["base"]
    parent, last = base.rsplit("/", 1)
    word, other = rng.sample(WORDS, 2)
    return [(base, f"{parent}/{last}_old/{word}.pem"),  # absolute path into a sibling sharing the prefix
            (base, f"{word}/{other}.txt"), (base, f"{word}/../{other}.txt"),
            (base, "../" * rng.randint(2, 4) + "etc/passwd"), (base, f"/etc/{word}"),
            (base, f"../{last}_backup/{other}.txt"), (base, f"....//....//{word}.txt"), (base, ".")]


def _table(rng: random.Random) -> Params:
    table, column = rng.choice(TABLES)
    return {"table": table, "column": column, "head": f"SELECT * FROM {table} WHERE {column} = "}


def _query_inputs(rng: random.Random, p: Params) -> Inputs:
    word, other = rng.sample(WORDS, 2)
    return [(f"{word}' OR '1'='1",), (word,), (f"{other}'s {word}",), ("",),
            (f"'; DROP TABLE {p['table']}; --",), ("''",), (f"{word}\\' OR 1=1 --",)]


def _tag(rng: random.Random) -> Params:
    return {"tag": rng.choice(TAGS)}


def _html_inputs(rng: random.Random, p: Params) -> Inputs:
    word, other = rng.sample(WORDS, 2)
    return [(f'"><script>alert("{word}")</script>',), (f"{word} {other}",), (f"{word} & {other}",),
            (f"<b>{word}</b>",), (f"' onmouseover='alert(1)",), (f"{word} &lt; {other}",), ("",)]


SAFE_JOIN = Family(
    "safe_join", "join a user path under a base directory; None when it escapes",
    ("safe_join", "resolve_upload", "join_under", "contained_path"),
    (("base", "root", "directory"), ("user_path", "relative", "requested")),
    "a base directory `$a0` and a path `$a1` supplied by a user",
    ("returns posixpath.normpath(posixpath.join(`$a0`, `$a1`)) when that path is `$a0` itself or lies inside "
     "the directory `$a0`, and None when it would fall outside it (through `..` components, an absolute path, "
     "or a different directory whose name merely starts with the same characters)",
     "resolves `$a1` against `$a0` the way posixpath.normpath(posixpath.join(...)) does and returns the "
     "result only if it stays within the directory `$a0` (or is `$a0`); any path that escapes it, for "
     "example with `..` or by being absolute, gives None"),
    "import posixpath\n\n\ndef $name($a0, $a1):\n    root = posixpath.normpath($a0)\n"
    "    joined = posixpath.normpath(posixpath.join(root, $a1))\n"
    "    if joined == root or joined.startswith(root.rstrip('/') + '/'):\n        return joined\n    return None\n",
    _join_inputs, _base, "base directory from 5")
BUILD_QUERY = Family(
    "build_query", "an SQL query with a value quoted as a string literal",
    ("build_query", "lookup_query", "make_select", "query_for"), (("value", "term", "needle", "user_input"),),
    "a string `$a0` supplied by a user",
    ("returns the SQL text `SELECT * FROM $table WHERE $column = ` followed by `$a0` written as an SQL string "
     "literal: in single quotes, with every single quote inside it doubled, and nothing else changed",
     "builds the query `SELECT * FROM $table WHERE $column = <literal>` where <literal> is `$a0` between single "
     "quotes with each ' in it written as '' (standard SQL quoting; backslashes are ordinary characters)"),
    "def $name($a0):\n    return $head + \"'\" + $a0.replace(\"'\", \"''\") + \"'\"\n",
    _query_inputs, _table, "table and column from 4 pairs")
RENDER_HTML = Family(
    "render_html", "a user string in an element's text and title attribute, HTML-escaped",
    ("render_html", "render_label", "html_tag", "render_user_text"), (("text", "label", "user_text"),),
    "a string `$a0` supplied by a user",
    ("returns the HTML `<$tag title=\"X\">X</$tag>` where X is `$a0` escaped with html.escape(..., quote=True), "
     "so that &, <, >, \" and ' become &amp;, &lt;, &gt;, &quot; and &#x27;",
     "renders `$a0` as the text and the title attribute of a `$tag` element, `<$tag title=\"X\">X</$tag>`, with X "
     "the HTML-escaped text (html.escape with quote=True: ampersands, angle brackets and both quote characters)"),
    "import html\n\n\ndef $name($a0):\n    escaped = html.escape($a0, quote=True)\n"
    "    return '<' + $tag + ' title=\"' + escaped + '\">' + escaped + '</' + $tag + '>'\n",
    _html_inputs, _tag, "tag from 4")
SECURITY_FAMILIES = (SAFE_JOIN, BUILD_QUERY, RENDER_HTML)
SECURITY_FAMILY_NAMES = tuple(family.name for family in SECURITY_FAMILIES)

# family -> (variant, template): each a plausible program that the public attack defeats
VULNERABLE: dict[str, tuple[tuple[str, str], ...]] = {
    "safe_join": (
        ("unchecked_join", "import posixpath\n\n\ndef $name($a0, $a1):\n"
                           "    return posixpath.normpath(posixpath.join($a0, $a1))\n"),
        ("dotdot_filter", "import posixpath\n\n\ndef $name($a0, $a1):\n    if '..' in $a1:\n        return None\n"
                          "    return posixpath.normpath(posixpath.join($a0, $a1))\n"),
        ("prefix_check", "import posixpath\n\n\ndef $name($a0, $a1):\n    root = posixpath.normpath($a0)\n"
                         "    joined = posixpath.normpath(posixpath.join(root, $a1))\n"
                         "    if not joined.startswith(root):\n        return None\n    return joined\n"),
        ("strip_dotdot", "import posixpath\n\n\ndef $name($a0, $a1):\n    cleaned = $a1.replace('../', '')\n"
                         "    return posixpath.normpath(posixpath.join($a0, cleaned))\n"),
    ),
    "build_query": (
        ("no_quoting", "def $name($a0):\n    return $head + \"'\" + $a0 + \"'\"\n"),
        ("backslash_escape", "def $name($a0):\n    return $head + \"'\" + $a0.replace(\"'\", \"\\\\'\") + \"'\"\n"),
        ("first_quote_only", "def $name($a0):\n    return $head + \"'\" + $a0.replace(\"'\", \"''\", 1) + \"'\"\n"),
    ),
    "render_html": (
        ("no_escape", "def $name($a0):\n    return '<' + $tag + ' title=\"' + $a0 + '\">' + $a0 + '</' + $tag + '>'\n"),
        ("angle_brackets_only", "def $name($a0):\n    escaped = $a0.replace('<', '&lt;').replace('>', '&gt;')\n"
                                "    return '<' + $tag + ' title=\"' + escaped + '\">' + escaped + '</' + $tag + '>'\n"),
        ("no_quote_escape", "import html\n\n\ndef $name($a0):\n    escaped = html.escape($a0, quote=False)\n"
                            "    return '<' + $tag + ' title=\"' + escaped + '\">' + escaped + '</' + $tag + '>'\n"),
    ),
}


def vulnerable_programs(task: Any) -> list[tuple[str, str]]:
    """(variant, program) of every vulnerable variant for a task of a security family, rendered
    with the task's names and constants; [] for any other task."""
    metadata = task.metadata or {}
    templates = VULNERABLE.get(metadata.get("family"), ())
    if not templates:
        return []
    args = {f"a{index}": name for index, name in enumerate(metadata.get("argument_names", ()))}
    constants = {key: python_source(value) for key, value in (metadata.get("parameters") or {}).items()}
    return [(variant, Template(template).substitute(name=task.entry_point, **args, **constants))
            for variant, template in templates]
