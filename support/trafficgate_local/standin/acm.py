"""moto's ACM, extended so that a certificate lists its names in the order they were requested.

moto 5.2 builds a requested certificate's subject alternative names from a ``set``, so
DescribeCertificate lists them in an order that changes with the interpreter's string hashing
(``PYTHONHASHSEED``): a test that reads "the first name that is not a wildcard" then passes in
one process and fails in the next. ACM lists the certificate's domain name first, then the
requested names, each once; the API reference does not promise more, and the stand-in models
what ACM answers. :func:`install_acm` patches moto's backend once; nothing happens at import time.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.acm.models import AWSCertificateManagerBackend

__all__ = ["install_acm", "is_acm_installed", "requested_order"]

_INSTALL_MARK = "_trafficgate_acm_installed"
_install_lock = threading.Lock()
_ORIGINALS: dict[str, Any] = {}


def requested_order(domain_name: str, subject_alt_names: list[str] | None) -> list[str]:
    """The names as ACM lists them: the domain name, then each requested name once, in order."""
    return list(dict.fromkeys([domain_name, *(subject_alt_names or [])]))


def _request_certificate(
    self: AWSCertificateManagerBackend,
    domain_name: str,
    idempotency_token: str,
    subject_alt_names: list[str],
    *args: Any,
    **kwargs: Any,
) -> str:
    original = _ORIGINALS["request_certificate"]
    arn = str(original(self, domain_name, idempotency_token, subject_alt_names, *args, **kwargs))
    bundle = self._certificates[arn]
    wanted = requested_order(domain_name, subject_alt_names)
    if sorted(bundle.sans) == sorted(wanted):  # the same names; only their order is moto's
        bundle.sans = wanted
    return arn


def install_acm() -> None:
    """Patch moto's ACM backend so certificates keep the requested name order; idempotent."""
    with _install_lock:
        if is_acm_installed():
            return
        _ORIGINALS["request_certificate"] = AWSCertificateManagerBackend.request_certificate
        AWSCertificateManagerBackend.request_certificate = _request_certificate  # type: ignore[method-assign]
        setattr(AWSCertificateManagerBackend, _INSTALL_MARK, True)


def is_acm_installed() -> bool:
    """Return True once :func:`install_acm` has patched moto."""
    return bool(getattr(AWSCertificateManagerBackend, _INSTALL_MARK, False))
