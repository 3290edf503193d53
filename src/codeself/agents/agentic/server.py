"""The environment over HTTP (standard library `ThreadingHTTPServer`), with OpenEnv-shaped JSON.

Endpoints (bodies and answers are JSON objects):

| request | body | answer (200) |
|---|---|---|
| `POST /reset` | `{"seed"?, "task_id"?, "mode"?, "sample_index"?, "session_id"?}` | `{"session_id", "observation", "reward": null, "done": false, "metadata"}` |
| `POST /step` | `{"session_id", "action": {"code": reply}}` (or `"code"` at the top level) | `{"session_id", "observation", "reward", "done", "metadata"}` |
| `GET /state?session_id=S` | — | `{"session_id", "episode_id", "step_count", "state"}` |
| `GET /health` | — | `{"status": "healthy", "sessions", "tasks", "isolation"}` |

`observation` is `CodeRepairEnv`'s observation (messages, feedback, program, public counts);
`metadata` is its `info` plus `terminated` / `truncated`; nothing carries hidden-test data
except the reward itself. `/reset` without `session_id` opens a new session (an isolated
environment of its own); with one, it starts the next episode in that session.

Errors are JSON `{"error": {"code", "message"}}` with a 4xx status, never a 200 with a made-up
reward: 400 (not JSON, not an object, a field of the wrong type, missing code, a bad reset
option), 404 (unknown session or path), 405 (wrong method), 409 (step after the episode
ended), 411 (POST without Content-Length), 413 (body over `max_body_bytes`: never parsed;
read and dropped up to 64 MiB so the client sees the answer, else the connection is closed), 503
(too many open sessions); what http.server rejects itself (a malformed request line, 400; an
unknown method, 501) has the code `bad_http`. An unexpected failure is a 500 with a JSON body;
the server keeps serving. Sessions idle for `session_ttl_s` are dropped (a later request for
one gets 404); each session has its own lock, so requests of one session are served one at a
time while sessions run in parallel.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from codeself.agents.agentic.env import CachedExecutor, CodeRepairEnv, EnvConfig
from codeself.agents.templates import load_template
from codeself.datasets.task import Task

MAX_BODY_BYTES = 1 << 20
DRAIN_LIMIT = 64 << 20  # an oversized body up to this size is read and dropped; a larger one is not read


class HTTPError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class _Session:
    env: CodeRepairEnv
    lock: threading.Lock
    last_used: float
    episodes: int = 0


class SessionStore:
    """Open sessions, each an environment; thread-safe; idle ones expire."""

    def __init__(self, tasks: dict[str, Task], executor: Any, config: EnvConfig, *, session_ttl_s: float = 600.0,
                 max_sessions: int = 1024) -> None:
        self.tasks, self.config = tasks, config
        self.executor = executor if isinstance(executor, CachedExecutor) else CachedExecutor(executor)
        self.template = load_template(config.template)
        self.session_ttl_s, self.max_sessions = session_ttl_s, max_sessions
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()
        self._last_sweep = time.monotonic()
        self.expired = 0

    def __len__(self) -> int:
        return len(self._sessions)

    def _sweep(self, now: float) -> None:
        """Drop idle sessions (caller holds the store lock); at most once a second."""
        if now - self._last_sweep < 1.0:
            return
        self._last_sweep = now
        for key in [key for key, s in self._sessions.items() if now - s.last_used > self.session_ttl_s]:
            del self._sessions[key]
            self.expired += 1

    def _get(self, session_id: Any) -> _Session:
        if not isinstance(session_id, str) or not session_id:
            raise HTTPError(400, "missing_session", "session_id (a string from POST /reset) is required")
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            session = self._sessions.get(session_id)
            if session is None:
                raise HTTPError(404, "unknown_session", f"no session {session_id[:64]!r} (never opened, or expired "
                                                        f"after {self.session_ttl_s:g} s idle); POST /reset opens one")
            session.last_used = now
        return session

    def reset(self, body: dict[str, Any]) -> dict[str, Any]:
        options = {key: body[key] for key in ("task_id", "mode", "sample_index") if body.get(key) is not None}
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise HTTPError(400, "wrong_type", "seed must be an integer")
        if body.get("session_id") is not None:
            session_id, session = body["session_id"], self._get(body["session_id"])
        else:
            session_id = secrets.token_hex(16)
            env = CodeRepairEnv(self.tasks, self.executor, self.config, template=self.template)
            session = _Session(env, threading.Lock(), time.monotonic())
        with session.lock:
            try:
                observation, info = session.env.reset(seed=seed, options=options)
            except ValueError as error:
                raise HTTPError(400, "bad_reset", str(error)) from None
            session.episodes += 1
        if body.get("session_id") is None:
            self._register(session_id, session)  # only a session whose first reset worked is kept
        return {"session_id": session_id, "observation": observation, "reward": None, "done": False, "metadata": info}

    def _register(self, session_id: str, session: _Session) -> None:
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            if len(self._sessions) >= self.max_sessions:
                raise HTTPError(503, "too_many_sessions", f"{self.max_sessions} sessions are open; reuse one "
                                                          "(POST /reset with its session_id) or wait for idle ones to expire")
            self._sessions[session_id] = session

    def step(self, body: dict[str, Any]) -> dict[str, Any]:
        session = self._get(body.get("session_id"))
        action = body.get("action")
        if action is not None and not isinstance(action, dict):
            raise HTTPError(400, "wrong_type", "action must be an object {\"code\": reply}")
        code = (action or {}).get("code", body.get("code"))
        if code is None:
            raise HTTPError(400, "missing_code", "step needs the model's reply as action.code")
        if not isinstance(code, str):
            raise HTTPError(400, "wrong_type", f"action.code must be a string, got {type(code).__name__}")
        with session.lock:
            if session.env.done:
                raise HTTPError(409, "episode_over", "the episode is over; POST /reset with this session_id")
            observation, reward, terminated, truncated, info = session.env.step(code)
        return {"session_id": body["session_id"], "observation": observation, "reward": reward,
                "done": terminated or truncated, "metadata": {**info, "terminated": terminated, "truncated": truncated}}

    def state(self, session_id: Any) -> dict[str, Any]:
        session = self._get(session_id)
        with session.lock:
            state = session.env.state()
        return {"session_id": session_id, "episode_id": f"{session_id}:{session.episodes}",
                "step_count": state["turn"], "state": state}


class Handler(BaseHTTPRequestHandler):
    server_version = "codeself-env/1"
    protocol_version = "HTTP/1.1"  # keep-alive: a client's steps reuse one connection
    timeout = 60  # seconds a connection may stall (a client announcing more body than it sends)
    # headers and body go out in two writes; with Nagle's algorithm the second waits for the
    # client's delayed ACK (~40 ms a request on keep-alive connections)
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if not self.server.quiet:
            super().log_message(format, *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors http.server raises itself (a malformed request line, an unknown
        method: 501) are JSON too."""
        self.close_connection = True
        body = json.dumps({"error": {"code": "bad_http", "message": message or explain or "bad request"}}).encode()
        self.send_response(code, message)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._answer(self._post)

    def _get(self) -> dict[str, Any]:
        url = urlsplit(self.path)
        if url.path == "/health":
            store = self.server.store
            return {"status": "healthy", "sessions": len(store), "tasks": len(store.tasks),
                    "isolation": store.executor.isolation}
        if url.path == "/state":
            return self.server.store.state(parse_qs(url.query).get("session_id", [None])[0])
        if url.path in ("/reset", "/step"):
            raise HTTPError(405, "method_not_allowed", f"{url.path} takes POST")
        raise HTTPError(404, "not_found", f"no endpoint {url.path}; see /health, /reset, /step, /state")

    def _post(self) -> dict[str, Any]:
        path = urlsplit(self.path).path
        if path not in ("/reset", "/step"):
            if path in ("/state", "/health"):
                raise HTTPError(405, "method_not_allowed", f"{path} takes GET")
            raise HTTPError(404, "not_found", f"no endpoint {path}; see /health, /reset, /step, /state")
        body = self._body()
        return self.server.store.reset(body) if path == "/reset" else self.server.store.step(body)

    def _body(self) -> dict[str, Any]:
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            raise HTTPError(411, "length_required", "a POST needs a Content-Length header")
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            raise HTTPError(400, "bad_length", "Content-Length is not an integer") from None
        if size > self.server.max_body_bytes or size < 0:
            self.close_connection = True
            remaining = size if size <= DRAIN_LIMIT else 0  # read and drop it, so the client gets to read the 413
            while remaining > 0:
                chunk = self.rfile.read(min(1 << 16, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
            raise HTTPError(413, "body_too_large", f"request body of {length} bytes exceeds the limit of "
                                                   f"{self.server.max_body_bytes} bytes")
        raw = self.rfile.read(size) if size else b"{}"
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise HTTPError(400, "bad_json", "the body is not JSON (UTF-8)") from None
        if not isinstance(body, dict):
            raise HTTPError(400, "wrong_type", f"the body must be a JSON object, got {type(body).__name__}")
        return body

    def _answer(self, produce: Any) -> None:
        try:
            status, payload = 200, produce()
        except HTTPError as error:
            status, payload = error.status, {"error": {"code": error.code, "message": error.message}}
        except Exception as error:  # noqa: BLE001 - one broken request must not stop the server
            status = 500
            payload = {"error": {"code": "internal", "message": f"{type(error).__name__}: {str(error)[:300]}"}}
        data = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)


class EnvServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], store: SessionStore, *, max_body_bytes: int = MAX_BODY_BYTES,
                 quiet: bool = True) -> None:
        super().__init__(address, Handler)
        self.store, self.max_body_bytes, self.quiet = store, max_body_bytes, quiet
