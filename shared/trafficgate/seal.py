"""A seal on the progress a hook carries to its next call, so only this stack's functions can write one.

Layer L1 (engines): imports :mod:`trafficgate.aws` and the leaves.

A continuing hook hands its progress to the next call: to itself in a new event (CodeDeploy), or
to ECS in ``hookDetails``, which ECS hands back. The progress says which checks have passed. Left
unsealed, anyone allowed to invoke the function could hand it a progress whose checks "passed"
and get a deployment through without them. With ``TRAFFICGATE_PROGRESS_KEY_ARN`` set (the
template sets it), the progress carries an HMAC made by AWS KMS with an HMAC key
(``GenerateMac``/``VerifyMac``, ``HMAC_SHA_256``): only a principal allowed ``kms:GenerateMac`` on
that key, this stack's role, can make one. The MAC covers the progress and the hook execution it
belongs to (deployment, execution id, hook), so a sealed progress cannot be replayed on another.
A progress without a valid seal is not trusted: the hook starts again and its checks run again.

KMS takes messages of at most 4096 bytes: the MAC is over the SHA-256 digest of the canonical JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from trafficgate.aws import AWS_ERRORS, error_code
from trafficgate.exceptions import ReportError

if TYPE_CHECKING:
    from trafficgate.aws import AwsClients

__all__ = ["MAC_KEY", "ProgressSeal", "SealError"]

#: Where the seal lives in the progress object.
MAC_KEY = "mac"
ALGORITHM = "HMAC_SHA_256"


class SealError(ReportError):
    """The progress could not be sealed (KMS refused or failed): the hook cannot continue safely."""


class ProgressSeal:
    """Seals and checks a progress with an HMAC KMS key; without a key, passes it through unsealed.

    Parameters
    ----------
    clients
        Where the KMS client comes from.
    key_arn
        The HMAC KMS key (``TRAFFICGATE_PROGRESS_KEY_ARN``), or None: unsealed, and any progress
        is read (local runs without KMS).
    """

    def __init__(self, clients: AwsClients, key_arn: str | None) -> None:
        self._clients = clients
        self.key_arn = key_arn

    def seal(self, progress: Mapping[str, Any], *, binding: str) -> dict[str, Any]:
        """``progress`` with its MAC added (unchanged without a key).

        Raises
        ------
        SealError
            KMS would not make the MAC (access denied, the key disabled, ...).
        """
        body = {k: v for k, v in progress.items() if k != MAC_KEY}
        if self.key_arn is None:
            return body
        try:
            message = _digest(body, binding)
            answer = self._kms().generate_mac(KeyId=self.key_arn, Message=message, MacAlgorithm=ALGORITHM)
        except AWS_ERRORS as exc:
            code = error_code(exc)
            raise SealError(
                f"could not seal the progress with KMS key {self.key_arn} (kms:GenerateMac): AWS error {code}"
            ) from None
        return {**body, MAC_KEY: base64.b64encode(answer["Mac"]).decode("ascii")}

    def check(self, data: Any, *, binding: str) -> Any:
        """``data`` without its MAC, once the MAC is shown valid for ``binding`` (anything, without a key).

        Raises
        ------
        ValueError
            A key is set and ``data`` carries no MAC, a malformed one, or one KMS says is not valid
            for this progress and hook execution (or KMS could not be asked).
        """
        if self.key_arn is None or not isinstance(data, Mapping):
            return data
        mac = data.get(MAC_KEY)
        if not isinstance(mac, str) or not mac:
            raise ValueError("progress carries no seal (TRAFFICGATE_PROGRESS_KEY_ARN is set)")
        try:
            raw = base64.b64decode(mac, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("progress seal is not base64") from None
        body = {k: v for k, v in data.items() if k != MAC_KEY}
        try:
            answer = self._kms().verify_mac(
                KeyId=self.key_arn, Message=_digest(body, binding), MacAlgorithm=ALGORITHM, Mac=raw
            )
        except AWS_ERRORS as exc:
            code = error_code(exc)
            if code == "KMSInvalidMacException":
                raise ValueError("progress seal does not match this progress and hook execution") from None
            raise ValueError(f"progress seal could not be checked (kms:VerifyMac): AWS error {code}") from None
        if answer.get("MacValid") is not True:
            raise ValueError("progress seal does not match this progress and hook execution")
        return body

    def _kms(self) -> Any:
        # The key's own region: a key ARN names it.
        region = self.key_arn.split(":")[3] if self.key_arn and self.key_arn.count(":") >= 5 else None
        return self._clients.client("kms", region=region or None)


def _digest(body: Mapping[str, Any], binding: str) -> bytes:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(f"{binding}\n{canonical}".encode()).digest()
