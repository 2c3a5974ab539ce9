"""Child-process side of the local runner: load ``app.py`` by path and call its handler once.

Usage (internal): python -m trafficgate_local.worker CODE_DIR HANDLER EVENT_JSON RESULT_JSON
FUNCTION_NAME TIMEOUT_S MEMORY_MB
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    code_dir, handler_ref, event_path, result_path, function_name, timeout_s, memory_mb = argv
    # Lambda puts the function's code directory first on sys.path, the layer under /opt/python;
    # here the layer is the editable install of trafficgate.
    sys.path.insert(0, code_dir)
    from trafficgate_local.lambda_context import LocalLambdaContext

    context = LocalLambdaContext(
        function_name=function_name, timeout_s=float(timeout_s), memory_limit_in_mb=int(memory_mb)
    )
    module_name, _, function = handler_ref.rpartition(".")
    payload: dict[str, object]
    try:
        event = json.loads(Path(event_path).read_text())
        handler = getattr(importlib.import_module(module_name), function)
        payload = {"result": handler(event, context)}
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
