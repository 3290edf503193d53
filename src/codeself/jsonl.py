"""JSONL in and out: the only interface between pipeline stages.

Every stage streams records with `iter_jsonl` and writes them with `write_jsonl`, so a
malformed line is reported the same way everywhere (`path:line: ...`) and no stage can leave
a half-written output behind: writes go to a temp file in the destination directory and are
renamed into place only when complete. That temp file is created the way a plain `open()` creates
a file (`open_sibling_file`), so outputs get the usual permissions, not a temp file's private 0600.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, "r", encoding="utf-8")


def require_regular_file(path: str | os.PathLike, flag: str = "") -> Path:
    """`path` as a Path when it names a regular file (or a symlink to one); else ValueError.

    Each way of not being a file has its own message, so `/dev/null` or a directory given
    where a JSONL file belongs is not reported as missing. `flag` (e.g. "--rollouts")
    prefixes the message.
    """
    path = Path(path)
    where = f"{flag} {path}" if flag else str(path)
    if path.is_file():
        return path
    if path.is_dir():
        raise ValueError(f"{where}: is a directory, not a file; give the JSONL file inside it")
    if path.exists():
        raise ValueError(f"{where}: not a regular file (a device, pipe or socket); give a file on disk")
    raise ValueError(f"{where}: no such file")


def scan_jsonl_lines(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield `(line_number, record, None)` per JSON-object line, `(line_number, None, why)` per bad one.

    For tools that report every problem of a file (the validator) instead of stopping at the
    first. Blank lines are skipped; `.gz` files are decompressed. A missing, non-regular
    (`require_regular_file`) or undecodable file raises ValueError.
    """
    path = require_regular_file(path)
    with _open_text(path) as handle:
        try:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    yield line_number, None, f"invalid JSON: {error.msg}"
                    continue
                if isinstance(record, dict):
                    yield line_number, record, None
                else:
                    yield line_number, None, f"expected a JSON object, got {type(record).__name__}"
        except (UnicodeDecodeError, gzip.BadGzipFile, EOFError) as error:
            raise ValueError(f"{path}: cannot read as UTF-8 JSONL: {error}") from None


def iter_jsonl_lines(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield `(line_number, record)` for each non-blank line; `.gz` files are decompressed.

    Raises ValueError naming the file and line for invalid JSON or a non-object line, and
    for a missing file, so scripts can print it as one line.
    """
    for line_number, record, error in scan_jsonl_lines(path):
        if error is not None:
            raise ValueError(f"{path}:{line_number}: {error}")
        yield line_number, record


def iter_jsonl(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """Yield each record of a JSONL (or JSONL.gz) file, skipping blank lines."""
    for _, record in iter_jsonl_lines(path):
        yield record


def dumps_record(record: dict[str, Any]) -> str:
    """One canonical JSON line: key order as given, UTF-8 kept, no trailing spaces.

    NaN/inf are rejected: they are not JSON and other tools would choke on them.
    """
    return json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def _create_beside(path: Path, create: Callable[[Path], Any]) -> tuple[Path, Any]:
    """`create` a new, uniquely named `.NAME.XXXXXXXX.tmp` beside `path`; (its path, what `create` returned).

    Unlike `tempfile.mkstemp` / `mkdtemp`, which always make a private 0600 file / 0700 directory,
    `create` gives the mode a plain `open()` / `mkdir()` gives: 0666 / 0777 minus the process's
    umask (or the directory's default ACL), applied by the kernel, so no umask is read or changed
    (other threads may be creating files). Outputs renamed into place then have the permissions
    the user's umask allows, e.g. readable by a collaborator under the usual 022.
    """
    for _ in range(100):
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return candidate, create(candidate)
        except FileExistsError:
            continue
    raise FileExistsError(f"{path.parent}: no free temporary name beside {path.name}")


def open_sibling_file(path: str | os.PathLike) -> tuple[Path, int]:
    """A new temp file beside `path`, opened for writing: (its path, the fd), with open()'s mode."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    return _create_beside(Path(path), lambda candidate: os.open(candidate, flags, 0o666))


def make_sibling_dir(path: str | os.PathLike) -> Path:
    """A new temp directory beside `path` (to be renamed over it when complete), with mkdir()'s mode."""
    return _create_beside(Path(path), lambda candidate: os.mkdir(candidate, 0o777))[0]


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temp file beside `path`; rename it over `path` only if the block succeeds.

    An exception or Ctrl-C inside the block removes the temp file and leaves any existing
    `path` untouched. The file ends up with the mode a plain `open()` would give it
    (`open_sibling_file`); an existing file's own mode is not kept.
    """
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    temp_name, fd = open_sibling_file(path)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding, newline=None if "b" in mode else "\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def write_jsonl(path: str | os.PathLike, records: Iterable[dict[str, Any]]) -> int:
    """Atomically write `records` as JSONL, streaming; return how many were written."""
    count = 0
    with atomic_output(path) as handle:
        for record in records:
            handle.write(dumps_record(record))
            handle.write("\n")
            count += 1
    return count


def write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically write a text file (reports, manifests)."""
    with atomic_output(path) as handle:
        handle.write(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write pretty, key-sorted JSON with a trailing newline (byte-stable)."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n")


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(require_regular_file(path), "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when two paths name the same file (so an output would overwrite its input)."""
    a, b = Path(a), Path(b)
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def refuse_overwriting_input(inputs: Sequence[str], output: str) -> None:
    """Writing to the file being read would destroy it half-way; refuse up front."""
    for path in inputs:
        if same_file(path, output):
            raise ValueError(f"--output {output} is also an input; choose another output path")
