"""A one-line stderr progress meter, for scripts and the library loops they call (rollouts,
episodes); here rather than in `codeself.cli` so library code does not import the CLI layer."""

from __future__ import annotations

import sys
import time

LOG_INTERVAL_S = 30.0  # when stderr is not a terminal: at most one plain line this often


def is_terminal(stream) -> bool:
    """True when `stream` is an interactive terminal (a closed or unusual stream is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class Progress:
    """A one-line stderr progress meter: `label: count/total rate/s ETA`.

    On a terminal the line is redrawn in place (`\\r`) at most every `interval` seconds. When
    stderr is a file or a pipe (a log, a batch job), redrawing would leave one `\\r`-joined
    line per update in the log, so plain lines are written instead: at most one every
    `log_interval` seconds (none for a run shorter than that), and always the final line.
    Silent when `quiet`. Uses only stderr so that stdout stays machine-readable.
    """

    def __init__(self, label: str, total: int | None = None, *, quiet: bool = False,
                 interval: float = 0.5, stream=None, log_interval: float = LOG_INTERVAL_S) -> None:
        self.label = label
        self.total = total
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = is_terminal(self.stream)
        self.interval = interval if self.terminal else log_interval
        self.count = 0
        self._start = time.monotonic()
        # a log's first line comes a whole interval after the start; a terminal draws at once
        self._last_draw = 0.0 if self.terminal else self._start
        self._drawn_width = 0  # of the line now on the terminal, so a shorter one covers it

    def update(self, increment: int = 1) -> None:
        self.count += increment
        if self.quiet:
            return
        now = time.monotonic()
        if now - self._last_draw >= self.interval:
            self._last_draw = now
            self._draw(now, end="\r" if self.terminal else "\n")

    def close(self) -> None:
        if not self.quiet:
            self._draw(time.monotonic(), end="\n")

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _draw(self, now: float, end: str) -> None:
        line = self.format_line(now - self._start)
        if self.terminal:
            width, line = len(line), line.ljust(self._drawn_width)
            self._drawn_width = width if end == "\r" else 0
        self.stream.write(line + end)
        self.stream.flush()

    def format_line(self, elapsed: float) -> str:
        """The meter's text after `elapsed` seconds, e.g. `convert: 50/200 25.0/s ETA 6s`."""
        rate = self.count / elapsed if elapsed > 0 else 0.0
        if self.total is None:
            return f"{self.label}: {self.count} {rate:.1f}/s {elapsed:.0f}s"
        remaining = self.total - self.count
        eta = f"{remaining / rate:.0f}s" if rate > 0 else "?"
        return f"{self.label}: {self.count}/{self.total} {rate:.1f}/s ETA {eta}"
