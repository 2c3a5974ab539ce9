"""Lambda's asynchronous self-invocation, on this machine: the next link of a CodeDeploy hook.

A CodeDeploy hook that must wait longer than its invocation invokes itself with its progress
(:mod:`trafficgate.continuation`). Locally there is no Lambda service to queue that invocation:
:class:`LocalChain` keeps it, and :func:`run_chain` calls the handler again with it, each link with
a fresh Lambda context of the same timeout, as Lambda would, until a link answers without handing
over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from trafficgate.continuation import MAX_CALLS
from trafficgate_local.lambda_context import LocalLambdaContext


class LocalChain:
    """The runner's continuer for local runs: records the next link's event instead of invoking Lambda."""

    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] = []
        self.links = 0

    def continue_hook(self, *, function_arn: str, event: Mapping[str, Any]) -> None:
        self.pending.append(dict(event))


def run_chain(
    chain: LocalChain,
    first: Any,
    call: Callable[[dict[str, Any], LocalLambdaContext], Any],
    new_context: Callable[[], LocalLambdaContext],
) -> Any:
    """Run the links ``chain`` collects after the ``first`` answer; the last answer.

    Raises
    ------
    RuntimeError
        More links than a chain may have (:data:`~trafficgate.continuation.MAX_CALLS`): a bug.
    """
    answer = first
    while chain.pending:
        event = chain.pending.pop(0)
        chain.links += 1
        if chain.links > MAX_CALLS:
            raise RuntimeError(f"more than {MAX_CALLS} links in one hook's chain")
        answer = call(event, new_context())
    return answer
