"""Bound each request's whole time, and close its sockets when the time is up or the probe is called off.

Layer L1 (probe engine). A socket timeout bounds each *read*; a server that drips one byte a
second never trips it, and a request with a 2 s timeout then takes minutes. So every request runs
under a :class:`RequestGuard`: the sockets it opens are registered (by the guarded connection
classes in :mod:`trafficgate.probe.transport`), and a :class:`Reaper` thread shuts them down at the
request's end time. The blocked read returns at once, and the request fails as ``total_timeout``.
The same reaper shuts every socket down when the hook calls the probe off (its deadline came):
abandoned probes stop within moments instead of living on in a warm container.

The guard of the request a thread is running is thread-local: the connection classes find it
without any change to ``requests`` or ``urllib3``.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

#: How long after a request's budget its sockets are shut. A silent server trips the socket's own
#: timeout within the budget; the reaper is for bytes that keep dripping. So the longest a request
#: can take is its timeout plus this.
GUARD_SLACK_S = 0.25

_current = threading.local()


class RequestGuard:
    """One request's end time and the sockets it uses."""

    def __init__(self, end_by: float) -> None:
        self.end_by = end_by
        self.expired = False
        self.cancelled = False
        self._sockets: list[Watched] = []
        self._lock = threading.Lock()

    def watch(self, watched: Watched) -> None:
        """Register a socket of this request; shut it at once if the request is already over."""
        with self._lock:
            self._sockets.append(watched)
            over = self.expired or self.cancelled
        if over:
            watched.shutdown()

    def expire(self, *, cancelled: bool = False) -> None:
        """The time is up (or the probe was called off): shut every socket of the request."""
        with self._lock:
            if cancelled:
                self.cancelled = True
            else:
                self.expired = True
            sockets = list(self._sockets)
        for watched in sockets:
            watched.shutdown()

    @property
    def over(self) -> bool:
        return self.expired or self.cancelled


def current() -> RequestGuard | None:
    """The guard of the request this thread is running, if any."""
    guard: RequestGuard | None = getattr(_current, "guard", None)
    return guard


def watch(watched: Watched | None) -> None:
    """Called by the guarded connections: put a socket under this thread's request guard."""
    guard = current()
    if guard is not None and watched is not None:
        guard.watch(watched)


class Reaper:
    """One thread that expires the guards of a burst (or a session) when their time comes.

    Use as a context manager; :meth:`guard` runs one request under a guard. :meth:`cancel` calls
    everything off: running requests lose their sockets, and new ones start already over.
    """

    def __init__(self, name: str = "probe-reaper") -> None:
        self._heap: list[tuple[float, int, RequestGuard]] = []
        self._live: set[RequestGuard] = set()
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> Reaper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @contextlib.contextmanager
    def guard(self, end_by: float) -> Iterator[RequestGuard]:
        """Run the body as one request that must end by ``end_by`` (a monotonic time)."""
        guard = RequestGuard(end_by)
        with self._cond:
            if self._cancelled:
                guard.cancelled = True
            self._live.add(guard)
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (end_by, next(self._counter), guard))
            # The reaper sleeps until the earliest end time; wake it only when that moves earlier
            # (most requests end later than the ones before them: no wake-up, no context switch).
            if earliest is None or end_by < earliest:
                self._cond.notify()
        previous = current()
        _current.guard = guard
        try:
            yield guard
        finally:
            _current.guard = previous
            with self._cond:
                self._live.discard(guard)

    def cancel(self) -> None:
        """Call every request off now, and every later one before it starts."""
        with self._cond:
            self._cancelled = True
            live = list(self._live)
            self._cond.notify_all()
        for guard in live:
            guard.expire(cancelled=True)

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                while self._heap and (self._heap[0][0] <= now or self._heap[0][2] not in self._live):
                    _, _, guard = heapq.heappop(self._heap)
                    if guard in self._live:
                        # Outside the lock would be nicer, but shutdown() does not block.
                        guard.expire()
                wait = (self._heap[0][0] - now) if self._heap else None
                self._cond.wait(timeout=wait)


class Watched:
    """A socket to shut down later, even after TLS wrapped it.

    Wrapping moves the file descriptor from the plain socket object to a new SSL socket object,
    and the plain one is left detached. So the descriptor is kept too, with both ends' addresses:
    it is shut down through the descriptor only while it still joins the same two addresses, so a
    descriptor number the system has since given to another socket is never touched.
    """

    __slots__ = ("fd", "local", "peer", "sock")

    def __init__(self, sock: Any, fd: int, local: Any, peer: Any) -> None:
        self.sock, self.fd, self.local, self.peer = sock, fd, local, peer

    @classmethod
    def of(cls, sock: Any) -> Watched | None:
        """Note a live socket (three system calls: a connection does it once, not per request)."""
        try:
            return cls(sock, sock.fileno(), sock.getsockname(), sock.getpeername())
        except (OSError, AttributeError, ValueError):
            return None

    def shutdown(self) -> None:
        # shutdown(), not close(): it wakes a thread blocked in recv() on this socket, and leaves the
        # descriptor to its owner, which closes it as it unwinds. socket.socket's own shutdown, so an
        # SSL socket is shut at the TCP level without a TLS close exchange.
        with contextlib.suppress(OSError, AttributeError, ValueError):
            if self.sock.fileno() != -1:
                socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
                return
        if self.fd < 0:
            return
        try:
            probe = socket.socket(fileno=self.fd)
        except OSError:
            return
        try:
            if probe.getsockname() == self.local and probe.getpeername() == self.peer:
                probe.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            probe.detach()  # never close a descriptor this object does not own
