"""CloudWatch alarms: none of the deployment's alarms may be in ALARM (``cloudwatch.alarms``).

Layer L2 (a check).

The alarms are the deployment group's own (``alarmConfiguration``, when enabled) plus the
operator's ``TRAFFICGATE_ALARMS`` (exact names, or ``prefix*``). CodeDeploy itself watches the
group's alarms only between lifecycle events; checking them inside a hook stops the deployment
at that hook, before the next traffic shift.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trafficgate.aws import AWS_ERRORS, error_code
from trafficgate.checks.base import Check, CheckResult

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

ALARMS_CHECK_ID = "cloudwatch.alarms"
#: DescribeAlarms accepts at most this many AlarmNames per call.
ALARM_NAMES_BATCH = 100
ALARM_TYPES = ["CompositeAlarm", "MetricAlarm"]
MAX_NAMED = 5


class _AlarmsUnreadable(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(kw_only=True)
class AlarmsCheck(Check):
    """No alarm of the deployment is in ALARM.

    Parameters
    ----------
    include_group_alarms
        Also watch the deployment group's ``alarmConfiguration.alarms`` (when it is enabled).
    alarms
        Alarm names (``prefix*`` allowed) to watch instead of the operator's ``alarms`` setting.
    """

    check_id: str = ALARMS_CHECK_ID
    include_group_alarms: bool = True
    alarms: tuple[str, ...] | None = None

    def run(self, ctx: CheckContext) -> CheckResult:
        configured = ctx.settings.alarms if self.alarms is None else self.alarms
        group_config: dict[str, Any] = {}
        group_names: list[str] = []
        if self.include_group_alarms:
            group_config = ctx.deployment().alarm_configuration or {}
            if group_config.get("enabled"):
                group_names = [a["name"] for a in group_config.get("alarms") or [] if a.get("name")]
        exact = _unique([*group_names, *(n for n in configured if not n.endswith("*"))])
        prefixes = _unique([n[:-1] for n in configured if n.endswith("*") and n[:-1]])
        threshold = "none in ALARM"
        if not exact and not prefixes:
            return CheckResult.passed("no alarms configured", value=[], threshold=threshold)

        try:
            found = _read_alarms(ctx, exact, prefixes)
        except _AlarmsUnreadable as exc:
            message = f"could not read CloudWatch alarms: AWS error {exc.code}"
            if group_config.get("ignorePollAlarmFailure"):
                note = f"{message}; ignored because the deployment group sets ignorePollAlarmFailure"
                return CheckResult.passed(note, value=None, threshold=threshold, warnings=(note,))
            return CheckResult.failed(message, value=None, threshold=threshold)

        problems: list[str] = []
        missing = [n for n in exact if n not in found]
        if missing:
            problems.append("alarm not found: " + ", ".join(missing[:MAX_NAMED]) + _more(missing))
        empty = [p for p in prefixes if not any(name.startswith(p) for name in found)]
        if empty:
            problems.append("no alarm matches " + ", ".join(f"{p}*" for p in empty))
        in_alarm = sorted(name for name, alarm in found.items() if alarm["state"] == "ALARM")
        details = {"alarms": found, "missing": missing, "empty_prefixes": [f"{p}*" for p in empty]}
        if in_alarm:
            named = "; ".join(_describe(name, found[name]) for name in in_alarm[:MAX_NAMED])
            problems.insert(0, f"{len(in_alarm)} in ALARM: {named}{_more(in_alarm)}")
        if problems:
            return CheckResult.failed(" · ".join(problems), value=in_alarm, threshold=threshold, details=details)
        return CheckResult.passed(
            f"{len(found)} alarms, none in ALARM", value=in_alarm, threshold=threshold, details=details
        )


def _read_alarms(ctx: CheckContext, exact: list[str], prefixes: list[str]) -> dict[str, dict[str, Any]]:
    cloudwatch = ctx.aws.client("cloudwatch")
    found: dict[str, dict[str, Any]] = {}
    requests: list[dict[str, Any]] = [
        {"AlarmNames": exact[i : i + ALARM_NAMES_BATCH]} for i in range(0, len(exact), ALARM_NAMES_BATCH)
    ]
    requests += [{"AlarmNamePrefix": p} for p in prefixes]
    try:
        for request in requests:
            for kind, alarm in _pages(cloudwatch, request):
                found[alarm["AlarmName"]] = {
                    "state": alarm.get("StateValue"),
                    "reason": alarm.get("StateReason"),
                    "type": kind,
                }
    except AWS_ERRORS as exc:
        raise _AlarmsUnreadable(error_code(exc)) from None
    return found


def _pages(cloudwatch: Any, request: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    token: str | None = None
    while True:
        kwargs = {**request, "AlarmTypes": ALARM_TYPES, **({"NextToken": token} if token else {})}
        page = cloudwatch.describe_alarms(**kwargs)
        yield from (("metric", alarm) for alarm in page.get("MetricAlarms") or [])
        yield from (("composite", alarm) for alarm in page.get("CompositeAlarms") or [])
        token = page.get("NextToken")
        if not token:
            return


def _describe(name: str, alarm: dict[str, Any]) -> str:
    reason = alarm.get("reason")
    return f"{name} ({reason})" if reason else name


def _more(items: list[str]) -> str:
    return f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else ""


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))
