"""JSON over HTTP for the environment server: request bodies, JSON answers and errors, and the
limits that keep a silent, slow or vanished client from holding the server's threads.

A module of its own because it is about connections, not the environment: server.py says what
each endpoint does, this says how a connection is read, bounded and closed. The standard
library's `http.server` waits as long as a client likes (one thread per connection, however
many connections), and prints a traceback when a client leaves before its answer is written.

Limits (a connection is served by one thread):

- `idle_timeout_s`: how long the server waits for a request to begin (the first request of a new
  connection, or the next one on a keep-alive connection). Past it the connection is closed
  without an answer, as HTTP allows for an idle connection; clients open a new one.
- `request_timeout_s`: once the first byte of a request has arrived, the whole request (line,
  headers, body) must arrive within this. It is one deadline for the request, not a timeout per
  read, which a client sending a byte every few seconds would never trip. Past it the client
  gets 408 `request_timeout` (JSON) and the connection is closed. The same time bounds each write
  of an answer to a client that does not read it.
- `max_connections`: connections served at once. A connection beyond it gets 503
  `too_many_connections` (JSON, `Retry-After: 1`) at once and is closed within a second (up to
  `MAX_REFUSING` such refusals at a time; past that a connection is closed without an answer).

A client that closes or resets its connection early costs one log line on stderr (none when
`quiet`), never a traceback. A body shorter than its Content-Length, once the client's side of
the connection ends, is 400 `incomplete_body`.
"""

from __future__ import annotations

import io
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

DRAIN_LIMIT = 64 << 20  # an oversized body up to this size is read and dropped; a larger one is not read
MAX_REFUSING = 32  # connections being refused (503) at once; one more is closed without an answer
REFUSAL_LINGER_S = 1.0  # a refused client has this long to finish sending before its connection closes


class HTTPError(Exception):
    """An answer other than 200: `status`, and `code` / `message` for the JSON error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_json(code: str, message: str) -> bytes:
    """The body of every error answer: `{"error": {"code", "message"}}`."""
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode("utf-8")


class _DeadlineReader(io.RawIOBase):
    """The read side of a connection, against one deadline for all the reads of a request."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.deadline = time.monotonic()
        self.expired = False  # the last wait ended at the deadline

    def start(self, seconds: float) -> None:
        self.deadline, self.expired = time.monotonic() + seconds, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out")
            self.connection.settimeout(left)
            return self.connection.recv_into(buffer)
        except TimeoutError:
            self.expired = True
            raise


class JSONRequestHandler(BaseHTTPRequestHandler):
    """Reads requests under the server's deadlines and answers in JSON. Subclasses define
    `do_GET` / `do_POST` as `self.answer(produce)`, where `produce()` returns the JSON object of a
    200 or raises `HTTPError`."""

    protocol_version = "HTTP/1.1"  # keep-alive: a client's steps reuse one connection
    timeout = None  # no timeout per read: _DeadlineReader sets one deadline per request instead
    # headers and body go out in two writes; with Nagle's algorithm the second waits for the
    # client's delayed ACK (~40 ms a request on keep-alive connections)
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # replaced by a reader that keeps the request deadline
        self._reader = _DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader)
        self._answered = False

    def handle_one_request(self) -> None:
        """Wait `idle_timeout_s` for a request to begin, then give all of it `request_timeout_s`."""
        self._reader.start(self.server.idle_timeout_s)
        try:
            began = self.rfile.peek(1)
        except TimeoutError:
            began = b""  # idle too long: closed without an answer
        if not began:
            self.close_connection = True
            return
        self._reader.start(self.server.request_timeout_s)
        self._answered = False
        self.requestline, self.request_version = "", "HTTP/1.1"  # until the request line is read
        super().handle_one_request()  # a timeout in the request line or headers: logged, closed
        if self._reader.expired and not self._answered:
            self.send_json(408, error_json("request_timeout", self._timeout_message()))

    def _timeout_message(self) -> str:
        return (f"the request did not arrive whole within {self.server.request_timeout_s:g} s of its first byte; "
                "the connection is closed")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if not self.server.quiet:
            super().log_message(format, *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors http.server raises itself (a malformed request line, an unknown
        method: 501) are JSON too."""
        self.close_connection = True
        self.send_json(code, error_json("bad_http", message or explain or "bad request"), reason=message)

    def send_json(self, status: int, data: bytes, *, reason: str | None = None) -> None:
        self._answered = True
        self.connection.settimeout(self.server.request_timeout_s)  # for a client that does not read its answer
        self.send_response(status, reason)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(data)

    def answer(self, produce: Callable[[], dict[str, Any]]) -> None:
        try:
            status, payload = 200, produce()
        except HTTPError as error:
            status, payload = error.status, {"error": {"code": error.code, "message": error.message}}
        except Exception as error:  # noqa: BLE001 - one broken request must not stop the server
            status = 500
            payload = {"error": {"code": "internal", "message": f"{type(error).__name__}: {str(error)[:300]}"}}
        self.send_json(status, json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8"))

    def read_json_body(self) -> dict[str, Any]:
        """The request's JSON object; an empty body is `{}`."""
        size = self._content_length()
        if size > self.server.max_body_bytes:
            self._drop_body(size)
            raise HTTPError(413, "body_too_large", f"request body of {size} bytes exceeds the limit of "
                                                   f"{self.server.max_body_bytes} bytes")
        raw = self._read_body(size) if size else b"{}"
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise HTTPError(400, "bad_json", "the body is not JSON (UTF-8)") from None
        if not isinstance(body, dict):
            raise HTTPError(400, "wrong_type", f"the body must be a JSON object, got {type(body).__name__}")
        return body

    def _content_length(self) -> int:
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            raise HTTPError(411, "length_required", "a POST needs a Content-Length header")
        digits = length.strip()
        if not (digits.isascii() and digits.isdigit()):  # int() would take "-5", "+5" and "1_0"
            self.close_connection = True
            raise HTTPError(400, "bad_length", f"Content-Length must be a number of bytes (0 or more), "
                                               f"got {length[:40]!r}")
        return int(digits)

    def _read_body(self, size: int) -> bytes:
        try:
            raw = self.rfile.read(size)
        except TimeoutError:
            self.close_connection = True
            raise HTTPError(408, "request_timeout", self._timeout_message()) from None
        except ConnectionError:
            raw = b""
        if len(raw) < size:  # the client's side ended (or broke) before the body did
            self.close_connection = True
            raise HTTPError(400, "incomplete_body", f"the body ended after {len(raw)} of the {size} bytes "
                                                    "Content-Length announced")
        return raw

    def _drop_body(self, size: int) -> None:
        """Read and drop an oversized body, so the client gets to read the 413 (a client still
        sending when the connection closes may see a reset instead); past DRAIN_LIMIT it is not read."""
        self.close_connection = True
        remaining = size if size <= DRAIN_LIMIT else 0
        try:
            while remaining > 0:
                chunk = self.rfile.read(min(1 << 16, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
        except (TimeoutError, ConnectionError):
            pass


class BoundedHTTPServer(ThreadingHTTPServer):
    """A thread per connection, at most `max_connections` of them; see the module docstring."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[JSONRequestHandler], *, max_body_bytes: int,
                 quiet: bool, idle_timeout_s: float, request_timeout_s: float, max_connections: int) -> None:
        self.max_body_bytes, self.quiet = max_body_bytes, quiet
        self.idle_timeout_s, self.request_timeout_s, self.max_connections = idle_timeout_s, request_timeout_s, max_connections
        self._open = self._refusing = 0
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    @property
    def open_connections(self) -> int:
        return self._open

    def log(self, line: str) -> None:
        if not self.quiet:
            sys.stderr.write(line + "\n")  # one write: lines of concurrent connections do not interleave

    def process_request(self, request: socket.socket, client_address: Any) -> None:
        with self._open_lock:
            admitted = self._open < self.max_connections
            refused = not admitted and self._refusing < MAX_REFUSING
            self._open += admitted
            self._refusing += refused
        if admitted:
            try:
                super().process_request(request, client_address)
            except BaseException:
                self._release()  # the thread did not start
                raise
        elif refused:
            try:
                threading.Thread(target=self._refuse, args=(request, client_address), daemon=True).start()
            except BaseException:
                with self._open_lock:
                    self._refusing -= 1
                raise
        else:
            self.shutdown_request(request)

    def process_request_thread(self, request: socket.socket, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release()

    def _release(self) -> None:
        with self._open_lock:
            self._open -= 1

    def _refuse(self, request: socket.socket, client_address: Any) -> None:
        """503 at once, then read and drop what the client still sends for up to REFUSAL_LINGER_S:
        closing while its request arrives would reset the connection before it reads the 503."""
        body = error_json("too_many_connections", f"{self.max_connections} connections are open (the server's "
                                                  "max_connections); retry shortly or reuse a connection")
        head = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n").encode("ascii")
        self.log(f"{client_address[0]}:{client_address[1]}: refused, {self.max_connections} connections open")
        deadline = time.monotonic() + REFUSAL_LINGER_S
        try:
            request.settimeout(REFUSAL_LINGER_S)
            request.sendall(head + body)
            request.shutdown(socket.SHUT_WR)
            while (left := deadline - time.monotonic()) > 0:
                request.settimeout(left)
                if not request.recv(1 << 16):
                    break
        except OSError:  # the client is gone, or still sending at the deadline
            pass
        finally:
            request.close()
            with self._open_lock:
                self._refusing -= 1

    def handle_error(self, request: socket.socket, client_address: Any) -> None:
        """A client that went away is one line (none when quiet); anything else keeps the traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            self.log(f"{client_address[0]}:{client_address[1]}: client went away ({type(error).__name__})")
            return
        super().handle_error(request, client_address)
