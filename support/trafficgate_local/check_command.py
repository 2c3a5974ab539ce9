"""``trafficgate check``: the verdict a hook would report now, against live URLs or a deployment.

Nothing is reported to CodeDeploy (a dry run). Without ``--deployment-id`` only the checks that need
no deployment run (the built-in probes, and green against blue, compared and diffed, when both
URLs are given); the
others are named as left out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from trafficgate_local.cli_common import (
    EXIT_FAILED,
    EXIT_SUCCEEDED,
    EXIT_USAGE,
    html_target,
    parse_hook,
    parse_set,
    progress_printer,
    write_html,
)

if TYPE_CHECKING:
    from trafficgate.checks.base import Check


def cmd_check(args: argparse.Namespace) -> int:
    """Dry run: the verdict a hook would report, against live URLs or a deployment, reporting nothing."""
    import os

    from trafficgate import constants
    from trafficgate.exceptions import ConfigError
    from trafficgate.reporting import DryRunReporter
    from trafficgate.runner import HookRunner
    from trafficgate_local.chain import LocalChain, run_chain
    from trafficgate_local.lambda_context import LocalLambdaContext
    from trafficgate_local.render import print_verdict

    hook = parse_hook(args.hook)
    if hook is None:
        return EXIT_USAGE
    env = parse_set(args.set or [])
    if env is None:
        return EXIT_USAGE
    html = html_target(args.html)
    if html is False:
        return EXIT_USAGE
    if args.test_url:
        env[constants.TEST_URL] = args.test_url
    if args.prod_url:
        env[constants.PROD_URL] = args.prod_url
    if args.plan:
        plan = Path(args.plan).resolve()
        if not plan.is_file():
            print(f"trafficgate: plan file {args.plan} not found", file=sys.stderr)
            return EXIT_USAGE
        env[constants.PLAN_FILE] = str(plan)
        env.setdefault(constants.PLAN_SSM_PREFIX, "off")
    if not args.deployment_id:
        # Without a deployment there is no group to look a plan up for.
        env.setdefault(constants.PLAN_SSM_PREFIX, "off")
    if args.check_path:
        from trafficgate_local.handlers import packages_in

        # The packages in those directories are the ones the plan may import, as an operator
        # would list the packages of the layer they ship.
        env.setdefault(constants.CHECK_PACKAGES, ",".join(packages_in(Path(p) for p in args.check_path)))
    os.environ.update(env)
    for path in args.check_path or []:
        sys.path.insert(0, str(Path(path).resolve()))
    from trafficgate.config import Settings

    try:
        settings: Settings | ConfigError = Settings.from_env()
    except ConfigError as exc:
        print(f"trafficgate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    import contextlib

    from trafficgate.observability import send_logs_to

    # The verdict goes to stdout; function logs and EMF lines to stderr with --verbose, else nowhere.
    log_stream = sys.stderr if args.verbose else open(os.devnull, "w")  # noqa: SIM115
    send_logs_to(log_stream)
    progress = progress_printer() if not args.json and sys.stderr.isatty() else None
    from trafficgate.aws import AwsClients

    clients = AwsClients(region=args.region, profile=args.profile)
    if args.deployment_id:
        try:
            clients.session  # noqa: B018 - name a missing region now, not as a failed plan
        except ConfigError as exc:
            print(f"trafficgate: {exc}", file=sys.stderr)
            return EXIT_USAGE
    # A dry run asks "what if this hook ran now": whichever lifecycle event CodeDeploy is in.
    chain = LocalChain()  # a long bake or an approval continues in the next link, here as in Lambda
    runner = HookRunner(
        settings=settings,
        clients=clients,
        reporter=DryRunReporter(),
        on_progress=progress,
        verify_wiring=False,
        continuer=chain,
    )
    plan = None
    if not args.deployment_id and not settings.plan_file:
        # Without a deployment only the probes of the built-in plan can run: the other checks read
        # the deployment from AWS, and green against blue needs both URLs to find both listeners.
        # Say which were left out rather than fail them as unreadable.
        from trafficgate.checks.compare import HttpCompare
        from trafficgate.checks.diff import HttpDiff
        from trafficgate.checks.http import HttpProbe
        from trafficgate.plan import default_plan

        both_urls = bool(settings.test_url and settings.prod_url)

        def runnable(check: Check) -> bool:
            return isinstance(check, HttpProbe) or (isinstance(check, (HttpCompare, HttpDiff)) and both_urls)

        built_in = default_plan(hook, settings)
        plan = [c for c in built_in if runnable(c)]
        left_out = [c.check_id for c in built_in if not runnable(c)]
        if not plan:
            print(
                f"trafficgate: every check of {hook.value} reads the deployment from AWS: give --deployment-id",
                file=sys.stderr,
            )
            return EXIT_USAGE
        if left_out:
            print(f"trafficgate: without --deployment-id, not run: {', '.join(left_out)}", file=sys.stderr)
    event = {
        "DeploymentId": args.deployment_id or "d-DRYRUN000",
        "LifecycleEventHookExecutionId": "dry-run",
    }
    def new_context() -> LocalLambdaContext:
        return LocalLambdaContext(function_name=f"trafficgate-check-{hook.value}", timeout_s=args.timeout)

    started_at = time.time()
    with contextlib.redirect_stdout(log_stream):
        summary = run_chain(
            chain,
            runner.run(hook, event, new_context(), plan=plan),
            lambda linked, context: runner.run(hook, linked, context, plan=plan),
            new_context,
        )
    if progress is not None:
        sys.stderr.write("\r" + " " * 72 + "\r")
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_verdict(summary)
    if html:
        from trafficgate_local.report_html import check_page

        judged = args.deployment_id or ", ".join(
            f"{name} {url}" for name, url in (("test", args.test_url), ("prod", args.prod_url)) if url
        )
        if not write_html(html, lambda: check_page(summary, target=judged, started_at=started_at)):
            return EXIT_USAGE
    return EXIT_SUCCEEDED if summary.get("status") == "Succeeded" else EXIT_FAILED
