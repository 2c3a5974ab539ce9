"""Declarative check plans: per hook, which checks run, with what parameters and policies."""

from __future__ import annotations

from trafficgate.plan.exceptions import PlanError
from trafficgate.plan.loader import FunctionCheck, Plan, checks_or_defaults, parse_plan, parse_plan_text

__all__ = ["FunctionCheck", "Plan", "PlanError", "checks_or_defaults", "parse_plan", "parse_plan_text"]
