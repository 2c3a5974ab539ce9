"""The apps behind a rehearsal's load balancer, and the processes and ports they need.

Blue and green are each one of: an app the user already runs (a URL), a command of the user's,
started here with ``$PORT`` in its environment and in its own process group, or one of our demo
apps (:mod:`.apps`). Whatever is started is stopped when the rehearsal's exit stack closes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from urllib.parse import urlsplit

from trafficgate_local.rehearsal.apps import AppBehaviour, DemoApp

__all__ = ["COMMAND_START_TIMEOUT_S", "free_port", "start_app", "start_command", "terminate", "wait_for_port"]

#: How long a user's command may take to listen on ``$PORT``.
COMMAND_START_TIMEOUT_S = 20.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on at the moment."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, *, timeout_s: float, proc: subprocess.Popen[bytes]) -> bool:
    """Wait until something accepts connections on 127.0.0.1:``port``.

    Returns
    -------
    bool
        True once a connection succeeds; False when ``proc`` exits first or ``timeout_s`` passes.
    """
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
        time.sleep(0.1)
    return False


def terminate(proc: subprocess.Popen[bytes]) -> None:
    """Stop the process group ``proc`` leads: SIGTERM, then SIGKILL after 5 s."""
    # The whole group the command started (see start_command), not just its shell.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def start_command(name: str, command: str, stack: contextlib.ExitStack) -> tuple[str, int]:
    """Run a user's shell command that serves an app on ``$PORT``, and wait until it listens.

    Parameters
    ----------
    name : str
        ``blue`` or ``green``, for the error message.
    command : str
        A shell command line.
    stack : ExitStack
        Terminates the command's process group when it closes.

    Returns
    -------
    tuple of (str, int)
        ``("127.0.0.1", port)``.

    Raises
    ------
    RuntimeError
        When the command exits or does not listen within :data:`COMMAND_START_TIMEOUT_S`.
    """
    port = free_port()
    # Its own process group: `sh -c "cd app && python serve.py"` forks the app, and terminating
    # only the shell would leave the app running (and holding our stderr) after the rehearsal.
    proc = subprocess.Popen(
        command,
        shell=True,
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    stack.callback(terminate, proc)
    if not wait_for_port(port, timeout_s=COMMAND_START_TIMEOUT_S, proc=proc):
        raise RuntimeError(
            f"{name} command `{command}` did not listen on $PORT={port} within {COMMAND_START_TIMEOUT_S:.0f} s"
        )
    return "127.0.0.1", port


def start_app(
    name: str, url: str | None, command: str | None, behaviour: AppBehaviour, stack: contextlib.ExitStack
) -> tuple[str, int]:
    """Return the address of blue or green: the user's URL, the user's command, or a demo app.

    Parameters
    ----------
    name : str
        ``blue`` or ``green``.
    url : str or None
        The user's running app, ``http://host:port`` (already validated).
    command : str or None
        A command that starts the user's app on ``$PORT``.
    behaviour : AppBehaviour
        How our demo app answers, when neither ``url`` nor ``command`` is given.
    stack : ExitStack
        Stops what was started when it closes.

    Returns
    -------
    tuple of (str, int)
        Host and port the load balancer forwards to.
    """
    if url:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        return parts.hostname, parts.port
    if command:
        return start_command(name, command, stack)
    app = DemoApp(behaviour).start()
    stack.callback(app.stop)
    return "127.0.0.1", app.port
