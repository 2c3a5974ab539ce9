"""Hostile HTTP servers on 127.0.0.1: a broken green, on purpose, written byte by byte.

:class:`HostileServer` accepts connections and hands each parsed request to a behaviour that
writes whatever raw bytes it likes: a body that drips one byte at a time, a charset no codec can
decode, a Location that is not a URL, a response that echoes the request's secret headers, a
keep-alive connection closed right after the answer. It records every request and how long each
connection stayed open, and stops every connection thread when the test ends.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Request:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    connection: int


@dataclass
class Connection:
    """One client connection: when it opened and when the client let go of it."""

    number: int
    opened: float
    closed: float | None = None


@dataclass
class Exchange:
    """What a behaviour gets: the request, and the connection to answer on."""

    request: Request
    sock: socket.socket
    server: HostileServer

    def send(self, data: bytes) -> bool:
        """Write raw bytes; False once the client has gone (or the server is stopping)."""
        if self.server.stopping.is_set():
            return False
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def answer(
        self,
        status: int = 200,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        keep_alive: bool = True,
    ) -> bool:
        """A whole, well-formed response."""
        lines = [f"HTTP/1.1 {status} X"]
        merged = {"Content-Length": str(len(body)), **(headers or {})}
        if not keep_alive:
            merged["Connection"] = "close"
        lines += [f"{k}: {v}" for k, v in merged.items()]
        return self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def drip(self, data: bytes, every_s: float) -> bool:
        """Send ``data`` one byte at a time, ``every_s`` apart, until done or the client leaves."""
        for i in range(len(data)):
            sent = self.send(data[i : i + 1])
            if not sent or self.server.stopping.wait(every_s):
                return False
        return True


Behaviour = Callable[[Exchange], bool]
"""Answers one request; returns False to close the connection after it."""


@dataclass
class HostileServer:
    """A raw TCP server on 127.0.0.1 whose answers a test writes byte by byte."""

    behaviour: Behaviour
    requests: list[Request] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.settimeout(0.1)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []

    @property
    def port(self) -> int:
        port: int = self._listener.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HostileServer:
        thread = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopping.set()
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                record = Connection(number=len(self.connections), opened=time.monotonic())
                self.connections.append(record)
                self._socks.append(sock)
            thread = threading.Thread(target=self._serve, args=(sock, record), name="hostile-conn", daemon=True)
            thread.start()
            with self._lock:
                self._threads.append(thread)

    def _serve(self, sock: socket.socket, record: Connection) -> None:
        sock.settimeout(30)
        buffer = b""
        try:
            while not self.stopping.is_set():
                while b"\r\n\r\n" not in buffer:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                request = _parse(head, record.number)
                with self._lock:
                    self.requests.append(request)
                if not self.behaviour(Exchange(request, sock, self)):
                    return
        except OSError:
            return
        finally:
            record.closed = time.monotonic()
            with contextlib.suppress(OSError):
                sock.close()


def _parse(head: bytes, connection: int) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = [*lines[0].split(" ", 2), "", ""][:3]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return Request(method=method, path=path, headers=headers, raw=head, connection=connection)


@contextmanager
def hostile(behaviour: Behaviour) -> Iterator[HostileServer]:
    """Run a :class:`HostileServer` for the duration of the block."""
    server = HostileServer(behaviour).start()
    try:
        yield server
    finally:
        server.stop()
