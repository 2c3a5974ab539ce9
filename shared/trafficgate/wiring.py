"""Is this function wired to the lifecycle event CodeDeploy is running? (appspec ``Hooks``).

Layer L4 (orchestration): imports the leaves, the check context and the verdict's record type.
CodeDeploy's event names neither the hook nor the function, so a function listed under the wrong
appspec key would silently run another hook's plan: the AfterInstall checks at
AfterAllowTestTraffic, say, and pass a deployment nobody probed. The deployment target's
lifecycle events say which one is ``InProgress``; a mismatch fails the hook with a reason that
says how to fix the appspec.
"""

from __future__ import annotations

from trafficgate.context import CheckContext
from trafficgate.hooks import Hook
from trafficgate.outcome import Outcome
from trafficgate.verdict import CheckRecord

#: The gate's own id for a function wired to the wrong hook.
WIRING_CHECK_ID = "trafficgate.wiring"


def wiring_record(hook: Hook, ctx: CheckContext) -> CheckRecord | None:
    """A failing record when another lifecycle event than ``hook`` is in progress; else None.

    The deployment targets are read through ``ctx``, once: the checks' task sets come from the same read.

    Nothing to judge (no event in progress, the targets unreadable) is not a failure here: the
    checks that need the targets say so themselves.
    """
    try:
        events = ctx.lifecycle_events()
    except Exception:  # CheckError (AWS said no) or anything else: this pre-check never fails a hook itself
        return None
    running = [e.name for e in events if e.status == "InProgress"]
    if not running or hook.value in running:
        return None
    return CheckRecord(
        check_id=WIRING_CHECK_ID,
        outcome=Outcome.FAIL,
        reason=(
            f"this function serves {hook.value}, but the lifecycle event in progress is {', '.join(running)}: "
            f"list it under {hook.value} in the appspec Hooks, and the {running[0]} function under {running[0]}"
        ),
        value=running,
        threshold=hook.value,
    )
