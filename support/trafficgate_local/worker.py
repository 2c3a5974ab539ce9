"""Child-process side of the local runner: load the handler's module by path and call the handler once.

Usage (internal): python -m trafficgate_local.worker CODE_DIR HANDLER EVENT_JSON RESULT_JSON
FUNCTION_NAME TIMEOUT_S MEMORY_MB
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

#: The line the worker writes as each invocation starts (after the init); never shown as output.
INVOKE_MARK = "\x1etrafficgate-local:invoke"


def main(argv: list[str]) -> int:
    code_dir, handler_ref, event_path, result_path, function_name, timeout_s, memory_mb = argv
    # Lambda puts the function's code directory first on sys.path, the layer under /opt/python;
    # here the layer is the editable install of trafficgate.
    sys.path.insert(0, code_dir)
    from trafficgate.runner import configure_runner
    from trafficgate_local.chain import LocalChain, run_chain
    from trafficgate_local.handlers import load_handler, parse_handler_ref
    from trafficgate_local.lambda_context import LocalLambdaContext

    def new_context() -> LocalLambdaContext:
        # Each invocation's timeout starts here, after the init (imports, module load), as on
        # Lambda: the parent restarts its kill timer when it reads this line.
        sys.stdout.write(INVOKE_MARK + "\n")
        sys.stdout.flush()
        return LocalLambdaContext(
            function_name=function_name, timeout_s=float(timeout_s), memory_limit_in_mb=int(memory_mb)
        )

    # A CodeDeploy hook that outlasts its invocation invokes itself; here the next link runs in
    # this process once the first returns, with a fresh context, as Lambda would run it.
    chain = LocalChain()
    configure_runner(continuer=chain)
    payload: dict[str, object]
    try:
        event = json.loads(Path(event_path).read_text())
        # Under the module's own name, as Lambda imports it: relative imports in a package resolve.
        handler = load_handler(Path(code_dir), handler_ref, alias=parse_handler_ref(handler_ref)[0])
        payload = {"result": run_chain(chain, handler(event, new_context()), handler, new_context)}
        code = 0
    except Exception as exc:
        payload = {
            "error": {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_exception(exc),
            }
        }
        code = 1
    Path(result_path).write_text(json.dumps(payload, default=str))
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
