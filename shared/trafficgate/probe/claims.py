"""Work handed to probe workers: which request (or pair) is next, and why sending stopped.

Layer L1 (probe engine): standard library only. A burst (:mod:`.burst`) and the request pairs
(:mod:`.pairs`) hand out indexes the same way; the burst adds its fail-fast rules on top.
"""

from __future__ import annotations

import threading
import time

__all__ = ["Claims"]


class Claims:
    """Shared between workers, under :attr:`lock`: the next index to send and why sending stopped.

    Parameters
    ----------
    planned : int
        Indexes ``0 .. planned - 1`` are handed out, each once.
    deadline : float, optional
        ``time.monotonic()`` after which nothing more is handed out (``stop_reason`` "deadline").
    """

    def __init__(self, planned: int, deadline: float | None) -> None:
        self.lock = threading.Lock()
        self.planned = planned
        self.deadline = deadline
        self.next_index = 0
        self.stop_reason: str | None = None
        self.crash: BaseException | None = None

    def claim(self) -> int | None:
        """The next index to send, or None once everything was handed out or sending stopped."""
        with self.lock:
            if self.stop_reason is not None or self.next_index >= self.planned:
                return None
            if self.deadline is not None and time.monotonic() >= self.deadline:
                self.stop_reason = "deadline"
                return None
            index = self.next_index
            self.next_index += 1
            return index

    def stop(self, reason: str) -> None:
        """Hand out nothing more; the first reason given is kept."""
        with self.lock:
            if self.stop_reason is None:
                self.stop_reason = reason

    def crashed(self, exc: BaseException) -> None:
        """A worker failed with a bug (not a transport error): stop, and keep the first for the caller."""
        with self.lock:
            self.crash = self.crash or exc
            self.stop_reason = self.stop_reason or "crash"
