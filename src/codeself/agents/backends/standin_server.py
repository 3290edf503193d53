"""A stdlib stand-in for an OpenAI-compatible model server, for benchmarks and tests.

It answers `POST /v1/chat/completions` and `POST /v1/completions` with a completion looked up
by the prompt (the last chat message's content, or the completion prompt) after a fixed
latency per request, like a server whose every request takes the same time: that isolates
what the pipeline around the `openai` backend adds. `drop_from` makes it close connections
without answering from the n-th request on (a server that dies mid-run), until `recover()`.

    server = StandInServer({"Write add.": "```python\\ndef add(a, b): ...\\n```"}, latency_s=0.05)
    server.start()  # 127.0.0.1, an ephemeral port; server.base_url ends in /v1
    ...
    server.stop()
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NO_ANSWER = "I cannot help with that."  # for prompts the server has no answer for (no code: parse_status no_code)


class StandInServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many concurrent clients connect at once

    def __init__(self, answers: dict[str, str], *, latency_s: float = 0.0, drop_from: int | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers, self.latency_s, self.drop_from = answers, latency_s, drop_from
        self.lock = threading.Lock()
        self.requests = 0  # counted as they arrive
        self.dropped = 0
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> "StandInServer":
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="standin-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def recover(self) -> None:
        """Answer every request again (after a `drop_from` outage)."""
        with self.lock:
            self.drop_from = None

    def answer_for(self, body: dict[str, Any]) -> str:
        messages = body.get("messages")
        prompt = messages[-1].get("content", "") if isinstance(messages, list) and messages else body.get("prompt", "")
        return self.answers.get(prompt if isinstance(prompt, str) else "", NO_ANSWER)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet: benchmarks print their own lines
        pass

    def do_POST(self) -> None:
        server: StandInServer = self.server  # type: ignore[assignment]
        with server.lock:
            server.requests += 1
            drop = server.drop_from is not None and server.requests >= server.drop_from
            server.dropped += drop
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if drop:  # like a crashed server: the connection closes, nothing is answered
            self.close_connection = True
            self.connection.shutdown(2)
            return
        time.sleep(server.latency_s)
        chat = self.path.endswith("/chat/completions")
        text = server.answer_for(body)
        choice = {"index": 0, "finish_reason": "stop",
                  **({"message": {"role": "assistant", "content": text}} if chat else {"text": text})}
        payload = json.dumps({"id": "standin", "object": "chat.completion" if chat else "text_completion",
                              "created": 0, "model": body.get("model", ""), "choices": [choice]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
