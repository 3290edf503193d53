"""The harness inside the forked, sandboxed child: run the candidate, evaluate probes.

Why it looks like this: the child is the candidate's process, so nothing here is trusted
and nothing here decides a verdict. It receives the program first, then ONE test step at a
time over the control pipe (so at import time no test is in its memory at all), and answers
each step with one frame of encoded values on the result pipe. The worker enforces every
timeout from outside with SIGKILL; the parent decodes the values and judges them with
expected values this process never sees.

Frames on both pipes: 4-byte big-endian length, then the body. Worker -> child bodies are
`marshal` data (trusted direction: only the worker writes the control pipe, and marshal
carries the probes already compiled by the worker, which caches them across programs, so
the child skips one compile() per probe); child -> worker bodies are compact JSON, the only
format the parent parses from untrusted code. Every message from the worker carries a fresh
nonce `n` and every answer ends with the same `"n"`, so frames the candidate writes to the
result pipe ahead of time are recognised as forged.
Steps (worker -> child): {"probes": [code object or expr, ...]} | {"fallback": snippet} |
{"call": encoded argument list} | {"load": marshalled code, "setup": text} (import a program
anew in a fresh namespace, which later steps use: efficiency's rewritten copy, sent after the
tests) | {"measure": [argument list per size], "budget": n} | {"end": true}. Answers
(child -> worker): {"values": [encoded, ...]} | {"ok": true} | {"error": {"type": name,
"message": text}} | {"measured": [{"cost": {...}, "values": [encoded]}, ...]} (the measured
calls, one per size up to the first that failed, meter.py; "values" empty when it raised,
its "error" then in the cost); the first answer is the import result: {"ok": true} or
{"error": ...}, and so is the answer to "load".
"""

from __future__ import annotations

import builtins
import json
import marshal
import os
import struct
import sys

from codeself.execution import codec, meter, sandbox
from codeself.execution.languages import native

CONTROL_FD = 3
RESULT_FD = 4
CANDIDATE_MODULE = "candidate"  # __name__ of the candidate's module: `if __name__ == "__main__"` blocks do not run

# Captured before any candidate code runs; the candidate may rebind the originals later.
_read, _write, _exit = os.read, os.write, os._exit
_pack, _unpack = struct.pack, struct.unpack
_loads = marshal.loads  # control frames: written by the worker only
# One encoder made up front (json.dumps with options builds a new one per call).
_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode
_encode, _decode = codec.encode, codec.decode
_compile, _exec, _eval = compile, exec, eval
_type_name = type.__dict__["__name__"].__get__
_type = type
_str = str
_measure = meter.measure
READY_FRAME = b'{"ready":true}'


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = _read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class FrameReader:
    """Frames from the control pipe, read a pipe-full at a time: batched steps then cost one
    read() instead of two per step. Only probe steps (inputs, no expected values) are ever
    sent ahead, so reading ahead holds nothing the candidate may not see."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buffer = fd, bytearray()

    def next(self) -> dict | None:
        while True:
            if len(self.buffer) >= 4:
                end = 4 + _unpack(">I", self.buffer[:4])[0]
                if len(self.buffer) >= end:
                    body = bytes(self.buffer[4:end])
                    del self.buffer[:end]
                    return _loads(body)
            chunk = _read(self.fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk


def frame_bytes(message: dict) -> bytes:
    body = _dumps(message).encode()
    return _pack(">I", len(body)) + body


def write_bytes(fd: int, data: bytes) -> None:
    while data:
        written = _write(fd, data)
        data = data[written:]


def write_frame(fd: int, message: dict) -> None:
    write_bytes(fd, frame_bytes(message))


def write_ready(fd: int) -> None:
    write_bytes(fd, _pack(">I", len(READY_FRAME)) + READY_FRAME)


def describe(error: BaseException) -> dict:
    """Type name and a short message, robust to a hostile `__str__`."""
    try:
        name = _type_name(_type(error))
        if _type(name) is not _str:
            name = "Exception"
    except BaseException:  # noqa: BLE001 - the candidate controls this object
        name = "Exception"
    try:
        message = _str(error)
        message = message[:300] if _type(message) is _str else ""
    except BaseException:  # noqa: BLE001
        message = ""
    return {"type": name[:80], "message": message}


def serve(max_value_bytes: int) -> None:
    """Run one program: import it, then answer steps until told to stop. Never returns."""
    try:
        frames = FrameReader(CONTROL_FD)
        header = frames.next()
        if header is None:
            _exit(0)
        if header.get("limits"):
            sandbox.apply_rlimits(header["limits"])
        if header.get("native"):  # C++, Java, JavaScript, Rust: compile, then exec the program
            native.serve(header["native"], header.get("n"), RESULT_FD)
        namespace = {"__name__": CANDIDATE_MODULE, "__builtins__": builtins}
        entry_point = header.get("entry_point")
        answer = _import(header, namespace)
        answer["n"] = header.get("n")  # echo the nonce, last: the worker matches the frame's end
        _flush_output()
        write_frame(RESULT_FD, answer)
        del header
        while True:
            step = frames.next()
            if step is None or step.get("end"):
                break
            if "load" in step:  # efficiency: the program again, rewritten for the meter, in a fresh namespace
                namespace = {"__name__": CANDIDATE_MODULE, "__builtins__": builtins}
                answer = _import({"code": step["load"], "setup": step.get("setup")}, namespace)
            else:
                answer = _answer(step, namespace, entry_point, max_value_bytes)
            answer["n"] = step.get("n")
            del step
            _flush_output()
            write_frame(RESULT_FD, answer)
    finally:
        _exit(0)


def _flush_output() -> None:
    """Push buffered prints into the pipes now: the child is SIGKILLed, never exits normally."""
    for stream in (sys.__stdout__, sys.__stderr__, sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - the candidate may have replaced the streams
            pass


def _import(header: dict, namespace: dict) -> dict:
    try:
        code = header.get("code")  # compiled by the parent; else the text is compiled here
        program = _loads(code) if code else _compile(header["program"], "<candidate>", "exec", dont_inherit=True, optimize=0)
        del code
        _exec(program, namespace)
        if header.get("setup"):
            _exec(_compile(header["setup"], "<setup>", "exec", dont_inherit=True, optimize=0), namespace)
    except BaseException as error:  # noqa: BLE001 - SystemExit etc. are failures too
        return {"error": describe(error)}
    return {"ok": True}


def _answer(step: dict, namespace: dict, entry_point: str | None, max_value_bytes: int) -> dict:
    """Evaluate one step; any exception (even SystemExit) becomes an error answer."""
    try:
        if "probes" in step:
            values = []
            for probe in step["probes"]:
                if _type(probe) is _str:  # the worker could not compile it: fail here, as the candidate sees it
                    probe = _compile(probe, "<test>", "eval", dont_inherit=True, optimize=0)
                value = _eval(probe, namespace)
                values.append(_encode(value, max_bytes=max_value_bytes))
                del value
            return {"values": values}
        if "fallback" in step:
            _exec(_compile(step["fallback"], "<test>", "exec", dont_inherit=True, optimize=0), namespace)
            return {"ok": True}
        function = namespace.get(entry_point) if entry_point else None
        if function is None:
            return {"error": {"type": "NameError", "message": f"name {entry_point!r} is not defined"}}
        if "measure" in step:
            return {"measured": _measured_sizes(function, step["measure"], step["budget"], max_value_bytes)}
        value = function(*_decode(step["call"]))
        return {"values": [_encode(value, max_bytes=max_value_bytes)]}
    except BaseException as error:  # noqa: BLE001
        return {"error": describe(error)}


def _measured_sizes(function, arguments: list, budget: int, max_value_bytes: int) -> list:
    """The measured calls at every size, smallest first, in one step (one answer, not one
    round trip per size): per size {"cost": {...}, "values": [encoded]} or {"error": ...}
    (a value that could not be encoded). Stops after the first size
    whose measurement the parent could not score (raised, over budget, tampered): a later
    size would not be read, and over budget it could cost seconds."""
    answers = []
    for call in arguments:  # literals, as the worker marshalled them (efficiency.measured_arguments)
        try:
            answer = _measured(function, call, budget, max_value_bytes)
        except BaseException as error:  # noqa: BLE001 - as a step of its own would answer
            answer = {"error": describe(error)}
        answers.append(answer)
        cost = answer.get("cost")
        if cost is None or cost["over_budget"] or cost["tampered"] or "error" in cost:
            break
        del answer, cost
    return answers


def _measured(function, args: list, budget: int, max_value_bytes: int) -> dict:
    """A call counted by the meter: its cost, and its value (for the parent to compare with
    the reference's), or the error it raised (inside the cost)."""
    cost, value, error = _measure(function, args, budget)
    if error is not None:
        cost["error"] = describe(error)
        return {"cost": cost, "values": []}
    return {"cost": cost, "values": [_encode(value, max_bytes=max_value_bytes)]}
