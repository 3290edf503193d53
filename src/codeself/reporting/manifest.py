"""Reproducibility manifest: what code, environment, inputs and outputs produced a result.

The manifest (docs/schemas.md, "Reproducibility manifest") records the CodeSelf version and git commit, Python
and optional-extra versions, the sha256 of every included file, the commands, seeds and
config hashes found in run outputs, and the sandbox isolation levels used. Only the
`generated_at` field changes between two runs on the same files. The optional archive is
byte-deterministic (sorted members, mtime 0, owner 0/"", normalised modes, gzip mtime 0) and
never carries secrets, raw data (`data/raw/`) or files holding hidden tests unless asked.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import gzip
import importlib.metadata
import io
import json
import os
import platform
import shlex
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import codeself
from codeself.jsonl import atomic_output, iter_jsonl, sha256_file

SCHEMA_VERSION = 1
OPTIONAL_PACKAGES = ("transformers", "trl", "peft", "accelerate", "vllm", "torch", "gguf")
SECRET_PATTERNS = (".env", ".env.*", "*.pem", "*key*", "id_rsa*", "id_ed25519*", "id_ecdsa*",
                   "*credentials*", ".netrc", ".pypirc", "*.p12", "*.pfx")
SKIPPED_DIRECTORIES = (".git", "__pycache__", ".mypy_cache", ".pytest_cache")
RUN_KEYS = {"command": "commands", "argv": "commands", "command_lines": "commands", "seed": "seeds",
            "seeds": "seeds", "config_hash": "config_hashes"}
LIST_OF_VALUES_KEYS = ("command_lines", "seeds")  # each element is one value
SIDECAR_SUFFIX = ".config.json"  # run_rollouts.py writes <output>.config.json beside its output
MAX_LISTED_VALUES = 50  # distinct values listed per run field; the count is always exact
JSON_SUFFIXES = (".json", ".jsonl", ".jsonl.gz", ".json.gz")


@dataclass(frozen=True)
class FileEntry:
    """One file found under --include: where it is, how it is named in the manifest."""

    path: Path  # on disk
    name: str  # posix path relative to the root (or absolute when outside it)


def _display_name(path: Path, root: Path) -> str:
    absolute = path.absolute()
    try:
        return absolute.relative_to(root.absolute()).as_posix()
    except ValueError:
        return absolute.as_posix()


def secret_reason(path: Path) -> str | None:
    """The secret-file pattern `path` (or its symlink target) matches, if any."""
    names = {path.name.lower()}
    if path.is_symlink():
        names.add(path.resolve().name.lower())
    for name in sorted(names):
        for pattern in SECRET_PATTERNS:
            if fnmatch.fnmatchcase(name, pattern):
                return pattern
    return None


def is_raw_data(name: str) -> bool:
    parts = name.split("/")
    return any(a == "data" and b == "raw" for a, b in zip(parts, parts[1:]))


def holds_hidden_tests(path: Path) -> bool:
    """True for a JSON/JSONL(.gz) file with any record whose `hidden_tests` is non-empty."""
    if not path.name.endswith(JSON_SUFFIXES):
        return False
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        if not any(b'"hidden_tests"' in line for line in handle):
            return False
    for record in _json_records(path):
        if _has_hidden(record):
            return True
    return False


def _has_hidden(value, depth: int = 0) -> bool:
    if depth > 6:
        return False
    if isinstance(value, dict):
        if value.get("hidden_tests"):
            return True
        return any(_has_hidden(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_has_hidden(v, depth + 1) for v in value)
    return False


def _json_records(path: Path):
    """Records of a JSON (one document) or JSONL file; unreadable files yield nothing."""
    try:
        if path.name.endswith((".jsonl", ".jsonl.gz")):
            yield from iter_jsonl(path)
        else:
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf-8") as handle:
                yield json.load(handle)
    except (ValueError, OSError, UnicodeDecodeError):
        return


def collect_files(includes: list[str], root: Path, *, include_hidden: bool = False,
                  skip: tuple[Path, ...] = ()) -> tuple[list[FileEntry], list[dict]]:
    """Expand --include paths (directories recursively) into sorted files.

    Returns (included, excluded); excluded entries carry a `reason`. Raises ValueError for a
    missing path or a secret-looking file (never silently skipped: the user must know).
    """
    skip_set = {p.absolute() for p in skip}
    found: dict[str, Path] = {}
    for include in includes:
        path = Path(include)
        if not path.exists():
            raise ValueError(f"--include {include}: no such file or directory")
        for file in _walk(path):
            if file.absolute() not in skip_set:
                found.setdefault(_display_name(file, root), file)
    included, excluded = [], []
    for name in sorted(found):
        path = found[name]
        pattern = secret_reason(path)
        if pattern:
            raise ValueError(f"refusing to include {name}: its name matches the secret pattern "
                             f"{pattern!r}; remove it from --include (secrets never go in a manifest)")
        reason = None
        if not include_hidden and is_raw_data(name):
            reason = "raw data (data/raw/)"
        elif not include_hidden and "hidden" in path.name.lower():
            reason = "name suggests hidden tests"
        elif not include_hidden and holds_hidden_tests(path):
            reason = "holds hidden tests"
        if reason:
            excluded.append({"path": name, "sha256": sha256_file(path), "reason": reason})
        else:
            included.append(FileEntry(path, name))
    return included, excluded


def _walk(path: Path):
    if path.is_file():
        yield path
        sidecar = Path(str(path) + SIDECAR_SUFFIX)
        if sidecar.is_file():  # the run configuration of an output named explicitly
            yield sidecar
        return
    for directory, subdirs, files in os.walk(path):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRECTORIES)
        for name in sorted(files):
            file = Path(directory) / name
            if file.is_file():
                yield file


def file_kind(name: str, path: Path) -> str:
    """A coarse label for the reader: config, split_manifest, tasks, output or other."""
    parts = name.split("/")
    if "configs" in parts[:-1] or path.suffix in (".toml", ".yaml", ".yml"):
        return "config"
    if "split" in parts[-1]:
        return "split_manifest"
    if parts[-1].endswith((".jsonl", ".jsonl.gz")):
        for record in _json_records(path):
            if isinstance(record, dict) and "entry_point" in record and "public_tests" in record:
                return "tasks"
            break
    if "outputs" in parts[:-1] or path.suffix in (".jsonl", ".json", ".md", ".svg"):
        return "output"
    return "other"


def run_info(entries: list[FileEntry]) -> dict:
    """Distinct commands, seeds and config hashes, and isolation levels, in JSON outputs.

    JSON documents and JSONL records are searched for the keys in RUN_KEYS (nested up to
    three levels) and for string `isolation` values; each distinct value is counted once
    per occurrence, so per-record seeds are summarised, not listed per record.
    """
    counts: dict[str, dict[str, int]] = {"commands": {}, "seeds": {}, "config_hashes": {}}
    isolation: dict[str, int] = {}
    for entry in entries:
        if entry.name.endswith(JSON_SUFFIXES):
            for record in _json_records(entry.path):
                _scan(record, counts, isolation, 0)
    summary = {field: _summarise(values) for field, values in counts.items()}
    summary["isolation"] = dict(sorted(isolation.items()))
    return summary


def _scan(value, counts: dict, isolation: dict, depth: int) -> None:
    if depth > 3:
        return
    if isinstance(value, list):
        for item in value[:1000] if depth else value:
            _scan(item, counts, isolation, depth + 1)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        field = RUN_KEYS.get(key)
        if field and item is not None and not isinstance(item, dict):
            items = item if key in LIST_OF_VALUES_KEYS and isinstance(item, list) else [item]
            for one in items:
                text = json.dumps(one, sort_keys=True, ensure_ascii=False)
                counts[field][text] = counts[field].get(text, 0) + 1
        elif key == "isolation" and isinstance(item, str):
            isolation[item] = isolation.get(item, 0) + 1
        else:
            _scan(item, counts, isolation, depth + 1)


def _summarise(values: dict[str, int]) -> dict:
    ordered = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    return {"distinct": len(values),
            "values": [{"value": json.loads(text), "count": count} for text, count in ordered[:MAX_LISTED_VALUES]]}


def git_state(directory: Path) -> dict:
    """Commit and dirty flag (tracked files only) of the repository holding `directory`.

    Both are null when git is missing or the code is not in a git checkout. Untracked files
    are ignored so that writing outputs does not change the answer between two runs.
    """
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", LC_ALL="C")

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True,
                                  timeout=20, env=env, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"git_commit": commit.strip() if commit else None,
            "git_dirty": None if status is None else bool(status.strip())}


def environment() -> dict:
    extras = {}
    for name in OPTIONAL_PACKAGES:
        try:
            extras[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            extras[name] = None
    source_dir = Path(codeself.__file__).resolve().parent
    return {"codeself": {"version": codeself.__version__, **git_state(source_dir)},
            "python": {"version": platform.python_version(),
                       "implementation": sys.implementation.name, "platform": platform.platform()},
            "extras": extras}


def write_archive(entries: list[FileEntry], path: Path) -> str:
    """Deterministic .tar.gz of `entries` (already sorted); returns its sha256."""
    with atomic_output(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as zipped:
            with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for entry in entries:
                    data = entry.path.read_bytes()
                    info = tarfile.TarInfo(entry.name.lstrip("/"))
                    info.size, info.mtime, info.type = len(data), 0, tarfile.REGTYPE
                    info.mode = 0o755 if os.access(entry.path, os.X_OK) else 0o644
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    tar.addfile(info, io.BytesIO(data))
    return sha256_file(path)


def build_manifest(includes: list[str], root: Path, *, include_hidden: bool = False,
                   archive: Path | None = None, skip: tuple[Path, ...] = ()) -> dict:
    """The manifest document; writes the archive too when `archive` is given."""
    if not includes:
        raise ValueError("nothing to describe: pass --include with configs, task files and outputs")
    entries, excluded = collect_files(includes, root, include_hidden=include_hidden,
                                      skip=skip + ((archive,) if archive else ()))
    files = [{"path": e.name, "sha256": sha256_file(e.path), "bytes": e.path.stat().st_size,
              "kind": file_kind(e.name, e.path)} for e in entries]
    document = {"schema_version": SCHEMA_VERSION,
                "generated_at": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
                **environment(), "include_hidden": include_hidden, "files": files,
                "excluded": excluded, "run": run_info(entries), "archive": None}
    if archive is not None:
        document["archive"] = {"path": _display_name(archive, root), "members": len(entries),
                               "sha256": write_archive(entries, archive)}
    return document


def verify(manifest: dict, root: Path) -> dict:
    """Re-hash every listed file (included and excluded) relative to `root`.

    Returns {"checked": n, "changed": [paths], "missing": [paths]}; the archive is checked
    too when the manifest names one and it exists.
    """
    listed = [(f["path"], f["sha256"]) for f in manifest.get("files", []) + manifest.get("excluded", [])]
    if manifest.get("archive"):
        listed.append((manifest["archive"]["path"], manifest["archive"]["sha256"]))
    changed, missing = [], []
    for name, digest in listed:
        path = Path(name) if Path(name).is_absolute() else root / name
        if not path.is_file():
            missing.append(name)
        elif sha256_file(path) != digest:
            changed.append(name)
    return {"checked": len(listed), "changed": changed, "missing": missing}


def load_manifest(path: str | Path) -> dict:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such manifest") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a JSON manifest: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("files"), list):
        raise ValueError(f"{path}: not a CodeSelf reproducibility manifest (no 'files' list)")
    return document


def render_markdown(manifest: dict) -> str:
    """A checklist-style summary for humans; the JSON stays the source of truth."""
    code, python = manifest["codeself"], manifest["python"]
    dirty = {True: " (working tree has uncommitted changes)", False: " (clean)", None: ""}[code["git_dirty"]]
    lines = ["# Reproducibility manifest", "", f"Generated at {manifest['generated_at']} (UTC).", "",
             "## Code and environment", "",
             f"- CodeSelf {code['version']}, git commit `{code['git_commit'] or 'unknown'}`{dirty}",
             f"- Python {python['version']} ({python['implementation']}) on `{python['platform']}`",
             "- Optional packages: " + (", ".join(f"{k} {v}" for k, v in manifest["extras"].items() if v)
                                         or "none installed"), "",
             f"## Files ({len(manifest['files'])})", "", "| path | kind | bytes | sha256 |", "|---|---|---:|---|"]
    lines += [f"| `{f['path']}` | {f['kind']} | {f['bytes']} | `{f['sha256']}` |" for f in manifest["files"]]
    if manifest["excluded"]:
        lines += ["", "## Hashed but not archived", "", "| path | reason | sha256 |", "|---|---|---|"]
        lines += [f"| `{f['path']}` | {f['reason']} | `{f['sha256']}` |" for f in manifest["excluded"]]
    run = manifest["run"]
    lines += ["", "## Run", ""]
    for field, label in (("commands", "Commands"), ("seeds", "Seeds"), ("config_hashes", "Config hashes")):
        summary = run[field]
        shown = ", ".join(f"`{_short(v['value'])}` ×{v['count']}" for v in summary["values"]) or "none found"
        more = "" if summary["distinct"] <= len(summary["values"]) else f" (first {len(summary['values'])} of {summary['distinct']})"
        lines.append(f"- {label}: {shown}{more}")
    isolation = ", ".join(f"{k} ×{v}" for k, v in run["isolation"].items()) or "none recorded"
    lines.append(f"- Sandbox isolation: {isolation}")
    if manifest["archive"]:
        archive = manifest["archive"]
        lines += ["", "## Archive", "",
                  f"`{archive['path']}`: {archive['members']} files, sha256 `{archive['sha256']}` "
                  "(deterministic: same files give the same bytes)."]
    lines += ["", "Check the files later with `python3 scripts/make_reproducibility_manifest.py --verify "
              "<manifest.json>` from the same directory."]
    return "\n".join(lines) + "\n"


def _short(value) -> str:
    text = shlex.join(map(str, value)) if isinstance(value, list) else str(value)
    text = text.replace("`", "'").replace("|", "\\|")
    return text if len(text) <= 1000 else text[:997] + "..."
