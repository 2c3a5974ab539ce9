"""Probe request headers from a Secrets Manager secret (``TRAFFICGATE_AUTH_SECRET_ARN``).

Layer L1 (engines): imports the leaves and :mod:`trafficgate.aws`. The secret is a JSON object
of header names to values. The values are credentials: they never reach a reason, a log line
or an exception message, and the probe masks them in whatever green echoes back.
"""

from __future__ import annotations

from collections.abc import Mapping

from trafficgate.aws import AwsClients, error_code
from trafficgate.exceptions import CheckError

#: How long a warm container keeps the secret before reading it again (Powertools' cache).
SECRET_MAX_AGE_S = 300


def auth_headers(arn: str | None, clients: AwsClients) -> Mapping[str, str]:
    """The probe headers held by the secret ``arn``; empty when no secret is configured.

    Read through Powertools Parameters, cached for five minutes per warm container.

    Raises
    ------
    CheckError
        The secret cannot be read, or is not a JSON object of header names to string values.
        The message names the secret and the AWS error code, never a value.
    """
    if not arn:
        return {}
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

    provider: SecretsProvider = clients.cached(
        "secrets-provider", lambda: SecretsProvider(boto3_client=clients.client("secretsmanager"))
    )
    try:
        value = provider.get(arn, transform="json", max_age=SECRET_MAX_AGE_S)
    except TransformParameterError:
        raise CheckError(f"auth secret {arn} is not a JSON object of header names to values") from None
    except GetParameterError as exc:
        # Powertools raises without "from": the AWS error is the context.
        raise CheckError(f"could not read auth secret {arn}: {error_code(exc.__cause__ or exc.__context__)}") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise CheckError(f"auth secret {arn} is not a JSON object of header names to string values")
    return value
