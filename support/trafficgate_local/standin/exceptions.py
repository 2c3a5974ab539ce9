"""Errors of the stand-in.

Two families live here:

* :class:`CodeDeployError` and its subclasses are *service* errors. They are raised inside moto's
  request handling and reach the caller as a 400/5xx JSON error, so botocore raises ``ClientError``
  with ``Error.Code`` equal to the AWS exception name.
* :class:`StandInError` is raised by the owner-facing control API (``StandIn``, the admin HTTP
  endpoints and ``StandInAdmin``) when it is used wrongly, for example with an unknown deployment.
"""

from __future__ import annotations

from moto.core.exceptions import JsonRESTError


class StandInError(Exception):
    """A control-API call of the stand-in was invalid (unknown deployment, bad argument, ...)."""


class StandInAdminError(StandInError):
    """An admin HTTP endpoint answered with an error.

    Parameters
    ----------
    status : int
        HTTP status of the admin response.
    code : str
        Error name reported by the server (``StandInError``, ``NotFound``, ``BadRequest``).
    message : str
        Human-readable reason.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.status = status
        self.code = code
        self.message = message


class CodeDeployError(JsonRESTError):
    """A CodeDeploy service error, serialised as the real service does (``__type`` + ``message``)."""

    code = 400
    error_name = "CodeDeployException"

    def __init__(self, message: str) -> None:
        super().__init__(self.error_name, message)


class InvalidDeploymentIdException(CodeDeployError):
    """AWS ``InvalidDeploymentIdException``."""

    error_name = "InvalidDeploymentIdException"


class DeploymentIdRequiredException(CodeDeployError):
    """AWS ``DeploymentIdRequiredException``."""

    error_name = "DeploymentIdRequiredException"


class DeploymentDoesNotExistException(CodeDeployError):
    """AWS ``DeploymentDoesNotExistException``."""

    error_name = "DeploymentDoesNotExistException"


class InvalidLifecycleEventHookExecutionStatusException(CodeDeployError):
    """AWS ``InvalidLifecycleEventHookExecutionStatusException``."""

    error_name = "InvalidLifecycleEventHookExecutionStatusException"


class InvalidLifecycleEventHookExecutionIdException(CodeDeployError):
    """AWS ``InvalidLifecycleEventHookExecutionIdException``."""

    error_name = "InvalidLifecycleEventHookExecutionIdException"


class LifecycleEventAlreadyCompletedException(CodeDeployError):
    """AWS ``LifecycleEventAlreadyCompletedException``."""

    error_name = "LifecycleEventAlreadyCompletedException"


class UnsupportedActionForDeploymentTypeException(CodeDeployError):
    """AWS ``UnsupportedActionForDeploymentTypeException``."""

    error_name = "UnsupportedActionForDeploymentTypeException"


class DeploymentTargetIdRequiredException(CodeDeployError):
    """AWS ``DeploymentTargetIdRequiredException``."""

    error_name = "DeploymentTargetIdRequiredException"


class DeploymentTargetDoesNotExistException(CodeDeployError):
    """AWS ``DeploymentTargetDoesNotExistException``."""

    error_name = "DeploymentTargetDoesNotExistException"


class DeploymentTargetListSizeExceededException(CodeDeployError):
    """AWS ``DeploymentTargetListSizeExceededException``."""

    error_name = "DeploymentTargetListSizeExceededException"


class InvalidTargetFilterNameException(CodeDeployError):
    """AWS ``InvalidTargetFilterNameException``."""

    error_name = "InvalidTargetFilterNameException"


class ApplicationNameRequiredException(CodeDeployError):
    """AWS ``ApplicationNameRequiredException``."""

    error_name = "ApplicationNameRequiredException"


class DeploymentGroupNameRequiredException(CodeDeployError):
    """AWS ``DeploymentGroupNameRequiredException``."""

    error_name = "DeploymentGroupNameRequiredException"


class DeploymentGroupAlreadyExistsException(CodeDeployError):
    """AWS ``DeploymentGroupAlreadyExistsException``."""

    error_name = "DeploymentGroupAlreadyExistsException"


class BatchLimitExceededException(CodeDeployError):
    """AWS ``BatchLimitExceededException``."""

    error_name = "BatchLimitExceededException"


class DeploymentConfigDoesNotExistException(CodeDeployError):
    """AWS ``DeploymentConfigDoesNotExistException``."""

    error_name = "DeploymentConfigDoesNotExistException"


class DeploymentConfigNameRequiredException(CodeDeployError):
    """AWS ``DeploymentConfigNameRequiredException``."""

    error_name = "DeploymentConfigNameRequiredException"


class InvalidRevisionException(CodeDeployError):
    """AWS ``InvalidRevisionException``."""

    error_name = "InvalidRevisionException"


class RevisionDoesNotExistException(CodeDeployError):
    """AWS ``RevisionDoesNotExistException``."""

    error_name = "RevisionDoesNotExistException"
