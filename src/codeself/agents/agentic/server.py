"""The environment over HTTP (standard library `ThreadingHTTPServer`), with OpenEnv-shaped JSON.

Endpoints (bodies and answers are JSON objects):

| request | body | answer (200) |
|---|---|---|
| `POST /reset` | `{"seed"?, "task_id"?, "mode"?, "sample_index"?, "category"?, "session_id"?}` | `{"session_id", "observation", "reward": null, "done": false, "metadata"}` |
| `POST /step` | `{"session_id", "action": {"code": reply}}` (or `"code"` at the top level) | `{"session_id", "observation", "reward", "done", "metadata"}` |
| `GET /state?session_id=S` | — | `{"session_id", "episode_id", "step_count", "state"}` |
| `GET /health` | — | `{"status": "healthy", "sessions", "tasks", "isolation", "connections"}` |
| `GET /curriculum` | — | the curriculum's rule, thresholds, level, frontier and per-category weights (`{"enabled": false}` when off) |
| `GET /stats` | — | finished episodes: reward and pass rate by category, the efficiency score and exponent distributions, memory use |
| `GET /memory` | — | the memory's entries (key, task, category, score, program, source episode id) and counts (`{"enabled": false}` when off) |

`observation` is `CodeRepairEnv`'s observation (messages, feedback, program, public counts);
`metadata` is its `info` plus `terminated` / `truncated`; nothing carries hidden-test data
except the reward itself. `/reset` without `session_id` opens a new session (an isolated
environment of its own); with one, it starts the next episode in that session. A `/reset`
body with any other field is refused (a misspelt `task_id` would otherwise give a random task).

Errors are JSON `{"error": {"code", "message"}}` with a 4xx/5xx status, never a 200 with a
made-up reward:

| status | code | when |
|---|---|---|
| 400 | `bad_json`, `wrong_type` | the body is not JSON / not an object; a field of the wrong type (`seed`, `session_id`, `action`, `action.code`) |
| 400 | `unknown_field` | a `/reset` field outside `RESET_FIELDS`, named in the message |
| 400 | `missing_session`, `missing_code`, `bad_reset` | no `session_id`; no `action.code`; a bad reset option (unknown task or mode, ...) |
| 400 | `bad_length`, `incomplete_body` | Content-Length not a number of bytes (e.g. negative); the body ended before it (the connection is closed) |
| 404 | `unknown_session`, `not_found` | a session never opened or expired; an unknown path |
| 405, 409 | `method_not_allowed`, `episode_over` | wrong method; a step after the episode ended |
| 408 | `request_timeout` | the request did not arrive whole within `request_timeout_s` of its first byte (closed) |
| 411, 413 | `length_required`, `body_too_large` | POST without Content-Length; body over `max_body_bytes` (never parsed; read and dropped up to 64 MiB so the client sees the answer, else the connection is closed) |
| 503 | `too_many_sessions`, `too_many_connections` | `max_sessions` open sessions; `max_connections` open connections (closed) |
| 400, 501 | `bad_http` | what http.server rejects itself (a malformed request line, an unknown method) |
| 500 | `internal` | an unexpected failure; the server keeps serving |

Slow and silent clients (http_base has the details): a connection on which no request begins
for `idle_timeout_s` is closed without an answer; a request is answered 408 if it has not arrived
whole `request_timeout_s` after its first byte. A client that leaves before its answer is written
costs one stderr line (none when `quiet`). Sessions idle for `session_ttl_s` are dropped (a later
request for one gets 404); each session has its own lock, so requests of one session are served
one at a time while sessions run in parallel.

The curriculum, the memory and the stats are the server's, shared by every session (one agent
practising through many sessions: `practice.Practice`); they are deterministic when episodes
are played one after another, and follow the order episodes finish in when sessions overlap.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from codeself.agents.agentic.env import RESET_OPTIONS, CachedExecutor, CodeRepairEnv, EnvConfig
from codeself.agents.agentic.http_base import BoundedHTTPServer, HTTPError, JSONRequestHandler
from codeself.agents.agentic.practice import Practice
from codeself.agents.templates import load_template
from codeself.datasets.task import Task

MAX_BODY_BYTES = 1 << 20
RESET_FIELDS = ("seed", "session_id", *RESET_OPTIONS)  # a body of POST /reset has these fields at most
GET_PATHS = ("/health", "/state", "/curriculum", "/stats", "/memory")
POST_PATHS = ("/reset", "/step")
ENDPOINTS = ", ".join((*GET_PATHS, *POST_PATHS))


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
        self.practice = Practice.of(tasks, config)  # shared by every session
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
        if session_id is not None and not isinstance(session_id, str):
            raise HTTPError(400, "wrong_type", f"session_id must be a string (from POST /reset), got "
                                               f"{type(session_id).__name__}")
        if not session_id:
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
        unknown = sorted(set(body) - set(RESET_FIELDS))
        if unknown:  # a misspelt task_id must not quietly become a random task (CodeRepairEnv.reset refuses too)
            raise HTTPError(400, "unknown_field", f"unknown reset field(s) {', '.join(unknown)}; "
                                                  f"allowed: {', '.join(RESET_FIELDS)}")
        options = {key: body[key] for key in RESET_OPTIONS if body.get(key) is not None}
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise HTTPError(400, "wrong_type", "seed must be an integer")
        if body.get("session_id") is not None:
            session_id, session = body["session_id"], self._get(body["session_id"])
        else:
            session_id = secrets.token_hex(16)
            env = CodeRepairEnv(self.tasks, self.executor, self.config, template=self.template, practice=self.practice)
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


class Handler(JSONRequestHandler):
    server_version = "codeself-env/1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.answer(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self.answer(self._post)

    def _get(self) -> dict[str, Any]:
        url = urlsplit(self.path)
        if url.path == "/health":
            store = self.server.store
            return {"status": "healthy", "sessions": len(store), "tasks": len(store.tasks),
                    "isolation": store.executor.isolation, "connections": self.server.open_connections}
        if url.path == "/state":
            return self.server.store.state(parse_qs(url.query).get("session_id", [None])[0])
        practice = self.server.store.practice
        if url.path == "/curriculum":
            return practice.curriculum_json()
        if url.path == "/stats":
            return practice.stats.to_json()
        if url.path == "/memory":
            return practice.memory_json()
        if url.path in POST_PATHS:
            raise HTTPError(405, "method_not_allowed", f"{url.path} takes POST")
        raise HTTPError(404, "not_found", f"no endpoint {url.path}; see {ENDPOINTS}")

    def _post(self) -> dict[str, Any]:
        path = urlsplit(self.path).path
        if path not in POST_PATHS:
            if path in GET_PATHS:
                raise HTTPError(405, "method_not_allowed", f"{path} takes GET")
            raise HTTPError(404, "not_found", f"no endpoint {path}; see {ENDPOINTS}")
        body = self.read_json_body()
        return self.server.store.reset(body) if path == "/reset" else self.server.store.step(body)


class EnvServer(BoundedHTTPServer):
    """The endpoints above over `store`; the connection limits are http_base's (defaults: a minute
    idle, half a minute for a request to arrive, 256 connections)."""

    def __init__(self, address: tuple[str, int], store: SessionStore, *, max_body_bytes: int = MAX_BODY_BYTES,
                 quiet: bool = True, idle_timeout_s: float = 60.0, request_timeout_s: float = 30.0,
                 max_connections: int = 256) -> None:
        self.store = store
        super().__init__(address, Handler, max_body_bytes=max_body_bytes, quiet=quiet, idle_timeout_s=idle_timeout_s,
                         request_timeout_s=request_timeout_s, max_connections=max_connections)
