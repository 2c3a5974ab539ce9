"""Real HTTP(S) servers on 127.0.0.1 whose behaviour a test configures.

``HttpApp`` maps paths to :class:`Route` behaviours (status, delay, every-k-th error, body,
headers, a huge streamed body, a redirect) and records every request it receives, with
headers and the TLS SNI name. ``serve(app)`` runs it on a free port in a background thread;
``TestPKI`` issues certificates for a host name from a throwaway CA written to a directory;
``refused_port()`` gives a port on which connections are refused.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Route:
    """How the app answers one path.

    Parameters
    ----------
    status, body, headers
        The normal answer.
    delay_s
        Sleep before answering.
    slow_every, slow_delay_s
        Every ``slow_every``-th request to this route sleeps ``slow_delay_s`` first.
    error_every, error_status
        Every ``error_every``-th request to this route (k, 2k, ...) answers ``error_status``
        instead: deterministic error shares (10 = 10 %).
    stream_bytes
        Send a body of this many bytes, generated in chunks (never held in memory).
    location
        Location header (use with a 3xx status).
    echo_header
        Append the value of this request header to the body (to test masking).
    """

    status: int = 200
    body: bytes = b"ok"
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    slow_every: int = 0
    slow_delay_s: float = 0.0
    error_every: int = 0
    error_status: int = 500
    stream_bytes: int | None = None
    location: str | None = None
    echo_header: str | None = None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    sni: str | None
    #: (address, port) of the client end of the connection: tells reused connections apart.
    client: tuple[str, int]


class HttpApp:
    """A configurable app; thread-safe request recorder."""

    def __init__(self, routes: Mapping[str, Route] | None = None, default: Route | None = None) -> None:
        self.routes = dict(routes or {})
        self.default = default or Route()
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._counts: dict[str, int] = {}
        #: Bytes of streamed bodies actually written to sockets.
        self.bytes_sent = 0

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def _record(self, request: RecordedRequest) -> tuple[Route, int]:
        route_path = request.path.split("?", 1)[0]
        route = self.routes.get(route_path, self.default)
        with self._lock:
            self._requests.append(request)
            self._counts[route_path] = count = self._counts.get(route_path, 0) + 1
        return route, count

    def _add_sent(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a load balancer
    timeout = 10
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle and delayed ACKs
    # add 40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_GET

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        app = self.server.app
        sni = getattr(self.connection, "trafficgate_sni", None)
        route, count = app._record(
            RecordedRequest(
                method=self.command,
                path=self.path,
                headers=dict(self.headers.items()),
                sni=sni,
                client=(self.client_address[0], self.client_address[1]),
            )
        )
        if route.delay_s:
            time.sleep(route.delay_s)
        if route.slow_every and count % route.slow_every == 0:
            time.sleep(route.slow_delay_s)
        status = route.status
        if route.error_every and count % route.error_every == 0:
            status = route.error_status
        body = route.body
        if route.echo_header is not None:
            body += (self.headers.get(route.echo_header) or "").encode()
        try:
            self.send_response(status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.location is not None:
                self.send_header("Location", route.location)
            size = route.stream_bytes if route.stream_bytes is not None else len(body)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.command == "HEAD":
                return
            if route.stream_bytes is None:
                self.wfile.write(body)
                return
            chunk = b"x" * 65536
            left = route.stream_bytes
            while left > 0:
                piece = chunk[: min(left, len(chunk))]
                self.wfile.write(piece)
                app._add_sent(len(piece))
                left -= len(piece)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
            # The client hung up (e.g. after reading max_body_bytes): that is the point.
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64  # a burst opens its connections at once; the default backlog is 5

    def __init__(self, app: HttpApp, tls: ssl.SSLContext | None) -> None:
        self.app = app
        self.tls = tls
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs here, in the connection's thread, so a client that never
        # completes it cannot block the accept loop.
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        try:
            tls_request = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls_request, client_address)
        finally:
            # The plain socket was detached by wrap_socket; the TLS one must be closed here.
            self.shutdown_request(tls_request)


@dataclass
class RunningServer:
    app: HttpApp
    host: str
    port: int
    scheme: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


@contextmanager
def serve(app: HttpApp, *, tls: ServerCert | None = None) -> Iterator[RunningServer]:
    """Run ``app`` on 127.0.0.1 (HTTPS with ``tls``) until the block ends."""
    context = tls.server_context() if tls is not None else None
    server = _Server(app, context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield RunningServer(app=app, host="127.0.0.1", port=server.server_address[1], scheme="https" if tls else "http")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections (bound, never listening: no race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
    finally:
        sock.close()


# --- certificates --------------------------------------------------------------------------
@dataclass(frozen=True)
class ServerCert:
    certfile: Path
    keyfile: Path
    hostname: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certfile, self.keyfile)

        def remember_sni(sock: ssl.SSLSocket | ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
            sock.trafficgate_sni = name  # type: ignore[union-attr]

        context.sni_callback = remember_sni
        return context


class TestPKI:
    """A throwaway CA (``ca_file``) that issues server certificates into ``directory``."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Trafficgate Test CA")])
        now = dt.datetime.now(dt.UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.ca_file = directory / "test-ca.pem"
        self.ca_file.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, hostname: str, *, days: float = 30.0, also: tuple[str, ...] = ()) -> ServerCert:
        """A certificate for ``hostname`` (DNS name or IP) that expires in ``days``.

        ``hostname`` is the subject's common name and the first subject alternative name; ``also``
        adds more DNS names after it, in order (as ACM lists them).
        """
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        try:
            san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(hostname))
        except ValueError:
            san = x509.DNSName(hostname)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([san, *(x509.DNSName(n) for n in also)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        stem = f"{hostname.replace(':', '_').replace('*', '_')}-{int(days * 1000)}-{len(also)}"
        certfile = self.directory / f"{stem}.pem"
        keyfile = self.directory / f"{stem}.key"
        certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        keyfile.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return ServerCert(certfile=certfile, keyfile=keyfile, hostname=hostname)
