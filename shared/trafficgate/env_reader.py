"""Reading one environment variable: parse it, bound it, and name it in every error.

Layer L1 (engines): imports the leaves only. :mod:`trafficgate.config` builds the settings from
these readers; nothing here knows which variables exist.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from trafficgate.exceptions import ConfigError
from trafficgate.ranges import range_of

#: Longest value shown back in an error (longer ones are cut, never echoed whole).
SHOWN_CHARS = 80

_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
T = TypeVar("T")


class EnvReader:
    """Reads variables from one environment; every error names the variable and shows its value (cut)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def raw(self, name: str) -> str | None:
        value = self.environ.get(name, "")
        value = value.strip() if isinstance(value, str) else ""
        return value or None

    def shown(self, name: str) -> str:
        value = self.environ.get(name, "")
        return repr(value if len(value) <= SHOWN_CHARS else value[: SHOWN_CHARS - 3] + "...")

    def read(self, name: str, parse: Callable[[], T]) -> T:
        """Run one variable's parser; anything it raises becomes a ConfigError naming the variable."""
        try:
            return parse()
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(f"{name}={self.shown(name)}: could not be read ({type(exc).__name__})") from None

    def text(self, name: str) -> str | None:
        return self.raw(name)

    def number(self, name: str, owner: type, field_name: str) -> Any:
        declared = next(f for f in dataclasses.fields(owner) if f.name == field_name)
        valid = range_of(declared)
        assert valid is not None
        raw = self.raw(name)
        if raw is None:
            return declared.default
        if valid.integer:
            if not _INT.fullmatch(raw):
                raise ConfigError(f"{name}={self.shown(name)}: expected {valid.describe()}")
            value: float = int(raw)
        else:
            if not _FLOAT.fullmatch(raw):
                raise ConfigError(f"{name}={self.shown(name)}: expected {valid.describe()}")
            value = float(raw)
        problem = valid.problem(value)
        if problem is not None:
            raise ConfigError(f"{name}={self.shown(name)}: expected {valid.describe()}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.raw(name)
        if raw is None:
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ConfigError(f"{name}={self.shown(name)}: expected true or false")

    def choice(self, name: str, choices: tuple[str, ...], default: str, *, upper: bool = False) -> Any:
        raw = self.raw(name)
        value = default if raw is None else (raw.upper() if upper else raw.lower())
        if value not in choices:
            raise ConfigError(f"{name}={self.shown(name)}: expected one of {', '.join(choices)}")
        return value

    def names(self, name: str) -> tuple[str, ...]:
        raw = self.raw(name)
        if raw is None:
            return ()
        names = tuple(part.strip() for part in raw.split(",") if part.strip())
        if any(" " in n for n in names):
            raise ConfigError(f"{name}={self.shown(name)}: expected comma-separated names without spaces")
        return names


def url(r: EnvReader, name: str) -> str | None:
    raw = r.raw(name)
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        host = parts.hostname
    except ValueError:  # "http://[::1" and friends
        raise ConfigError(
            f"{name}={r.shown(name)}: not a valid URL (expected e.g. https://orders.example.com)"
        ) from None
    if parts.scheme not in {"http", "https"} or not host:
        raise ConfigError(f"{name}={r.shown(name)}: expected an absolute http:// or https:// URL")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"{name}={r.shown(name)}: the port is not a number in 0-65535") from None
    return raw.rstrip("/")


def packages(r: EnvReader, name: str) -> tuple[str, ...]:
    names = r.names(name)
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise ConfigError(f"{name}={r.shown(name)}: expected top-level package names such as mychecks")
    return names


def buckets(r: EnvReader, name: str) -> tuple[str, ...]:
    names = r.names(name)
    if any(not _BUCKET.fullmatch(n) for n in names):
        raise ConfigError(f"{name}={r.shown(name)}: expected comma-separated S3 bucket names")
    return names


def arn(r: EnvReader, name: str, *, service: str | None = None) -> str | None:
    raw = r.raw(name)
    if raw is not None and not raw.startswith("arn:"):
        raise ConfigError(f"{name}={r.shown(name)}: expected an ARN (arn:partition:service:region:account:...)")
    if raw is not None and service is not None and raw.split(":")[2:3] != [service]:
        raise ConfigError(f"{name}={r.shown(name)}: expected an {service} ARN (arn:aws:{service}:...)")
    return raw


def resolve(r: EnvReader, name: str) -> dict[str, str]:
    raw = r.raw(name)
    if raw is None:
        return {}
    mapping: dict[str, str] = {}
    for item in raw.split(","):
        host, sep, address = item.strip().partition("=")
        if not sep or not host or not address:
            raise ConfigError(f"{name}={r.shown(name)}: expected host=address[,host=address...]")
        mapping[host.strip().lower()] = address.strip()
    return mapping
