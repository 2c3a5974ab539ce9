"""Deployment configurations as traffic-shifting steps (``trafficgate_local.rehearsal.traffic``)."""

from __future__ import annotations

import pytest

from trafficgate_local.rehearsal.traffic import PREDEFINED, Step, steps_for


def test_all_at_once_is_one_step_to_100_percent() -> None:
    assert steps_for("CodeDeployDefault.ECSAllAtOnce") == [Step(100, 0.0)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CodeDeployDefault.ECSCanary10Percent5Minutes", [Step(10, 300.0), Step(100, 0.0)]),
        ("CodeDeployDefault.ECSCanary10Percent15Minutes", [Step(10, 900.0), Step(100, 0.0)]),
    ],
)
def test_predefined_canary_shifts_then_finishes(name: str, expected: list[Step]) -> None:
    assert steps_for(name) == expected


@pytest.mark.parametrize(
    ("name", "wait_s"),
    [
        ("CodeDeployDefault.ECSLinear10PercentEvery1Minutes", 60.0),
        ("CodeDeployDefault.ECSLinear10PercentEvery3Minutes", 180.0),
    ],
)
def test_predefined_linear_is_ten_steps_of_ten_percent(name: str, wait_s: float) -> None:
    steps = steps_for(name)
    assert [s.green_percent for s in steps] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert [s.wait_s for s in steps] == [wait_s] * 9 + [0.0]


def test_every_predefined_name_is_accepted_and_ends_at_100_percent() -> None:
    for name in PREDEFINED:
        steps = steps_for(name)
        assert steps[-1] == Step(100, 0.0), name
        assert all(0 < s.green_percent <= 100 for s in steps), name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CodeDeployDefault.ECSCanary25Percent2Minutes", [Step(25, 120.0), Step(100, 0.0)]),
        # Custom configs carry the user's name, not CodeDeployDefault's prefix.
        ("Canary5Percent1Minute", [Step(5, 60.0), Step(100, 0.0)]),
        ("ECSCanary50Percent10Minutes", [Step(50, 600.0), Step(100, 0.0)]),
        ("Linear30PercentEvery2Minutes", [Step(30, 120.0), Step(60, 120.0), Step(90, 120.0), Step(100, 0.0)]),
        ("ECSLinear50PercentEvery1Minute", [Step(50, 60.0), Step(100, 0.0)]),
        ("AllAtOnce", [Step(100, 0.0)]),
    ],
)
def test_custom_names(name: str, expected: list[Step]) -> None:
    assert steps_for(name) == expected


def test_linear_step_that_does_not_divide_100_still_ends_at_100() -> None:
    steps = steps_for("Linear33PercentEvery1Minutes")
    assert [s.green_percent for s in steps] == [33, 66, 99, 100]


@pytest.mark.parametrize(
    "name",
    [
        "",
        "CodeDeployDefault.OneAtATime",
        "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        "Canary10Percent",
        "Linear10Percent5Minutes",
        "canary10percent5minutes",
        "Canary10Percent5Minutes ",
    ],
)
def test_unknown_names_name_the_accepted_forms(name: str) -> None:
    with pytest.raises(ValueError) as raised:
        steps_for(name)
    message = str(raised.value)
    assert repr(name) in message
    assert "CodeDeployDefault.ECSAllAtOnce" in message
    assert "ECSCanary<P>Percent<M>Minutes" in message
    assert "ECSLinear<P>PercentEvery<M>Minutes" in message


@pytest.mark.parametrize("name", ["Canary0Percent5Minutes", "Canary100Percent5Minutes", "Linear0PercentEvery1Minutes"])
def test_percentages_outside_1_to_99_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="between 1 and 99"):
        steps_for(name)
