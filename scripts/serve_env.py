#!/usr/bin/env python3
"""Serve the multi-turn coding environment over HTTP (OpenEnv-shaped JSON), one isolated session per client.

    python3 scripts/serve_env.py --tasks configs/datasets/tasks.example.jsonl --host 127.0.0.1 --port 8765

POST /reset opens a session (or starts the next episode of one), POST /step sends a reply,
GET /state and GET /health report; see codeself.agents.agentic.server for the JSON shapes and
errors. The first stdout line is `serving on http://HOST:PORT` (--port 0 picks a free port).
Connections idle for --idle-timeout-s are closed; a request not arriving whole within
--request-timeout-s gets 408; beyond --max-connections a connection gets 503 (see
codeself.agents.agentic.http_base). Stop with Ctrl-C or SIGTERM.
"""

import argparse
import signal
import threading

import _bootstrap  # noqa: F401

from codeself.cli import add_episode_flags, add_execution_flags, episode_config, execution_config, run_main

PROG = "serve_env.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", required=True, help="canonical task JSONL the sessions draw from")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free port)")
    parser.add_argument("--split", help="only tasks of this split")
    parser.add_argument("--limit", type=int, help="only the first N selected tasks")
    add_episode_flags(parser, exclude=("template",))  # sessions use the default chat template
    add_execution_flags(parser, ("workers", "efficiency"))
    parser.add_argument("--session-ttl-s", type=float, default=600.0, help="drop sessions idle this long (default 600)")
    parser.add_argument("--max-sessions", type=int, default=1024, help="open sessions at most (default 1024)")
    parser.add_argument("--max-body-bytes", type=int, default=1 << 20, help="larger requests get 413 (default 1 MiB)")
    parser.add_argument("--idle-timeout-s", type=float, default=60.0,
                        help="close a connection on which no request begins for this long, without an answer "
                             "(keep-alive clients open a new one; default 60)")
    parser.add_argument("--request-timeout-s", type=float, default=30.0,
                        help="a request (line, headers, body) must arrive whole within this long of its first byte, "
                             "else 408 and the connection is closed; also bounds each write of an answer (default 30)")
    parser.add_argument("--max-connections", type=int, default=256,
                        help="connections served at once, one thread each; one more gets 503 at once (default 256)")
    parser.add_argument("--quiet", action="store_true", help="no access log on stderr")
    return parser


def _run(args: argparse.Namespace) -> int:
    from codeself.agents.agentic.server import EnvServer, SessionStore
    from codeself.datasets.task import load_tasks
    from codeself.execution.engine import Executor

    config = episode_config(args)
    execution = execution_config(args)
    tasks = {task.task_id: task for task in load_tasks(args.tasks) if args.split is None or task.split == args.split}
    if args.limit:
        tasks = dict(list(tasks.items())[:args.limit])
    if not tasks:
        raise ValueError(f"{args.tasks}: no tasks selected")
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be 0-65535, got {args.port}")
    for flag in ("--session-ttl-s", "--max-sessions", "--max-body-bytes", "--idle-timeout-s", "--request-timeout-s",
                 "--max-connections"):
        value = getattr(args, flag[2:].replace("-", "_"))
        if not 0 < value < float("inf"):  # nan fails the comparison too
            raise ValueError(f"{flag} must be positive and finite, got {value}")
    with Executor(execution) as executor:
        store = SessionStore(tasks, executor, config, session_ttl_s=args.session_ttl_s, max_sessions=args.max_sessions)
        try:
            server = EnvServer((args.host, args.port), store, max_body_bytes=args.max_body_bytes, quiet=args.quiet,
                               idle_timeout_s=args.idle_timeout_s, request_timeout_s=args.request_timeout_s,
                               max_connections=args.max_connections)
        except OSError as error:  # in use, not an address of this machine, unknown host name
            raise OSError(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
        # SIGTERM stops like Ctrl-C: shutdown() must come from another thread than serve_forever's
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
        host, port = server.server_address[:2]
        print(f"serving on http://{host}:{port} ({len(tasks)} tasks, sandbox {executor.isolation})", flush=True)
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            server.server_close()
    print("stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_main(lambda: _run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
