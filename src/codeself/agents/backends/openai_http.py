"""`openai`: any OpenAI-compatible HTTP server (vLLM, llama.cpp server, SGLang, Ollama).

Uses only urllib. Chat prompts go to `POST {base_url}/chat/completions`, completion prompts to
`POST {base_url}/completions`; `base_url` includes the `/v1` part, as with the OpenAI client.

Seeds: every sample is its own request (`n` = 1) carrying that sample's seed,
`derive_seed(run seed, task id, sample index)` (backends/base.py). One request with `n` > 1
cannot carry a seed per sample: a server that honours `seed` draws the n choices from one
generator, so choice i would depend on how many samples were asked for together, and a resumed
run that asks only for the missing ones would get different samples. With one request per
sample, a server that honours the seed (vLLM and SGLang seed each request; llama.cpp's server
and Ollama accept `seed`) returns the same sample however the run was split or resumed; a
server that ignores it (or, like OpenAI's own API, honours it only on a best-effort basis)
returns new samples, and the rollouts say which seed was asked for (`request_seed`). The
prompt's prefix is shared between a task's requests by servers with prefix caching (vLLM).

Failure policy:
* 429, 5xx, timeouts and connection errors are retried with exponential backoff
  (`0.5 s * 2**attempt`, capped at 30 s, plus jitter from a seeded RNG; a `Retry-After` header
  is honoured) up to `max_retries` times, then fail with one line naming the last error;
* any other 4xx fails at once with one line that includes the server's error message.
The API key is read from the environment variable named by `--api-key-env` and sent only in
the Authorization header; it is never logged, hashed or written to any output.
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from codeself.agents.backends.base import (Backend, BackendOptions, Generation, GenerationRequest,
                                           derive_seed)

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_S = 30.0


class BackendError(ValueError):
    """A generation request failed for good; the message is one line, safe to print."""


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(self, model: str, *, base_url: str = DEFAULT_BASE_URL, api_key: str | None = None,
                 temperature: float = BackendOptions.temperature, top_p: float = BackendOptions.top_p,
                 max_tokens: int = BackendOptions.max_tokens, timeout_s: float = BackendOptions.timeout_s,
                 max_retries: int = BackendOptions.max_retries, concurrency: int = BackendOptions.concurrency,
                 backoff_base_s: float = 0.5, jitter_seed: int = 0) -> None:
        super().__init__(model=model)
        if concurrency < 1 or max_retries < 0 or timeout_s <= 0:
            raise ValueError("concurrency must be >= 1, max_retries >= 0 and timeout > 0")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.sampling = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens}
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.tasks_per_batch = 2 * concurrency
        self.streams_samples = True  # the pipeline submits sample by sample, `concurrency` requests in flight
        self.samples_ahead = 2 * concurrency  # the rest wait in the pool's queue, so no request slot idles
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="openai")
        self._jitter = random.Random(jitter_seed)
        self._jitter_lock = threading.Lock()

    @classmethod
    def from_options(cls, options: BackendOptions) -> "OpenAIBackend":
        if not options.model:
            raise ValueError("--backend openai needs --model NAME (the model name the server serves)")
        api_key = None
        if options.api_key_env:
            api_key = os.environ.get(options.api_key_env)
            if not api_key:
                raise ValueError(f"environment variable {options.api_key_env} (named by --api-key-env) is not set")
        return cls(options.model, base_url=options.base_url or DEFAULT_BASE_URL, api_key=api_key,
                   temperature=options.temperature, top_p=options.top_p, max_tokens=options.max_tokens,
                   timeout_s=options.timeout_s, max_retries=options.max_retries,
                   concurrency=options.concurrency)

    def config(self) -> dict[str, Any]:
        # "seeding" marks the request scheme: runs made when a task's samples shared one n > 1
        # request drew different samples for the same seed, so they must not be resumed together.
        return {**super().config(), "base_url": self.base_url, **self.sampling, "seeding": "per_sample"}

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Generation]]:
        """One request per sample, at most `concurrency` at once; results in request order."""
        futures = [[self.submit(request, index) for index in request.sample_indices] for request in requests]
        return [[future.result() for future in per_request] for per_request in futures]

    def submit(self, request: GenerationRequest, index: int) -> Future:
        """One sample's request, queued for the `concurrency` request threads."""
        return self._pool.submit(self._generate_sample, request, index)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _generate_sample(self, request: GenerationRequest, index: int) -> Generation:
        seed = derive_seed(request.seed, request.task.task_id, index)
        started = time.monotonic()
        text, finish = _choice_text(self._complete(request, seed)[0])
        return Generation(completion=text, metadata={"finish_reason": finish, "request_seed": seed},
                          generation_s=time.monotonic() - started)

    def _complete(self, request: GenerationRequest, seed: int) -> list[dict[str, Any]]:
        chat = isinstance(request.prompt, list)
        body: dict[str, Any] = {"model": self.model, "n": 1, "seed": seed, **self.sampling}
        body["messages" if chat else "prompt"] = request.prompt
        if request.stop:
            body["stop"] = list(request.stop)
        url = f"{self.base_url}/{'chat/completions' if chat else 'completions'}"
        response = self._post_with_retries(url, body)
        choices = response.get("choices")
        if not isinstance(choices, list) or not choices:
            raise BackendError(f"openai backend: {url} returned no choices for {request.task.task_id}")
        return sorted(choices, key=lambda choice: choice.get("index", 0))

    def _post_with_retries(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        attempt = 0
        while True:
            try:
                return self._post_once(url, data, headers)
            except _Retryable as error:
                if attempt >= self.max_retries:
                    raise BackendError(f"openai backend: POST {url} failed after {attempt + 1} "
                                       f"attempt(s): {error.reason}") from None
                time.sleep(self._backoff(attempt, error.retry_after))
                attempt += 1

    def _post_once(self, url: str, data: bytes, headers: dict[str, str]) -> dict[str, Any]:
        http_request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(http_request, timeout=self.timeout_s) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            message = f"HTTP {error.code}: {_server_message(error)}"
            if error.code in RETRY_STATUSES:
                raise _Retryable(message, _retry_after(error)) from None
            raise BackendError(f"openai backend: POST {url}: {message}") from None
        except (TimeoutError, socket.timeout):
            raise _Retryable(f"no response within {self.timeout_s:g} s") from None
        except (urllib.error.URLError, ConnectionError, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise _Retryable(f"no response within {self.timeout_s:g} s") from None
            raise _Retryable(f"cannot connect: {reason}") from None
        try:
            parsed = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BackendError(f"openai backend: {url} returned a non-JSON body: {_one_line(payload)}") from None
        if not isinstance(parsed, dict):
            raise BackendError(f"openai backend: {url} returned JSON that is not an object")
        return parsed

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_BACKOFF_S)
        delay = min(self.backoff_base_s * 2 ** attempt, MAX_BACKOFF_S)
        with self._jitter_lock:
            return delay + self._jitter.uniform(0, delay / 2)


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _one_line(payload: bytes | str, limit: int = 300) -> str:
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _server_message(error: urllib.error.HTTPError) -> str:
    """The server's own explanation: `{"error": {"message"}}`, `{"error": str}`, `{"detail"}`, or text."""
    try:
        payload = error.read()
    except OSError:
        payload = b""
    try:
        body = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _one_line(payload) or error.reason or "no message"
    if isinstance(body, dict):
        detail = body.get("error", body.get("detail", body.get("message")))
        if isinstance(detail, dict):
            detail = detail.get("message", detail)
        if detail is not None:
            return _one_line(detail if isinstance(detail, str) else json.dumps(detail))
    return _one_line(payload)


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    value = error.headers.get("Retry-After") if error.headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _choice_text(choice: dict[str, Any]) -> tuple[str, str | None]:
    """Text of a chat (`message.content`) or completion (`text`) choice, and its finish reason."""
    message = choice.get("message")
    text = message.get("content") if isinstance(message, dict) else choice.get("text")
    return (text if isinstance(text, str) else ""), choice.get("finish_reason")
