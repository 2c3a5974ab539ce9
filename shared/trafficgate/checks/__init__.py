"""The checks, and the API custom checks are written against.

Layer L2. Each module below holds one check (or one family sharing one read, like the CloudWatch
metric checks) and never imports a sibling check, a plan or the configuration. Which checks a hook
runs is decided above, in :mod:`trafficgate.plan`.

The names a custom check needs::

    from trafficgate.checks import Check, CheckContext, CheckError, CheckResult, Outcome, Policy
"""

from __future__ import annotations

from trafficgate.checks.base import Check, CheckError, CheckResult, Outcome, Policy
from trafficgate.context import CheckContext

__all__ = ["Check", "CheckContext", "CheckError", "CheckResult", "Outcome", "Policy"]
