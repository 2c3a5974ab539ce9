"""The stand-in as an HTTP server on the loopback interface: in a thread, or as its own process.

In-process::

    with StandInServer(region_name="eu-west-1") as server:
        client = boto3.client("codedeploy", endpoint_url=server.endpoint_url, ...)
        server.stand_in().register_hook_execution(...)

Standalone::

    python -m trafficgate_local.standin --port 5000 [--host 127.0.0.1] [--region eu-west-1]

and drive it from another process with :class:`~trafficgate_local.standin.client.StandInAdmin`.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from .admin import AdminMiddleware
from .client import StandInAdmin
from .codedeploy import StandIn, install
from .exceptions import StandInError

#: Standard AWS variables the server reads its default region from, in order of precedence.
REGION_ENV_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")


def build_app(*, default_region: str | None = None, account_id: str = DEFAULT_ACCOUNT_ID) -> AdminMiddleware:
    """Return moto's server WSGI app with the CodeDeploy extension installed and admin endpoints in front.

    Parameters
    ----------
    default_region : str, optional
        Region for admin requests that name none.
    account_id : str, optional
        Default moto account for admin requests.
    """
    install()
    moto_app = DomainDispatcherApplication(create_backend_app)
    return AdminMiddleware(moto_app, default_region=default_region, account_id=account_id)


def require_loopback(host: str) -> None:
    """Refuse to bind anywhere but the loopback interface: the stand-in has no authentication."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise StandInError(f"the stand-in only listens on loopback (127.0.0.1, ::1, localhost), not {host!r}")


def default_region_from_env() -> str | None:
    """Return the first of :data:`REGION_ENV_VARS` that is set, else None."""
    for name in REGION_ENV_VARS:
        if os.environ.get(name):
            return os.environ[name]
    return None


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without the per-request access log line (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class _ThreadedStandInServer(ThreadedMotoServer):
    """moto's ThreadedMotoServer serving our wrapped app instead of moto's bare one."""

    def __init__(self, app: AdminMiddleware, host: str, port: int, *, log_requests: bool) -> None:
        super().__init__(ip_address=host, port=port, verbose=False)
        self._app = app
        self._handler = MotoRequestHandler if log_requests else _QuietRequestHandler
        self.startup_error: BaseException | None = None

    def _server_entry(self) -> None:
        try:
            self._server = make_server(self._ip_address, self._port, self._app, True, request_handler=self._handler)
        except BaseException as exc:
            # Without this, start() would wait forever on the ready event when the port is taken.
            self.startup_error = exc
            self._server_ready_event.set()
            return
        self._server_ready_event.set()
        self._server.serve_forever()

    def close(self) -> None:
        self.stop()
        if self._server is not None:
            self._server.server_close()


class StandInServer:
    """A moto server with the CodeDeploy extension and admin endpoints, in a background thread.

    Parameters
    ----------
    host : str, optional
        Loopback address to bind; ``127.0.0.1`` by default.
    port : int, optional
        TCP port; ``0`` (default) picks a free one.
    region_name : str, optional
        Default region for admin requests and for :meth:`stand_in`/:meth:`admin`.
    account_id : str, optional
        moto account; defaults to ``123456789012``.
    log_requests : bool, optional
        Log one access line per request to stderr, as ``moto_server`` does. Off by default to keep
        test output readable.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        region_name: str | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
        log_requests: bool = False,
    ) -> None:
        require_loopback(host)
        self.log_requests = log_requests
        self.host = host
        self.region_name = region_name
        self.account_id = account_id
        self._requested_port = port
        self._server: _ThreadedStandInServer | None = None

    @property
    def port(self) -> int:
        """The bound port (only while running)."""
        if self._server is None:
            raise StandInError("the server is not running")
        return self._server.get_host_and_port()[1]

    @property
    def endpoint_url(self) -> str:
        """``http://host:port`` to pass as boto3's ``endpoint_url``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> StandInServer:
        """Bind and start serving; returns self."""
        if self._server is not None:
            return self
        app = build_app(default_region=self.region_name, account_id=self.account_id)
        server = _ThreadedStandInServer(app, self.host, self._requested_port, log_requests=self.log_requests)
        server.start()
        if server.startup_error is not None:
            raise StandInError(f"cannot listen on {self.host}:{self._requested_port}: {server.startup_error}")
        self._server = server
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> StandInServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stand_in(self, region_name: str | None = None) -> StandIn:
        """In-process control API for this server's backends (they share the process)."""
        region = region_name or self.region_name
        if not region:
            raise StandInError("region_name is required: the server was started without one")
        return StandIn(region, account_id=self.account_id)

    def admin(self, region_name: str | None = None) -> StandInAdmin:
        """HTTP admin client for this server."""
        region = region_name or self.region_name
        if not region:
            raise StandInError("region_name is required: the server was started without one")
        return StandInAdmin(self.endpoint_url, region_name=region, account_id=self.account_id)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m trafficgate_local.standin",
        description="moto server with Trafficgate's CodeDeploy extension and admin endpoints (/_trafficgate)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="TCP port; 0 picks a free one (default 5000)")
    parser.add_argument(
        "--region",
        default=None,
        help=f"default region for admin requests (default: ${' or $'.join(REGION_ENV_VARS)}, else required)",
    )
    parser.add_argument("--account-id", default=DEFAULT_ACCOUNT_ID, help="default moto account id")
    parser.add_argument(
        "--seed-events",
        metavar="DIR",
        help="seed the deployment named by DIR/<hook>.json sample events and register their execution ids",
    )
    return parser.parse_args(argv)


def seed_sample_events(stand_in: StandIn, directory: Path) -> list[str]:
    """Create the deployment the sample events name and register each event's hook execution.

    A local ``trafficgate invoke <hook> --event DIR/<hook>.json`` against the stand-in then has a
    live hook execution to report to, exactly once.

    Returns
    -------
    list of str
        One line per registered event, for the operator.
    """
    import json

    from trafficgate.hooks import Hook

    lines: list[str] = []
    seeded: set[str] = set()
    for path in sorted(directory.glob("*.json")):
        try:
            hook = Hook.parse(path.stem)
        except ValueError:
            continue
        event = json.loads(path.read_text())
        deployment_id = event["DeploymentId"]
        if deployment_id not in seeded:
            stand_in.create_ecs_deployment(deployment_id=deployment_id)
            seeded.add(deployment_id)
        # Ahead of time: each event is invoked later, in any order, so none may be "in progress" yet.
        stand_in.register_hook_execution(
            deployment_id, hook.value, event["LifecycleEventHookExecutionId"], start_event=False
        )
        lines.append(f"seeded {hook.value} of {deployment_id} from {path}")
    if not lines:
        raise StandInError(f"no <hook>.json sample events in {directory}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the stand-in in the foreground until SIGINT/SIGTERM.

    Prints one line ``Trafficgate stand-in listening on http://HOST:PORT`` once the port is bound, so
    a parent process can wait for it (useful with ``--port 0``).
    """
    args = _parse_args(argv)
    try:
        require_loopback(args.host)
    except StandInError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # A local stand-in needs some region for the admin API: us-east-1 when none is set anywhere.
    region = args.region or default_region_from_env() or "us-east-1"
    app = build_app(default_region=region, account_id=args.account_id)
    try:
        server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1

    if args.seed_events:
        try:
            for line in seed_sample_events(StandIn(region, account_id=args.account_id), Path(args.seed_events)):
                print(line, flush=True)
        except (OSError, ValueError, KeyError, StandInError) as exc:
            print(f"error: cannot seed sample events from {args.seed_events}: {exc}", file=sys.stderr)
            server.server_close()
            return 2

    def _stop(signum: int, frame: FrameType | None) -> Any:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Trafficgate stand-in listening on http://{host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
