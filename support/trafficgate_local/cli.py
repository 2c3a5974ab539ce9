"""``trafficgate``: the Docker-free local runner and the embedded AWS stand-in.

trafficgate invoke AfterAllowTestTraffic --event events/after_allow_test_traffic.json --timeout 60
trafficgate standin --port 5000
trafficgate rehearse --scenario errors
trafficgate rehearse --platform ecs --config ecs:CANARY:10:5 --user-load 30
trafficgate check --hook AfterAllowTestTraffic --test-url http://localhost:8080   (see :mod:`.check_command`)
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import signal
import sys
from pathlib import Path
from typing import Any

from trafficgate.hooks import EcsStage
from trafficgate_local.check_command import cmd_check
from trafficgate_local.cli_common import (
    EXIT_FAILED,
    EXIT_IN_PROGRESS,
    EXIT_SUCCEEDED,
    EXIT_USAGE,
    html_target,
    parse_hook_or_stage,
    parse_set,
    write_html,
)

_HTML_HELP = (
    "also write one self-contained HTML page of the evidence: timeline, latency CDFs with their limits, "
    "failures over time, every check's verdict"
)


def _default_template() -> Path:
    return Path.cwd() / "template.yaml"


def _read_json(path: str, what: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise SystemExit(f"trafficgate: cannot read {what} {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"trafficgate: {what} {path} is not valid JSON: {exc}") from None


def _parse_overrides(items: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in items:
        for pair in item.split():
            key, sep, value = pair.partition("=")
            if not sep:
                raise SystemExit(f"trafficgate: --parameter-overrides expects Key=Value, got {pair!r}")
            overrides[key.removeprefix("ParameterKey=")] = value
    return overrides


def cmd_invoke(args: argparse.Namespace) -> int:
    from trafficgate_local.invoke import invoke
    from trafficgate_local.render import print_verdict
    from trafficgate_local.template import TemplateError

    hook = parse_hook_or_stage(args.hook)
    if hook is None:
        return EXIT_USAGE
    default_event = (
        Path("ecs") / f"{hook.value.lower()}.json" if isinstance(hook, EcsStage) else Path(f"{hook.module_name}.json")
    )
    event_path = args.event or str(Path(args.template).parent / "events" / default_event)
    event = _read_json(event_path, "event")
    env_vars = _read_json(args.env_vars, "--env-vars file") if args.env_vars else None
    region = _region(args.region, args.profile)
    if region is None:
        return EXIT_USAGE
    try:
        result = invoke(
            hook,
            event,
            template=Path(args.template),
            timeout_s=args.timeout,
            region=region,
            parameter_overrides=_parse_overrides(args.parameter_overrides or []),
            env_vars_file=env_vars,
            extra_env={"AWS_PROFILE": args.profile} if args.profile else None,
        )
    except TemplateError as exc:
        print(f"trafficgate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if result.error is not None:
        if args.json:
            print(json.dumps({"error": result.error}, indent=2))
        print(
            f"trafficgate: {result.function.function_name} failed: "
            f"{result.error.get('errorType')}: {result.error.get('errorMessage')}",
            file=sys.stderr,
        )
        return EXIT_USAGE if result.error.get("errorType") == "InvalidEventError" else EXIT_FAILED
    summary = result.returned
    if isinstance(hook, EcsStage):
        return _ecs_answer(summary, as_json=args.json)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_verdict(summary)
    return EXIT_SUCCEEDED if summary.get("status") == "Succeeded" else EXIT_FAILED


def _ecs_answer(answer: Any, *, as_json: bool) -> int:
    """Print what an ECS lifecycle hook returned; 0, 1 or 3 for SUCCEEDED, FAILED or IN_PROGRESS.

    The verdict itself is in the function's log (stderr); ECS reads only the returned status.
    """
    status = answer.get("hookStatus") if isinstance(answer, dict) else None
    print(json.dumps(answer, indent=2) if as_json else f"hookStatus: {status}")
    codes = {"SUCCEEDED": EXIT_SUCCEEDED, "FAILED": EXIT_FAILED, "IN_PROGRESS": EXIT_IN_PROGRESS}
    if status not in codes:
        print(f"trafficgate: the function returned no valid hookStatus ({answer!r:.200}); ECS would roll back",
              file=sys.stderr)
        return EXIT_FAILED
    return codes[status]


def _region(explicit: str | None, profile: str | None) -> str | None:
    """``--region``, else ``AWS_REGION``, ``AWS_DEFAULT_REGION`` or the profile's; None (said) when none."""
    import os

    import boto3
    from botocore.exceptions import ProfileNotFound

    from trafficgate.aws import profile_not_found

    try:
        # Even with --region: an unknown profile is a bad argument, not a failed function run.
        session = boto3.session.Session(profile_name=profile or None)
    except ProfileNotFound as exc:
        print(f"trafficgate: {profile_not_found(exc)}", file=sys.stderr)
        return None
    found = explicit or os.environ.get("AWS_REGION") or session.region_name
    if not found:
        print(
            "trafficgate: no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), give the profile a region, "
            "or pass --region",
            file=sys.stderr,
        )
    return found or None


def cmd_standin(args: argparse.Namespace) -> int:
    from trafficgate_local.standin.__main__ import main as standin_main

    argv = ["--host", args.host, "--port", str(args.port)]
    if args.region:
        argv += ["--region", args.region]
    if args.seed_events:
        argv += ["--seed-events", args.seed_events]
    return int(standin_main(argv) or 0)


_CODEDEPLOY_DEFAULT_CONFIG = "CodeDeployDefault.ECSAllAtOnce"


def cmd_rehearse(args: argparse.Namespace) -> int:
    from trafficgate_local.rehearsal.apps import SCENARIOS

    if args.list_scenarios:
        for name, text in SCENARIOS.items():
            print(f"{name:12} {text}")
        return EXIT_SUCCEEDED
    env = parse_set(args.set or [])
    if env is None:
        return EXIT_USAGE
    html = html_target(args.html)
    if html is False:
        return EXIT_USAGE
    from trafficgate_local.rehearsal.conductor import RehearsalOptions, rehearse

    options = RehearsalOptions(
        scenario=args.scenario,
        deployment_config=args.config,
        time_scale=args.time_scale,
        blue_url=args.blue_url,
        green_url=args.green_url,
        blue_command=args.blue_cmd,
        green_command=args.green_cmd,
        template=Path(args.template),
        region=args.region,
        hook_timeout_s=args.hook_timeout,
        probe_requests=args.requests,
        env=env,
        plan=Path(args.plan) if args.plan else None,
        check_paths=tuple(Path(p) for p in args.check_path or []),
        target_initial_s=args.target_initial_s,
        platform=args.platform,
        user_load_rps=args.user_load,
        bake_minutes=args.bake_minutes,
        approve_after_s=args.approve_after,
    )
    if args.platform == "ecs" and args.config == _CODEDEPLOY_DEFAULT_CONFIG:
        options.deployment_config = "ecs:BLUE_GREEN"  # the ECS default; a CodeDeploy config given is mapped
    try:
        options.validate()
    except ValueError as exc:
        print(f"trafficgate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    out = sys.stderr if args.json else sys.stdout
    print(
        f"Trafficgate rehearsal ({args.platform}): scenario {args.scenario}, {options.deployment_config}, "
        f"time scale {args.time_scale:g}",
        file=out,
    )
    result = rehearse(options, out=out)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        where = ", ".join(f"{name} {weight}%" for name, weight in result.production_target_groups.items())
        verdict = "SUCCEEDED" if result.succeeded else "ROLLED BACK"
        print(f"\nDeployment {result.deployment_id} {verdict} in {result.duration_s:.1f} s: {result.reason}", file=out)
        print(f"Production listener: {where}", file=out)
        if result.platform == "ecs":
            print(f"Service deployment status: {result.deployment_status}", file=out)
    if html:
        from trafficgate_local.report_html import rehearsal_page

        if not write_html(html, lambda: rehearsal_page(result.to_dict(), started_at=result.started_at)):
            return EXIT_USAGE
        print(f"Evidence page: {html}", file=out)
    return EXIT_SUCCEEDED if result.succeeded else EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trafficgate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("invoke", help="run one hook's real handler locally, like `sam local invoke`, without Docker")
    p.add_argument(
        "hook",
        help="BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic or AfterAllowTraffic; or an ECS "
        "lifecycle stage such as POST_TEST_TRAFFIC_SHIFT (exit 0, 1 or 3 for SUCCEEDED, FAILED or IN_PROGRESS)",
    )
    p.add_argument("-e", "--event", help="event JSON file, or - for stdin (default: events/<hook>.json)")
    p.add_argument("-t", "--template", default=str(_default_template()), help="SAM template (default: ./template.yaml)")
    p.add_argument("--timeout", type=float, help="function timeout in seconds (default: the template's)")
    p.add_argument("--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)")
    p.add_argument("--profile", help="named AWS profile for the function's credentials (default: AWS_PROFILE)")
    p.add_argument("-n", "--env-vars", help="JSON file of environment overrides, as sam local invoke --env-vars")
    p.add_argument("--parameter-overrides", nargs="*", help="Key=Value template parameters")
    p.add_argument("--json", action="store_true", help="print the raw verdict summary as JSON")
    p.set_defaults(func=cmd_invoke)

    p = sub.add_parser(
        "check",
        help="dry run: compute the verdict a hook would report, against live URLs or a deployment, report nothing",
    )
    p.add_argument("--hook", required=True, help="the hook whose plan to run, e.g. AfterAllowTestTraffic")
    p.add_argument("--plan", help="plan file (YAML or JSON); default: the built-in plan")
    p.add_argument("--test-url", help="base URL of the test listener (TRAFFICGATE_TEST_URL)")
    p.add_argument("--prod-url", help="base URL of the production listener (TRAFFICGATE_PROD_URL)")
    p.add_argument("--deployment-id", help="judge a real deployment (discovery via AWS, AWS_ENDPOINT_URL honoured)")
    p.add_argument("--check-path", action="append", metavar="DIR", help="directory holding custom check modules")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="any TRAFFICGATE_* setting")
    p.add_argument("--timeout", type=float, default=300.0, help="time budget in seconds, as a Lambda timeout")
    p.add_argument("--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)")
    p.add_argument("--profile", help="named AWS profile (default: AWS_PROFILE)")
    p.add_argument("-v", "--verbose", action="store_true", help="show the function's log lines on stderr")
    p.add_argument("--json", action="store_true", help="print the raw verdict summary as JSON")
    p.add_argument("--html", metavar="FILE", help=_HTML_HELP)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("standin", help="run the embedded AWS stand-in (moto + CodeDeploy hook APIs) on 127.0.0.1")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument(
        "--region", help="default region of the admin API (default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1)"
    )
    p.add_argument("--seed-events", metavar="DIR", help="seed the deployment and hook executions of DIR/<hook>.json")
    p.set_defaults(func=cmd_standin)

    p = sub.add_parser(
        "rehearse",
        help="rehearse a whole ECS blue/green deployment locally: stand-in AWS, real apps, the real hooks",
    )
    p.add_argument("-s", "--scenario", default="healthy", help="green's behaviour (see --list-scenarios)")
    p.add_argument("--list-scenarios", action="store_true", help="list the scenarios and exit")
    p.add_argument(
        "--platform",
        choices=("codedeploy", "ecs"),
        default="codedeploy",
        help="codedeploy: CodeDeploy's hooks (default); ecs: an ECS-native blue/green service deployment",
    )
    p.add_argument(
        "-c",
        "--config",
        default=_CODEDEPLOY_DEFAULT_CONFIG,
        help="deployment config: a CodeDeployDefault.ECS* config; with --platform ecs also ecs:BLUE_GREEN "
        "(its default), ecs:LINEAR:<step percent>:<minutes between steps>, ecs:CANARY:<percent>:<minutes>",
    )
    p.add_argument(
        "--user-load",
        type=float,
        default=20.0,
        metavar="RPS",
        help="simulated users' requests per second through the production listener (default 20; 0 turns them off)",
    )
    p.add_argument(
        "--bake-minutes",
        type=float,
        default=1.0,
        metavar="MINUTES",
        help="--platform ecs: the service's bakeTimeInMinutes, waited times the time scale (default 1)",
    )
    p.add_argument(
        "--approve-after",
        type=float,
        metavar="SECONDS",
        help="put approval.gate first in BeforeAllowTraffic's plan (ECS: PRE_PRODUCTION_TRAFFIC_SHIFT) and have "
        "a person approve this deployment in its SSM parameter SECONDS (real time) after the gate begins to wait",
    )
    p.add_argument("--time-scale", type=float, default=0.01, help="multiplier for the config's waits (default 0.01)")
    p.add_argument("--blue-url", help="your running blue app, http://host:port")
    p.add_argument("--green-url", help="your running green app, http://host:port")
    p.add_argument("--blue-cmd", help="command that starts your blue app on $PORT")
    p.add_argument("--green-cmd", help="command that starts your green app on $PORT")
    p.add_argument("--requests", type=int, help="probe requests per burst (TRAFFICGATE_PROBE_REQUESTS)")
    p.add_argument("--hook-timeout", type=float, help="function timeout in seconds (default: the template's)")
    p.add_argument(
        "--target-initial-s",
        type=float,
        metavar="SECONDS",
        help="how long green's targets read initial once a listener forwards to them (default: 30 s x time scale)",
    )
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="extra function environment variable")
    p.add_argument("--plan", help="check plan file (YAML or JSON) the hooks use instead of the built-in plans")
    p.add_argument("--check-path", action="append", metavar="DIR", help="directory holding custom check modules")
    p.add_argument("--region", default="us-east-1", help="region of the stand-in (default us-east-1)")
    p.add_argument("-t", "--template", default=str(_default_template()))
    p.add_argument("--json", action="store_true", help="print the whole run as JSON on stdout (timeline on stderr)")
    p.add_argument("--html", metavar="FILE", help=_HTML_HELP)
    p.set_defaults(func=cmd_rehearse)
    return parser


def main(argv: list[str] | None = None) -> int:
    if hasattr(signal, "SIGUSR1"):
        # `kill -USR1 <pid>` prints every thread's stack: a stuck rehearsal can say where it is.
        faulthandler.register(signal.SIGUSR1)
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
