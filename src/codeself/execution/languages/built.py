"""Compiled candidates kept by the Executor, so each distinct source is compiled once per batch.

Why: evaluations draw several samples per task and many are the same program (low temperature,
short answers); compiling C++ costs ~0.3 s of CPU, running it ~0.01 s. The first run of a
program asks its sandboxed child to send back what the compile produced (`outputs`: the binary,
or Java's class files), read right after the compile and before the program starts, so nothing
the program does can change it; later runs of the same build inputs get those files and no
compile command. The key is everything the build read: the language, every input file and every
compile command; the harness is part of it, so a task's build is never another task's. Kept in
the parent's memory only (bounded, least recently used first).
"""

from __future__ import annotations

import binascii
import dataclasses
import json
import threading
from collections import OrderedDict

from codeself.execution.languages.native import MAX_BUILT_BYTES


class BuiltPrograms:
    def __init__(self, max_bytes: int = 256 << 20) -> None:
        self.max_bytes, self.size = max_bytes, 0
        self.entries: OrderedDict[str, tuple[dict[str, bytes], tuple[str, ...]]] = OrderedDict()
        self.lock = threading.Lock()
        self.reused = 0  # runs that skipped their compile (for benchmarks and tests)

    def use(self, language: str, native):
        """(The program to run, the key to `remember` its build under: "" when there is nothing
        to keep, or when a kept build is used: then the program has no compile command.)"""
        if not native.compile or not native.outputs:
            return native, ""
        key = native.digest(language)
        with self.lock:
            found = self.entries.get(key)
            if found is None:
                return native, key
            self.entries.move_to_end(key)
            self.reused += 1
        files, executable = found
        return dataclasses.replace(native, files=files, compile=(), outputs=(), executable=executable), ""

    def remember(self, key: str, frame: str) -> None:
        """Keep the build a child sent (`frame`: {"built": {path: base64}, "x": [paths], ...});
        a frame that does not parse is ignored (the program compiles again next time)."""
        if not key or not frame:
            return
        try:
            message = json.loads(frame)
            files = {str(path): binascii.a2b_base64(data, strict_mode=True) for path, data in message["built"].items()}
            executable = tuple(str(path) for path in message.get("x", ()) if path in files)
        except (ValueError, TypeError, AttributeError, KeyError, binascii.Error):
            return
        size = sum(len(data) for data in files.values())
        if not files or size > MAX_BUILT_BYTES:
            return
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = (files, executable)
            self.size += size
            while self.size > self.max_bytes and self.entries:
                _, (dropped, _) = self.entries.popitem(last=False)
                self.size -= sum(len(data) for data in dropped.values())
