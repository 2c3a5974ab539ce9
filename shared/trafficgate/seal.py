"""A seal on the progress a hook carries to its next call, so only this stack's functions can write one.

Layer L1 (engines): imports :mod:`trafficgate.aws` and the leaves.

A continuing hook hands its progress to the next call: to itself in a new event (CodeDeploy), or
to ECS in ``hookDetails``, which ECS hands back. The progress says which checks have passed. Left
unsealed, anyone allowed to invoke the function could hand it a progress whose checks "passed"
and get a deployment through without them. With ``TRAFFICGATE_PROGRESS_KEY_ARN`` set (the
template sets it), the progress travels as an envelope ``{"p": "<the progress as JSON text>",
"mac": "<base64>"}``: an HMAC made by AWS KMS with an HMAC key (``GenerateMac``/``VerifyMac``,
``HMAC_SHA_256``) that the key's policy lets only the functions' role use. The MAC covers the
exact text, so nothing that re-encodes JSON on the way (numbers, key order) can break it, and
what the progress belongs to (see the runner's binding), so it cannot be moved to another hook.
KMS takes messages of at most 4096 bytes: the MAC is over a SHA-256 digest.

A progress that does not carry a valid seal is untrusted (:class:`UntrustedProgress`): the hook
fails, saying why, rather than start again with fresh bounds.
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

__all__ = ["MAC_KEY", "TEXT_KEY", "ProgressSeal", "SealError", "UntrustedProgress"]

#: The envelope's keys: the progress as JSON text, and its MAC.
TEXT_KEY = "p"
MAC_KEY = "mac"
ALGORITHM = "HMAC_SHA_256"


class SealError(ReportError):
    """The progress could not be sealed (KMS refused or failed): the hook cannot continue safely."""


class UntrustedProgress(ValueError):
    """A progress arrived without a valid seal while a key is set: not ours, or not checkable now."""


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
        """The envelope ``{"p": text, "mac": base64}`` of ``progress`` (the progress itself without a key).

        Raises
        ------
        SealError
            The progress is not JSON (a NaN, say), or KMS would not make the MAC (access denied,
            the key disabled or gone, ...).
        """
        if self.key_arn is None:
            return dict(progress)
        try:
            text = json.dumps(progress, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise SealError(f"could not seal the progress: not JSON ({type(exc).__name__})") from None
        try:
            message = _digest(text, binding)
            answer = self._kms().generate_mac(KeyId=self.key_arn, Message=message, MacAlgorithm=ALGORITHM)
        except AWS_ERRORS as exc:
            code = error_code(exc)
            raise SealError(
                f"could not seal the progress with KMS key {self.key_arn} (kms:GenerateMac): AWS error {code}"
            ) from None
        except Exception as exc:  # a client that cannot be built (no region), say: still no unsealed hand-over
            raise SealError(f"could not seal the progress ({type(exc).__name__})") from None
        return {TEXT_KEY: text, MAC_KEY: base64.b64encode(answer["Mac"]).decode("ascii")}

    def check(self, data: Any, *, binding: str) -> Any:
        """The progress inside ``data``, once its MAC is shown valid for ``binding`` (``data``, without a key).

        Raises
        ------
        UntrustedProgress
            A key is set and ``data`` is no envelope, its MAC is missing or malformed, KMS says it
            does not match (another progress, another hook), or KMS could not be asked.
        """
        if self.key_arn is None:
            return data
        if not isinstance(data, Mapping) or not isinstance(data.get(TEXT_KEY), str):
            raise UntrustedProgress("the progress carries no seal (TRAFFICGATE_PROGRESS_KEY_ARN is set)")
        mac, text = data.get(MAC_KEY), data[TEXT_KEY]
        if not isinstance(mac, str) or not mac:
            raise UntrustedProgress("the progress carries no seal (TRAFFICGATE_PROGRESS_KEY_ARN is set)")
        try:
            raw = base64.b64decode(mac, validate=True)
        except (binascii.Error, ValueError):
            raise UntrustedProgress("the progress seal is not base64") from None
        try:
            answer = self._kms().verify_mac(
                KeyId=self.key_arn, Message=_digest(text, binding), MacAlgorithm=ALGORITHM, Mac=raw
            )
        except AWS_ERRORS as exc:
            code = error_code(exc)
            if code == "KMSInvalidMacException":
                raise UntrustedProgress("the progress seal does not match this progress and hook") from None
            why = f"the progress seal could not be checked (kms:VerifyMac): AWS error {code}"
            raise UntrustedProgress(why) from None
        except Exception as exc:
            raise UntrustedProgress(f"the progress seal could not be checked ({type(exc).__name__})") from None
        if answer.get("MacValid") is not True:
            raise UntrustedProgress("the progress seal does not match this progress and hook")
        try:
            return json.loads(text)
        except ValueError:
            raise UntrustedProgress("the sealed progress is not JSON") from None

    def _kms(self) -> Any:
        # The key's own region: a key ARN names it.
        region = self.key_arn.split(":")[3] if self.key_arn and self.key_arn.count(":") >= 5 else None
        return self._clients.client("kms", region=region or None)


def _digest(text: str, binding: str) -> bytes:
    return hashlib.sha256(f"{binding}\n{text}".encode()).digest()
