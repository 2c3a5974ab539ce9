"""One probe request: send, follow same-origin redirects if asked, read a capped body, judge it.

Layer L1 (probe engine). Every request has a time budget (``timeout_s``, clamped to the
caller's deadline) for the whole exchange, enforced by the burst's reaper; a request cut short by
the hook's deadline is *aborted*, not failed: the deployment did nothing wrong, we ran out of
time. Whatever green sends (a broken charset, a malformed Location, a connection closed mid-way)
ends as a failed request with a named kind, never as an exception out of the burst.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3

from trafficgate.probe.classify import TRANSPORT_ERRORS, TotalTimeout, classify_error, closed_before_response
from trafficgate.probe.guard import GUARD_SLACK_S, Reaper
from trafficgate.probe.kinds import (
    CHUNK,
    CONNECT_TIMEOUT,
    IDEMPOTENT_METHODS,
    INVALID_RESPONSE,
    MAX_REDIRECTS,
    READ_TIMEOUT,
    REDIRECT_BLOCKED,
    REDIRECT_LIMIT,
    REDIRECT_STATUSES,
    STATUS,
    TOTAL_TIMEOUT,
)
from trafficgate.probe.rules import Rules
from trafficgate.probe.spec import ProbeSpec
from trafficgate.probe.target import Target
from trafficgate.redaction import Masker

logger = logging.getLogger(__name__)


@dataclass(slots=True, kw_only=True)
class RequestOutcome:
    index: int
    ok: bool
    aborted: bool = False
    kind: str | None = None
    status: int | None = None
    #: The final response's Content-Type, cut to 200 characters (``keep_body`` probers only).
    content_type: str | None = None
    latency_ms: float | None = None
    detail: str | None = None
    body: bytes = b""
    truncated: bool = False
    bytes_read: int = 0
    redirects: int = 0
    blocked_redirect: bool = False
    retried: bool = False


class Prober:
    """Everything one request needs; shared read-only by the worker threads.

    Parameters
    ----------
    reaper
        Shuts a request's sockets when its time is up, or when the burst is called off.
    mask
        Masks the spec's secrets in the details built from what green sent.
    keep_body
        Keep the whole body read (up to ``max_body_bytes``) and the Content-Type, for a caller
        that looks at the answer itself (``http.diff``); otherwise only what the assertions need.
    """

    def __init__(
        self,
        spec: ProbeSpec,
        target: Target,
        session: requests.Session,
        adapter: requests.adapters.BaseAdapter,
        deadline: float | None,
        *,
        reaper: Reaper,
        mask: Masker | None = None,
        keep_body: bool = False,
    ) -> None:
        self.spec = spec
        self.target = target
        self.session = session
        self.adapter = adapter
        self.deadline = deadline
        self.reaper = reaper
        self.rules = Rules(spec, mask)
        self.keep_body = keep_body
        if keep_body:
            self.rules.keep_bytes = spec.max_body_bytes
        self.verify: bool | str = (spec.ca_bundle or True) if spec.tls_verify else False
        self.headers: dict[str, str] = dict(spec.headers)
        if target.host_header is not None:
            self.headers["Host"] = target.host_header
        self.first_path = target.base_path + spec.path
        self.first_request = self._prepare(spec.method, self.first_path)
        self.retry_stale = spec.method in IDEMPOTENT_METHODS

    def _prepare(self, method: str, path: str) -> requests.PreparedRequest:
        request = requests.Request(method, self.target.connect_url(path), headers=self.headers)
        return self.session.prepare_request(request)

    def run(self, index: int) -> RequestOutcome:
        """One request, judged; never raises for anything the target did."""
        started = time.monotonic()
        budget = self.spec.timeout_s
        clamped = False
        if self.deadline is not None and self.deadline - started < budget:
            budget, clamped = max(self.deadline - started, 0.001), True
        end_by = started + budget
        outcome = RequestOutcome(index=index, ok=False)
        # The reaper acts a little after the budget: a silent server trips the socket's own
        # timeout first (read_timeout); only bytes that keep dripping meet the reaper.
        with self.reaper.guard(end_by + GUARD_SLACK_S) as guard:
            if guard.over:
                outcome.aborted = True
                return outcome
            while True:
                try:
                    self._exchange(outcome, started, end_by)
                except TRANSPORT_ERRORS as exc:
                    kind = classify_error(exc)
                    if guard.cancelled:
                        outcome.aborted = True
                    elif kind in {CONNECT_TIMEOUT, READ_TIMEOUT}:
                        # Silence longer than the time left: the socket timed out on its own.
                        outcome.kind = kind
                        outcome.aborted = clamped and time.monotonic() >= end_by - 0.01
                    elif guard.expired or isinstance(exc, TotalTimeout) or time.monotonic() >= end_by:
                        # Bytes kept coming, too slowly: the reaper shut the socket at the end time.
                        outcome.kind = TOTAL_TIMEOUT
                        outcome.aborted = clamped
                    elif self.retry_stale and not outcome.retried and outcome.status is None and (
                        closed_before_response(exc)
                    ):
                        # A kept-alive connection the server had closed: ask again, once, on a new one.
                        outcome = RequestOutcome(index=index, ok=False, retried=True)
                        continue
                    else:
                        outcome.kind = kind
                except Exception as exc:  # green sent something no parser expected: a named failure
                    logger.debug("unusable response", exc_info=True)
                    outcome.kind = INVALID_RESPONSE
                    outcome.detail = f"unusable response ({type(exc).__name__})"
                    outcome.ok = False
                break
        return outcome

    def _exchange(self, outcome: RequestOutcome, started: float, end_by: float) -> None:
        method, path = self.spec.method, self.first_path
        prepared = self.first_request.copy()
        while True:
            left = end_by - time.monotonic()
            if left <= 0:
                raise TotalTimeout()
            # urllib3's Timeout(total=...) caps connect and each read by what is left; the reaper
            # caps the whole exchange.
            timeout: Any = urllib3.Timeout(total=left)
            response = self.adapter.send(prepared, stream=True, timeout=timeout, verify=self.verify, proxies={})
            try:
                status = response.status_code
                location = response.headers.get("Location")
                if self.spec.follow_redirects and status in REDIRECT_STATUSES and location:
                    next_path = self._same_origin(path, location)
                    if next_path is not None and outcome.redirects < MAX_REDIRECTS:
                        outcome.redirects += 1
                        method = _redirect_method(method, status)
                        path = next_path
                        prepared = self._prepare(method, path)
                        _discard(response)
                        continue
                    if next_path is None:
                        outcome.blocked_redirect = True
                    else:
                        outcome.kind = REDIRECT_LIMIT
                outcome.status = status
                if self.keep_body:
                    outcome.content_type = (response.headers.get("Content-Type") or "")[:200] or None
                self._read_body(response, outcome, end_by)
                outcome.latency_ms = (time.monotonic() - started) * 1000.0
            finally:
                response.close()
            break
        self._judge(outcome, response.headers)

    def _same_origin(self, path: str, location: str) -> str | None:
        """The path of a same-origin redirect target, or None (another origin, or a malformed URL)."""
        try:
            return self.target.same_origin_path(urljoin(self.target.named_url(path), location))
        except ValueError:  # "http://[::1" and friends: green's Location, green's failure
            return None

    def _read_body(self, response: requests.Response, outcome: RequestOutcome, end_by: float) -> None:
        raw = response.raw
        limit = self.spec.max_body_bytes
        keep = self.rules.keep_bytes
        kept = bytearray()
        total = 0
        exhausted = False
        while total < limit:
            if time.monotonic() > end_by:
                raise TotalTimeout()
            chunk = _read(raw, min(CHUNK, limit - total))
            if not chunk:
                exhausted = True
                break
            total += len(chunk)
            if len(kept) < keep:
                kept += chunk[: keep - len(kept)]
        if not exhausted:
            # At the cap: one more byte tells "exactly max_body_bytes" from "truncated".
            outcome.truncated = bool(_read(raw, 1))
        outcome.bytes_read = total
        outcome.body = bytes(kept)
        if outcome.truncated:
            # The rest of the body is still on the wire: the connection cannot be reused.
            _discard(response)
        else:
            release = getattr(raw, "release_conn", None)
            if callable(release):
                release()

    def _judge(self, outcome: RequestOutcome, headers: Mapping[str, str]) -> None:
        if outcome.kind == REDIRECT_LIMIT:
            outcome.detail = f"more than {MAX_REDIRECTS} redirects (status {outcome.status})"
            return
        if outcome.blocked_redirect:
            # Following was asked for, so a final answer was expected: a refused hop is no answer.
            outcome.kind = REDIRECT_BLOCKED
            outcome.detail = f"status {outcome.status} redirects to another origin (not followed)"
            return
        if outcome.status not in self.rules.accepted:
            outcome.kind = STATUS
            outcome.detail = f"status {outcome.status} not in {self.rules.accepted}"
            return
        failure = self.rules.check(headers, outcome.body, outcome.truncated, self.spec.max_body_bytes)
        if failure is not None:
            outcome.kind, outcome.detail = failure
            return
        outcome.ok = True


def _read(raw: Any, amount: int) -> bytes:
    if isinstance(raw, urllib3.HTTPResponse):
        return raw.read(amount, decode_content=True)
    data = raw.read(amount)
    return bytes(data) if data else b""


def _discard(response: requests.Response) -> None:
    """Close the connection under a response whose body was not read to the end."""
    close = getattr(response.raw, "close", None)
    if callable(close):
        close()


def _redirect_method(method: str, status: int) -> str:
    # What browsers (and requests) do: 303 turns into GET, and so do 301/302 after a POST.
    if status == 303 and method != "HEAD":
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method
