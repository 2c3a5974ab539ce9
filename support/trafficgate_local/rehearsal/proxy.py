"""A local stand-in for the Application Load Balancer: real listeners on 127.0.0.1 ports that
forward each request to a target group chosen from the listener's rules in the AWS stand-in.

The routing table is read from ELBv2 (DescribeRules, DescribeListeners, DescribeTargetHealth)
whenever the conductor shifts traffic, so what the probes see is exactly what the stand-in says.
As on an ALB, the rules are tried in priority order and the first whose conditions all hold
(host-header, path-pattern, http-header, http-request-method; ``*`` and ``?`` wildcards) decides;
the listener's default action serves the rest. A condition of another kind never holds here.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from trafficgate_local.rehearsal.apps import QuietHTTPServer
from trafficgate_local.rehearsal.user_load import USER_LOAD_HEADER

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization"}


@dataclass
class Route:
    """The weighted target groups behind one listener, resolved to target addresses."""

    targets: list[tuple[str, int, int, str]] = field(default_factory=list)  # (host, port, weight, group ARN)
    counter: int = 0
    #: A fixed-response action's status code (no target then).
    fixed_status: int | None = None
    #: The rule's conditions (empty for the default action: it serves every request).
    conditions: tuple[Mapping[str, Any], ...] = ()

    def matches(self, host: str, path: str, headers: Mapping[str, str], method: str) -> bool:
        """Whether every condition of the rule holds for this request."""
        return all(_condition_holds(c, host, path, headers, method) for c in self.conditions)

    def pick(self) -> tuple[str, int, str] | None:
        """Deterministic weighted round robin (no randomness: rehearsals are repeatable)."""
        total = sum(t[2] for t in self.targets)
        if total <= 0:
            return None
        slot = self.counter % total
        self.counter += 1
        for host, port, weight, group in self.targets:
            if slot < weight:
                return host, port, group
            slot -= weight
        return None


class LocalLoadBalancer:
    """Listeners on 127.0.0.1 for the stand-in's listener ARNs.

    Parameters
    ----------
    elbv2
        A boto3 ELBv2 client pointed at the stand-in.
    listeners
        Listener ARN → local port to serve it on (the listener's own port in the stand-in).
    cloudwatch, load_balancer_arn
        When given, the balancer publishes the ALB metrics a real one would (RequestCount,
        HTTPCode_Target_5XX_Count, TargetResponseTime, UnHealthyHostCount) to the stand-in,
        per target group, every ``publish_interval_s``.
    """

    def __init__(
        self,
        elbv2: Any,
        listeners: dict[str, int],
        *,
        cloudwatch: Any = None,
        load_balancer_arn: str | None = None,
        publish_interval_s: float = 0.5,
    ) -> None:
        self._elbv2 = elbv2
        self._listeners = dict(listeners)
        self._routes: dict[str, list[Route]] = {arn: [] for arn in listeners}
        self._lock = threading.Lock()
        self._servers: list[ThreadingHTTPServer] = []
        self.counts: dict[str, dict[str, int]] = {arn: {} for arn in listeners}
        #: Simulated users' requests (:mod:`.user_load`), by listener and target: never in ``counts``.
        self.user_load_counts: dict[str, dict[str, int]] = {arn: {} for arn in listeners}
        self._cloudwatch = cloudwatch
        self._lb_dimension = load_balancer_arn.split(":loadbalancer/", 1)[-1] if load_balancer_arn else None
        self._interval = publish_interval_s
        self._observed: dict[str, list[tuple[int, float]]] = {}  # group ARN -> (status, seconds)
        self._stopping = threading.Event()

    def start(self) -> LocalLoadBalancer:
        for arn, port in self._listeners.items():
            server = QuietHTTPServer(("127.0.0.1", port), self._handler_for(arn))
            server.daemon_threads = True
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"lb-{port}", daemon=True
            ).start()
            self._servers.append(server)
        self.refresh()
        if self._cloudwatch is not None and self._lb_dimension:
            threading.Thread(target=self._publish_loop, name="lb-metrics", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def observe(self, group: str, status: int, seconds: float) -> None:
        with self._lock:
            self._observed.setdefault(group, []).append((status, seconds))

    def _publish_loop(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self.publish_metrics()
            except Exception:
                if self._stopping.is_set():
                    return

    def publish_metrics(self) -> None:
        """Send what the listeners saw since the last call as ALB metrics, per target group."""
        with self._lock:
            observed, self._observed = self._observed, {}
        for group, samples in observed.items():
            dimensions = [
                {"Name": "TargetGroup", "Value": group.split(":", 5)[-1]},
                {"Name": "LoadBalancer", "Value": self._lb_dimension},
            ]
            unhealthy = sum(
                1
                for d in self._elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
                if d["TargetHealth"]["State"] not in {"healthy", "initial"}
            )
            data: list[dict[str, Any]] = [
                {"MetricName": "RequestCount", "Dimensions": dimensions, "Value": len(samples), "Unit": "Count"},
                {
                    "MetricName": "HTTPCode_Target_5XX_Count",
                    "Dimensions": dimensions,
                    "Value": sum(1 for status, _ in samples if 500 <= status <= 599),
                    "Unit": "Count",
                },
                {"MetricName": "UnHealthyHostCount", "Dimensions": dimensions, "Value": unhealthy, "Unit": "Count"},
            ]
            data += [
                {"MetricName": "TargetResponseTime", "Dimensions": dimensions, "Value": seconds, "Unit": "Seconds"}
                for _, seconds in samples
            ]
            for start in range(0, len(data), 500):
                self._cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data[start : start + 500])

    def refresh(self) -> None:
        """Re-read every listener's rules, default action and target groups from the stand-in."""
        described = self._elbv2.describe_listeners(ListenerArns=list(self._listeners))["Listeners"]
        routes: dict[str, list[Route]] = {}
        for listener in described:
            arn = listener["ListenerArn"]
            rules = [r for r in self._elbv2.describe_rules(ListenerArn=arn)["Rules"] if not r.get("IsDefault")]
            rules.sort(key=lambda r: int(r["Priority"]))
            # The default action comes from DescribeListeners: ModifyListener changes it there.
            routes[arn] = [self._route(r.get("Actions", []), tuple(r.get("Conditions") or ())) for r in rules]
            routes[arn].append(self._route(listener.get("DefaultActions", []), ()))
        with self._lock:
            self._routes = routes

    def _route(self, actions: Sequence[Mapping[str, Any]], conditions: tuple[Mapping[str, Any], ...]) -> Route:
        route = Route(conditions=conditions)
        for action in sorted(actions, key=lambda a: int(a.get("Order", 0))):
            if action.get("Type") == "fixed-response":
                route.fixed_status = int((action.get("FixedResponseConfig") or {}).get("StatusCode", 503))
                break
            if action.get("Type") != "forward":
                continue
            groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
            if not groups and action.get("TargetGroupArn"):
                groups = [{"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}]
            for group in groups:
                weight = int(group.get("Weight", 1))
                for host, port in self._targets(group["TargetGroupArn"]):
                    route.targets.append((host, port, weight, group["TargetGroupArn"]))
            break
        return route

    def _targets(self, target_group_arn: str) -> list[tuple[str, int]]:
        health = self._elbv2.describe_target_health(TargetGroupArn=target_group_arn)["TargetHealthDescriptions"]
        return [(d["Target"]["Id"], int(d["Target"]["Port"])) for d in health]

    def _choose(
        self, arn: str, host: str, path: str, headers: Mapping[str, str], method: str
    ) -> tuple[str, int, str] | int | None:
        """The target for a request, a fixed-response status, or None when the rule has no target."""
        with self._lock:
            for route in self._routes[arn]:
                if route.matches(host, path, headers, method):
                    return route.fixed_status if route.fixed_status is not None else route.pick()
        return 404  # no rule and no default action matched (an ALB always has a default action)

    def _handler_for(self, arn: str) -> type[BaseHTTPRequestHandler]:
        lb = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                self._forward()

            def do_HEAD(self) -> None:
                self._forward()

            def _forward(self) -> None:
                host_header = (self.headers.get("Host") or "").rsplit(":", 1)[0] if self.headers.get("Host") else ""
                headers = {name.lower(): value for name, value in self.headers.items()}
                target = lb._choose(arn, host_header, self.path.split("?", 1)[0], headers, self.command)
                if target is None:
                    self._reply(503, b'{"message": "no targets"}')
                    return
                if isinstance(target, int):
                    self._reply(target, b'{"message": "fixed response"}')
                    return
                host, port, group = target
                key = f"{host}:{port}"
                counts = lb.user_load_counts if self.headers.get(USER_LOAD_HEADER) else lb.counts
                with lb._lock:
                    counts[arn][key] = counts[arn].get(key, 0) + 1
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                conn = http.client.HTTPConnection(host, port, timeout=30)
                started = time.monotonic()
                try:
                    conn.request(self.command, self.path, headers=headers)
                    response = conn.getresponse()
                    body = response.read()
                except OSError:
                    self._reply(502, b'{"message": "bad gateway"}')
                    return
                finally:
                    conn.close()
                # Like an ALB: time from sending to the target until its response is read.
                lb.observe(group, response.status, time.monotonic() - started)
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        return Handler


def _wildcard(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    """An ALB condition value as a regular expression: ``*`` any characters, ``?`` one."""
    text = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(text, re.IGNORECASE if ignore_case else 0)


def _any_matches(values: Sequence[str], text: str, *, ignore_case: bool) -> bool:
    return any(_wildcard(v, ignore_case=ignore_case).fullmatch(text) for v in values)


def _condition_holds(
    condition: Mapping[str, Any], host: str, path: str, headers: Mapping[str, str], method: str
) -> bool:
    kind = condition.get("Field")
    if kind == "host-header":
        values = (condition.get("HostHeaderConfig") or {}).get("Values") or condition.get("Values") or []
        return _any_matches(values, host, ignore_case=True)
    if kind == "path-pattern":
        values = (condition.get("PathPatternConfig") or {}).get("Values") or condition.get("Values") or []
        return _any_matches(values, path, ignore_case=False)
    if kind == "http-header":
        config = condition.get("HttpHeaderConfig") or {}
        wanted = str(config.get("HttpHeaderName", "")).lower()  # header names are case-insensitive
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
        return value is not None and _any_matches(config.get("Values") or [], value, ignore_case=True)
    if kind == "http-request-method":
        values = (condition.get("HttpRequestMethodConfig") or {}).get("Values") or []
        return method in values
    return False  # query-string, source-ip: not modelled, so never routed here
