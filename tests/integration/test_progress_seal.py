"""The seal on a continuing hook's progress: KMS HMAC keys on moto, through the seal and the runner."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.integration.test_checks_alarms_metrics import hand_built
from tests.support.fakes import FakeReporter, FixedContext
from tests.unit.test_ecs_hook import sample
from trafficgate.aws import AwsClients
from trafficgate.checks.metrics import FiveXxRate
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.continuation import HOOK_DETAILS_KEY
from trafficgate.hooks import EcsStage, Hook
from trafficgate.runner import HookRunner
from trafficgate.seal import MAC_KEY, TEXT_KEY, ProgressSeal, SealError, UntrustedProgress
from trafficgate_local.standin.cloudwatch import install_cloudwatch

pytestmark = pytest.mark.integration

BINDING = "d-SEAL00001|exec-1|AfterAllowTraffic"
PROGRESS: dict[str, Any] = {"v": 1, "started_at": 1.5, "calls": 2, "done": [], "waiting": None}


@pytest.fixture
def key() -> Iterator[str]:
    with mock_aws():
        install_cloudwatch()
        kms = boto3.client("kms", region_name="us-east-1")
        arn: str = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
        yield arn


def test_a_sealed_progress_is_read_back_and_nothing_else_is(key: str) -> None:
    seal = ProgressSeal(AwsClients(), key)
    sealed = seal.seal(PROGRESS, binding=BINDING)

    assert set(sealed) == {TEXT_KEY, MAC_KEY} and len(base64.b64decode(sealed[MAC_KEY])) == 32
    assert seal.check(sealed, binding=BINDING) == PROGRESS
    # The text travels as a string: JSON numbers re-encoded on the way (1.5 as 1.50) cannot reach it.
    assert seal.check(json.loads(json.dumps(sealed)), binding=BINDING) == PROGRESS
    # Another hook execution, a changed text, no seal, a bare progress, a seal that is not base64.
    with pytest.raises(UntrustedProgress, match="does not match this progress and hook"):
        seal.check(sealed, binding="d-OTHER0001|exec-1|AfterAllowTraffic")
    with pytest.raises(UntrustedProgress, match="does not match"):
        seal.check({**sealed, TEXT_KEY: sealed[TEXT_KEY].replace('"calls":2', '"calls":0')}, binding=BINDING)
    with pytest.raises(UntrustedProgress, match="carries no seal"):
        seal.check({TEXT_KEY: sealed[TEXT_KEY]}, binding=BINDING)
    with pytest.raises(UntrustedProgress, match="carries no seal"):
        seal.check(PROGRESS, binding=BINDING)
    with pytest.raises(UntrustedProgress, match="not base64"):
        seal.check({**sealed, MAC_KEY: "not base64!"}, binding=BINDING)
    # A progress that is not JSON (NaN) is never handed over unsealed: sealing fails instead.
    with pytest.raises(SealError, match="not JSON"):
        seal.seal({**PROGRESS, "rest_s": float("nan")}, binding=BINDING)


def test_without_a_key_the_progress_passes_unsealed(key: str) -> None:
    seal = ProgressSeal(AwsClients(), None)
    assert seal.seal(PROGRESS, binding=BINDING) == PROGRESS
    assert seal.check(PROGRESS, binding=BINDING) == PROGRESS


#: A key this account does not have (deleted, or a wrong ARN in the stack's parameter).
GONE = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"


def test_a_key_kms_refuses_cannot_seal_and_says_which_call(key: str) -> None:
    with pytest.raises(SealError, match=r"\(kms:GenerateMac\): AWS error NotFoundException"):
        ProgressSeal(AwsClients(), GONE).seal(PROGRESS, binding=BINDING)
    with pytest.raises(UntrustedProgress, match=r"could not be checked \(kms:VerifyMac\): AWS error NotFoundException"):
        ProgressSeal(AwsClients(), GONE).check({TEXT_KEY: "{}", MAC_KEY: "AAAA"}, binding=BINDING)


def _bake(runner: HookRunner, event: dict[str, Any]) -> dict[str, Any]:
    def plan(hook: Hook, ctx: CheckContext) -> list[FiveXxRate]:
        ctx._deployment = hand_built()
        return [FiveXxRate()]

    answer: dict[str, Any] = runner.run_ecs(event, FixedContext(60_000), plan=plan)
    return answer


def _inside(envelope: dict[str, Any]) -> dict[str, Any]:
    inner: dict[str, Any] = json.loads(envelope[TEXT_KEY])
    return inner


def test_the_runner_seals_what_it_hands_ecs_and_trusts_only_that(key: str) -> None:
    runner = HookRunner(settings=Settings(bake_seconds=1200.0, progress_key_arn=key), reporter=FakeReporter())
    event = sample(EcsStage.POST_PRODUCTION_TRAFFIC_SHIFT)

    first = _bake(runner, event)
    assert first["hookStatus"] == "IN_PROGRESS"
    envelope = first["hookDetails"][HOOK_DETAILS_KEY]
    assert set(envelope) == {TEXT_KEY, MAC_KEY} and _inside(envelope)["calls"] == 1

    # ECS hands the details back: the bake goes on from where it was (one call more, same start).
    second = _bake(runner, {**event, "hookDetails": first["hookDetails"]})
    carried = second["hookDetails"][HOOK_DETAILS_KEY]
    assert (_inside(carried)["calls"], _inside(carried)["started_at"]) == (2, _inside(envelope)["started_at"])

    # ECS may give a stage's next call another executionId: the seal is bound to the service
    # deployment and the stage, so it still holds; handed to another stage, it does not.
    renamed = _bake(runner, {**event, "executionId": "another-id", "hookDetails": second["hookDetails"]})
    assert _inside(renamed["hookDetails"][HOOK_DETAILS_KEY])["calls"] == 3
    elsewhere = sample(EcsStage.POST_TEST_TRAFFIC_SHIFT)
    with pytest.raises(UntrustedProgress, match="does not match"):
        runner.seal.check(carried, binding=f"{elsewhere['resourceArn']}|{EcsStage.POST_TEST_TRAFFIC_SHIFT.value}")

    # A progress someone wrote by hand (here: an earlier start, the seal kept) fails the stage: it is
    # not started over either, which would give it fresh bounds.
    text = _inside(envelope)
    forged = {**envelope, TEXT_KEY: json.dumps({**text, "started_at": text["started_at"] - 3000})}
    assert _bake(runner, {**event, "hookDetails": {HOOK_DETAILS_KEY: forged}}) == {"hookStatus": "FAILED"}
    # So does a bare progress, with no seal at all.
    assert _bake(runner, {**event, "hookDetails": {HOOK_DETAILS_KEY: text}}) == {"hookStatus": "FAILED"}


def test_a_hook_that_cannot_seal_fails_instead_of_handing_over_an_unsealed_progress(key: str) -> None:
    runner = HookRunner(settings=Settings(bake_seconds=1200.0, progress_key_arn=GONE), reporter=FakeReporter())

    answer = _bake(runner, sample(EcsStage.POST_PRODUCTION_TRAFFIC_SHIFT))

    assert answer == {"hookStatus": "FAILED"}


def test_a_codedeploy_link_hands_over_a_sealed_progress_and_a_forged_one_fails(key: str) -> None:
    from tests.support.fakes import FakeContinuer, FunctionContext
    from tests.unit.test_continuation import EVENT, Counts, Shrinking, Waits
    from trafficgate.continuation import EVENT_KEY

    continuer = FakeContinuer()
    runner = HookRunner(settings=Settings(progress_key_arn=key), reporter=FakeReporter(), continuer=continuer)
    before, waits = Counts(check_id="demo.before"), Waits(check_id="demo.waits", after_s=600)
    plan = [before, waits]

    runner.run(Hook.AFTER_ALLOW_TRAFFIC, EVENT, Shrinking(60_000), plan=plan)
    ((_arn, linked),) = continuer.calls
    assert set(linked[EVENT_KEY]) == {TEXT_KEY, MAC_KEY} and before.runs == [1]

    # The next link trusts its sealed progress: demo.before is not run again.
    runner.run(Hook.AFTER_ALLOW_TRAFFIC, linked, FunctionContext(6_000), plan=plan)
    assert before.runs == [1]
    assert _inside(continuer.calls[1][1][EVENT_KEY])["calls"] == _inside(linked[EVENT_KEY])["calls"] + 1

    # A progress with a seal someone made up is not ours: the link reports Failed, running nothing.
    reporter = FakeReporter()
    strict = HookRunner(settings=Settings(progress_key_arn=key), reporter=reporter, continuer=FakeContinuer())
    forged = {**linked, EVENT_KEY: {**linked[EVENT_KEY], MAC_KEY: base64.b64encode(b"x" * 32).decode()}}
    summary = strict.run(Hook.AFTER_ALLOW_TRAFFIC, forged, Shrinking(60_000), plan=plan)
    assert before.runs == [1] and [status for _, _, status in reporter.calls] == ["Failed"]
    assert "the progress seal does not match this progress and hook: the hook does not trust it" in summary["reason"]


def test_a_codedeploy_link_that_cannot_seal_reports_failed_naming_the_key_permission(key: str) -> None:
    from tests.support.fakes import FakeContinuer
    from tests.unit.test_continuation import EVENT, Shrinking, Waits

    reporter, continuer = FakeReporter(), FakeContinuer()
    runner = HookRunner(settings=Settings(progress_key_arn=GONE), reporter=reporter, continuer=continuer)

    summary = runner.run(Hook.AFTER_ALLOW_TRAFFIC, EVENT, Shrinking(60_000), plan=[Waits(check_id="demo.waits")])

    assert continuer.calls == []  # nothing unsealed is handed over
    assert [status for _, _, status in reporter.calls] == ["Failed"]
    assert "(kms:GenerateMac): AWS error NotFoundException); the function needs kms:GenerateMac" in summary["reason"]

