"""One probe request: send, follow same-origin redirects if asked, read a capped body, judge it.

Layer L1 (probe engine). Every request has a time budget (``timeout_s``, clamped to the
caller's deadline); a request cut short by the deadline is *aborted*, not failed: the
deployment did nothing wrong, we ran out of time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3

from trafficgate.probe.classify import TRANSPORT_ERRORS, TotalTimeout, classify_error
from trafficgate.probe.kinds import (
    CHUNK,
    CONNECT_TIMEOUT,
    MAX_REDIRECTS,
    READ_TIMEOUT,
    REDIRECT_BLOCKED,
    REDIRECT_LIMIT,
    REDIRECT_STATUSES,
    STATUS,
)
from trafficgate.probe.rules import Rules
from trafficgate.probe.spec import ProbeSpec
from trafficgate.probe.target import Target


@dataclass(slots=True, kw_only=True)
class RequestOutcome:
    index: int
    ok: bool
    aborted: bool = False
    kind: str | None = None
    status: int | None = None
    latency_ms: float | None = None
    detail: str | None = None
    body: bytes = b""
    truncated: bool = False
    bytes_read: int = 0
    redirects: int = 0
    blocked_redirect: bool = False


class Prober:
    """Everything one request needs; shared read-only by the worker threads."""

    def __init__(
        self,
        spec: ProbeSpec,
        target: Target,
        session: requests.Session,
        adapter: requests.adapters.BaseAdapter,
        deadline: float | None,
    ) -> None:
        self.spec = spec
        self.target = target
        self.session = session
        self.adapter = adapter
        self.deadline = deadline
        self.rules = Rules(spec)
        self.verify: bool | str = (spec.ca_bundle or True) if spec.tls_verify else False
        self.headers: dict[str, str] = dict(spec.headers)
        if target.host_header is not None:
            self.headers["Host"] = target.host_header
        self.first_path = target.base_path + spec.path
        self.first_request = self._prepare(spec.method, self.first_path)

    def _prepare(self, method: str, path: str) -> requests.PreparedRequest:
        request = requests.Request(method, self.target.connect_url(path), headers=self.headers)
        return self.session.prepare_request(request)

    def run(self, index: int) -> RequestOutcome:
        started = time.monotonic()
        budget = self.spec.timeout_s
        clamped = False
        if self.deadline is not None and self.deadline - started < budget:
            budget, clamped = max(self.deadline - started, 0.001), True
        end_by = started + budget
        outcome = RequestOutcome(index=index, ok=False)
        try:
            self._exchange(outcome, started, end_by)
        except TRANSPORT_ERRORS as exc:
            outcome.kind = classify_error(exc)
            if clamped and time.monotonic() >= end_by - 0.01 and outcome.kind in (CONNECT_TIMEOUT, READ_TIMEOUT):
                outcome.aborted = True
        return outcome

    def _exchange(self, outcome: RequestOutcome, started: float, end_by: float) -> None:
        method, path = self.spec.method, self.first_path
        prepared = self.first_request.copy()
        while True:
            left = end_by - time.monotonic()
            if left <= 0:
                raise TotalTimeout()
            # urllib3's Timeout(total=...) caps connect and each read by what is left.
            timeout: Any = urllib3.Timeout(total=left)
            response = self.adapter.send(prepared, stream=True, timeout=timeout, verify=self.verify, proxies={})
            try:
                status = response.status_code
                location = response.headers.get("Location")
                if self.spec.follow_redirects and status in REDIRECT_STATUSES and location:
                    next_path = self.target.same_origin_path(urljoin(self.target.named_url(path), location))
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
                self._read_body(response, outcome, end_by)
                outcome.latency_ms = (time.monotonic() - started) * 1000.0
            finally:
                response.close()
            break
        self._judge(outcome, response.headers)

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
        if outcome.status not in self.rules.accepted:
            outcome.kind = REDIRECT_BLOCKED if outcome.blocked_redirect else STATUS
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
