"""A one-line stderr progress meter, for scripts and the library loops they call (rollouts,
episodes); here rather than in `codeself.cli` so library code does not import the CLI layer."""

from __future__ import annotations

import sys
import time


class Progress:
    """A one-line stderr progress meter: `label: count/total rate/s ETA`.

    Redrawn at most every `interval` seconds; silent when `quiet`. Uses only stderr so that
    stdout stays machine-readable.
    """

    def __init__(self, label: str, total: int | None = None, *, quiet: bool = False,
                 interval: float = 0.5, stream=None) -> None:
        self.label = label
        self.total = total
        self.quiet = quiet
        self.interval = interval
        self.stream = stream if stream is not None else sys.stderr
        self.count = 0
        self._start = time.monotonic()
        self._last_draw = 0.0

    def update(self, increment: int = 1) -> None:
        self.count += increment
        now = time.monotonic()
        if not self.quiet and now - self._last_draw >= self.interval:
            self._last_draw = now
            self._draw(now, end="\r")

    def close(self) -> None:
        if not self.quiet:
            self._draw(time.monotonic(), end="\n")

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _draw(self, now: float, end: str) -> None:
        self.stream.write(self.format_line(now - self._start) + end)
        self.stream.flush()

    def format_line(self, elapsed: float) -> str:
        """The meter's text after `elapsed` seconds, e.g. `convert: 50/200 25.0/s ETA 6s`."""
        rate = self.count / elapsed if elapsed > 0 else 0.0
        if self.total is None:
            return f"{self.label}: {self.count} {rate:.1f}/s {elapsed:.0f}s"
        remaining = self.total - self.count
        eta = f"{remaining / rate:.0f}s" if rate > 0 else "?"
        return f"{self.label}: {self.count}/{self.total} {rate:.1f}/s ETA {eta}"
