"""Days until the listener's certificate expires, read with a tiny DER parser (no crypto dependency).

Layer L1 (probe engine).
"""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime

import certifi

from trafficgate.probe.spec import ProbeSpec
from trafficgate.probe.target import Target


def _der_item(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER item at ``pos``."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def certificate_not_after(der: bytes) -> datetime:
    """The ``notAfter`` time of a DER X.509 certificate, without a crypto dependency.

    Raises
    ------
    ValueError
        If the bytes are not a certificate this tiny parser understands.
    """
    try:
        _, cert_start, _ = _der_item(der, 0)
        _, pos, _ = _der_item(der, cert_start)  # TBSCertificate
        tag, _, end = _der_item(der, pos)
        if tag == 0xA0:  # [0] version
            pos = end
            tag, _, end = _der_item(der, pos)
        for _ in range(3):  # serialNumber, signature, issuer
            _, _, pos = _der_item(der, pos)
        _, validity, _ = _der_item(der, pos)
        _, _, not_before_end = _der_item(der, validity)
        tag, start, end = _der_item(der, not_before_end)
        text = der[start:end].decode("ascii")
    except (IndexError, UnicodeDecodeError) as exc:
        raise ValueError("not a DER certificate") from exc
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ; RFC 5280: YY >= 50 means 19YY
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        raise ValueError(f"unexpected time tag 0x{tag:02x}")
    return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)


def cert_days_left(target: Target, spec: ProbeSpec, timeout: float) -> float:
    if spec.tls_verify:
        context = ssl.create_default_context(cafile=spec.ca_bundle or certifi.where())
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    server_name = target.tls_name or target.url_host
    with (
        socket.create_connection((target.connect_host, target.port), timeout=timeout) as sock,
        context.wrap_socket(sock, server_hostname=server_name) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("server sent no certificate")
    remaining = certificate_not_after(der) - datetime.now(UTC)
    return remaining.total_seconds() / 86400.0
