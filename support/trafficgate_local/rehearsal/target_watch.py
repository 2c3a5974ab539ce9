"""Green's target health as the load balancer reports it, on the rehearsal's timeline whenever it changes.

The stand-in answers ``DescribeTargetHealth`` as a real Application Load Balancer does: green's
targets read ``unused`` (``Target.NotInUse``) while no listener forwards to their group, ``initial``
while the load balancer runs its first health checks once one does, then ``healthy``. The
conductor looks after every step of the deployment and the timeline gets a line each time the
answer differs from the last one, e.g. ``unused (Target.NotInUse) → initial
(Elb.InitialHealthChecking)``.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from trafficgate_local.rehearsal.timeline import Timeline

__all__ = ["SETTLING_STATES", "TargetHealthWatch", "summarise"]

#: States the load balancer is still working on.
SETTLING_STATES = frozenset({"initial", "draining"})
_POLL_S = 0.05


def summarise(descriptions: list[dict[str, Any]]) -> str:
    """One phrase for a group's targets: ``unused (Target.NotInUse)``, or ``1 healthy, 1 initial (...)``."""
    if not descriptions:
        return "no targets"
    kinds: Counter[tuple[str, str]] = Counter(
        (str(d["TargetHealth"]["State"]), str(d["TargetHealth"].get("Reason") or "")) for d in descriptions
    )
    phrases = {kind: kind[0] + (f" ({kind[1]})" if kind[1] else "") for kind in kinds}
    if len(kinds) == 1:
        return next(iter(phrases.values()))
    return ", ".join(f"{count} {phrases[kind]}" for kind, count in sorted(kinds.items()))


class TargetHealthWatch:
    """Reads one target group's health and records each change on the timeline.

    Parameters
    ----------
    elbv2
        A boto3 ELBv2 client pointed at the stand-in.
    target_group_arn, name
        The group to watch and how the timeline names it.
    timeline
        Where the changes go (kind ``target-health``).
    """

    def __init__(self, elbv2: Any, target_group_arn: str, name: str, timeline: Timeline) -> None:
        self._elbv2 = elbv2
        self._arn = target_group_arn
        self.name = name
        self._timeline = timeline
        self.last: str | None = None
        self._settling = False

    def observe(self) -> str:
        """Read the group's health now; add a timeline line if it changed. Returns the summary."""
        descriptions = self._elbv2.describe_target_health(TargetGroupArn=self._arn)["TargetHealthDescriptions"]
        now = summarise(descriptions)
        if now != self.last:
            text = f"target health of {self.name}: " + (f"{self.last} → {now}" if self.last else now)
            self._timeline.emit(
                "target-health",
                text,
                target_group=self.name,
                previous=self.last,
                current=now,
                states=sorted({d["TargetHealth"]["State"] for d in descriptions}),
            )
            self.last = now
        self._settling = any(d["TargetHealth"]["State"] in SETTLING_STATES for d in descriptions)
        return now

    def settle(self, timeout_s: float) -> str:
        """Look until no target is ``initial`` or ``draining`` any more, for at most ``timeout_s``."""
        end = time.monotonic() + timeout_s
        summary = self.observe()
        while self._settling and time.monotonic() < end:
            time.sleep(_POLL_S)
            summary = self.observe()
        return summary
