"""BeforeInstall: no credential sits in a container's plain ``environment`` (``ecs.plaintext_secrets``).

Layer L2 (a check). The rules are pure functions (:func:`find_plaintext_secrets`), tested on their
own. A plain environment entry is readable by anyone who may describe the task definition and is
kept in every revision for good; a credential belongs in ``secrets`` (Secrets Manager or SSM
Parameter Store), which ECS resolves when the task starts.

A value is never echoed: not in the reason, the details or a log line. A finding names the
container, the variable and the rule that matched (``name:password``, ``value:aws-access-key-id``).

The built-in entry runs as a dry run (:data:`BUILTIN_POLICY`): it is reported, never rolled back
on, since moving a variable to ``secrets`` is a change to the service, not to this deployment. A
plan that names ``ecs.plaintext_secrets`` enforces it, as every plan entry is enforced unless it
says ``dry_run: true``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trafficgate.checks.base import Check, CheckResult, Policy
from trafficgate.discovery import containers

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

PLAINTEXT_SECRETS_CHECK_ID = "ecs.plaintext_secrets"

#: The built-in entry's policy: reported, never blocking (a plan entry enforces it).
BUILTIN_POLICY = Policy(dry_run=True)
#: Findings named one by one in a reason; the rest are counted (the reason stays one line).
MAX_NAMED = 5

# --- names ----------------------------------------------------------------------------------
#: Name rules: rule id → pattern over the upper-cased name with every non-alphanumeric run as "_".
NAME_RULES: Mapping[str, re.Pattern[str]] = {
    # "PWD" alone is the shell's working directory; "DB_PWD" is a password.
    "password": re.compile(r"PASSWORD|PASSWD|PASSPHRASE|(^|_)PASS(_|$)|_PWD(_|$)"),
    "secret": re.compile(r"SECRET(?!ARY)"),
    "token": re.compile(r"TOKEN(?!IZ|IS)"),
    "api-key": re.compile(r"API_?KEY"),
    "private-key": re.compile(r"PRIVATE_?KEY"),
    "access-key": re.compile(r"ACCESS_?KEY"),
    "credentials": re.compile(r"CREDENTIAL"),
}
#: Name endings that say the variable holds something *about* a credential, not the credential:
#: its lifetime, where it lives, what it is called (``TOKEN_TTL``, ``SECRET_ARN``, ``API_KEY_HEADER``).
METADATA_SUFFIXES = (
    "ARN", "NAME", "ID", "IDS", "TTL", "TIMEOUT", "EXPIRY", "EXPIRES", "EXPIRATION", "LIFETIME", "AGE",
    "FILE", "PATH", "DIR", "URL", "URI", "ENDPOINT", "HOST", "PORT", "REGION", "HEADER", "PARAM",
    "PARAMETER", "PREFIX", "LENGTH", "SIZE", "TYPE", "ALGORITHM", "ALG", "ISSUER", "AUDIENCE", "SCOPE",
    "SCOPES", "ENABLED", "DISABLED", "VERSION", "ROTATION", "FORMAT", "FIELD", "KEY_ID", "STAGE",
)
_SEPARATORS = re.compile(r"[^A-Z0-9]+")
#: Values that are obviously not a credential, whatever the name says.
_BOOLEANS = frozenset({"true", "false", "yes", "no", "on", "off", "enabled", "disabled", "none", "null"})
_SMALL_NUMBER = re.compile(r"^[+-]?\d{1,6}(\.\d+)?[smhd]?$")
_REFERENCE = re.compile(r"^arn:aws[a-z-]*:(secretsmanager|ssm|kms|iam|acm|s3):", re.IGNORECASE)
_PATH_VALUE = re.compile(r"^(/[\w.@+-]+)+/?$")
_URL_WITHOUT_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:\s]+(:\d+)?(/\S*)?$", re.IGNORECASE)

# --- values ---------------------------------------------------------------------------------
#: Value rules: rule id → pattern searched in the value. Each is a shape few non-secrets have.
VALUE_RULES: Mapping[str, re.Pattern[str]] = {
    "private-key-pem": re.compile(r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----"),
    "aws-access-key-id": re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    "jwt": re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    "bearer-token": re.compile(r"^\s*(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{16,}\s*$", re.IGNORECASE),
    "url-credentials": re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:\s]*:(?!\$\{|\{\{)[^/@\s]+@", re.IGNORECASE),
    "github-token": re.compile(r"(?<![A-Za-z0-9])(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,})"),
    "slack-token": re.compile(r"(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}"),
    "stripe-secret-key": re.compile(r"(?<![A-Za-z0-9])(sk|rk)_live_[A-Za-z0-9]{16,}"),
}
#: An AWS secret access key: 40 base64 characters, with at least one digit, one upper and one lower
#: case letter. Judged only next to an access key (by name or value) in the same container.
_AWS_SECRET_KEY = re.compile(r"^(?=.*\d)(?=.*[a-z])(?=.*[A-Z])[A-Za-z0-9/+]{40}$")
_ACCESS_KEY_NAME = re.compile(r"ACCESS_?KEY|AWS_?SECRET|SECRET_?KEY")


@dataclass(frozen=True, slots=True)
class Finding:
    """One environment entry that looks like a credential: where it is and why; never its value."""

    container: str
    variable: str
    rule: str

    def describe(self) -> str:
        return f"{self.variable} ({self.rule})"


def normalise_name(name: str) -> str:
    """``db.password`` → ``DB_PASSWORD``: upper case, every run of other characters one ``_``."""
    return _SEPARATORS.sub("_", name.upper()).strip("_")


def name_rule(name: str) -> str | None:
    """The name rule ``name`` matches (``name:password``), or None (metadata names never match)."""
    normal = normalise_name(name)
    if any(normal == s or normal.endswith("_" + s) for s in METADATA_SUFFIXES):
        return None
    for rule, pattern in NAME_RULES.items():
        if pattern.search(normal):
            return f"name:{rule}"
    return None


def obviously_not_secret(value: str) -> bool:
    """Empty, a boolean, a small number or duration, an ARN of a secret store, a path, a URL without
    credentials: values a credential-sounding *name* may hold without holding a credential."""
    text = value.strip()
    return (
        not text
        or text.lower() in _BOOLEANS
        or bool(_SMALL_NUMBER.fullmatch(text))
        or bool(_REFERENCE.match(text))
        or bool(_PATH_VALUE.fullmatch(text))
        or bool(_URL_WITHOUT_PASSWORD.fullmatch(text))
    )


def value_rule(value: str) -> str | None:
    """The value rule ``value`` matches (``value:jwt``), or None."""
    for rule, pattern in VALUE_RULES.items():
        if pattern.search(value):
            return f"value:{rule}"
    return None


def find_plaintext_secrets(
    definition: Mapping[str, Any], *, allow: Iterable[str] = ()
) -> tuple[list[Finding], int]:
    """The environment entries of every container that look like credentials, and how many were read.

    Parameters
    ----------
    definition
        A ``taskDefinition`` as DescribeTaskDefinition returns it.
    allow
        Variable names never reported (compared after :func:`normalise_name`).

    Returns
    -------
    (findings, checked)
        One finding per flagged entry, in task definition order; ``checked`` counts the entries read.
    """
    allowed = {normalise_name(n) for n in allow}
    findings: list[Finding] = []
    checked = 0
    for container in containers(definition):
        cname = str(container.get("name") or "?")
        entries = [
            (str(e.get("name") or ""), "" if e.get("value") is None else str(e.get("value")))
            for e in container.get("environment") or []
            if isinstance(e, dict)
        ]
        checked += len(entries)
        near_access_key = any(
            _ACCESS_KEY_NAME.search(normalise_name(n)) or VALUE_RULES["aws-access-key-id"].search(v)
            for n, v in entries
        )
        for name, value in entries:
            if normalise_name(name) in allowed:
                continue
            rule = value_rule(value)
            if rule is None and near_access_key and _AWS_SECRET_KEY.fullmatch(value.strip()):
                rule = "value:aws-secret-access-key"
            if rule is None and not obviously_not_secret(value):
                rule = name_rule(name)
            if rule is not None:
                findings.append(Finding(container=cname, variable=name, rule=rule))
    return findings, checked


@dataclass(kw_only=True)
class PlaintextSecrets(Check):
    """No environment entry of the new task definition looks like a credential.

    An entry is flagged by its name (PASSWORD, PASSWD, SECRET, TOKEN, API_KEY, PRIVATE_KEY,
    ACCESS_KEY, CREDENTIALS, ...) unless its value is obviously not a credential (a boolean, a small
    number, an ARN, a path, a URL without a password) or the name says it is *about* one
    (``TOKEN_TTL``, ``SECRET_ARN``); or by its value's shape, whatever the name: a PEM private key,
    an AWS access key id (AKIA/ASIA), a 40-character secret key next to an access key, a JWT, a
    bearer token, a URL with a password, a GitHub, Slack or Stripe live token.

    Parameters
    ----------
    allow
        Variable names never reported (for a name that sounds like a credential and is not).
    """

    check_id: str = PLAINTEXT_SECRETS_CHECK_ID
    allow: tuple[str, ...] = ()

    def run(self, ctx: CheckContext) -> CheckResult:
        definition = ctx.task_definition()
        findings, checked = find_plaintext_secrets(definition, allow=self.allow)
        details: dict[str, Any] = {
            "findings": [{"container": f.container, "variable": f.variable, "rule": f.rule} for f in findings],
            "checked": checked,
        }
        expected = "expected in secrets (Secrets Manager or SSM Parameter Store), not environment"
        if not findings:
            count = len(containers(definition))
            return CheckResult.passed(
                f"no environment variable of {count} container(s) looks like a credential ({checked} checked)",
                value=0,
                threshold=0,
                details=details,
            )
        by_container: dict[str, list[Finding]] = {}
        for finding in findings[:MAX_NAMED]:
            by_container.setdefault(finding.container, []).append(finding)
        named = "; ".join(
            f"container {c}: {', '.join(f.describe() for f in items)}" for c, items in by_container.items()
        )
        more = f"; and {len(findings) - MAX_NAMED} more" if len(findings) > MAX_NAMED else ""
        return CheckResult.failed(
            f"{len(findings)} environment variable(s) look like credentials in plain text: {named}{more}; {expected}",
            value=len(findings),
            threshold=0,
            details=details,
        )
