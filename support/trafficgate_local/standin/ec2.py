"""moto's EC2, extended so that an interface VPC endpoint is created as AWS creates it.

moto 5.2 creates a VPC's default security group with no rules, an interface endpoint with no
security group when none is given, and private DNS in any VPC. AWS does none of these (Amazon VPC
User Guide, "Default security groups for your VPCs" and "Access an AWS service using an interface
VPC endpoint"):

- a VPC's default security group admits all traffic from its own members (and lets everything
  out); nothing else comes in;
- an interface endpoint created without security groups gets the VPC's **default** security
  group, which admits only its own members: so ``DescribeVpcEndpoints`` always lists a group,
  and a check reading the groups must judge the default one;
- private DNS (the default for AWS services) needs the VPC's ``enableDnsSupport`` and
  ``enableDnsHostnames``; without them ``CreateVpcEndpoint`` fails with ``InvalidParameter``.

:func:`install_ec2` patches moto's backend once; nothing happens at import time.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.ec2.exceptions import InvalidParameter
from moto.ec2.models.vpcs import VPCBackend

__all__ = ["install_ec2", "is_ec2_installed"]

_INSTALL_MARK = "_trafficgate_ec2_installed"
_install_lock = threading.Lock()
_ORIGINALS: dict[str, Any] = {}


def _create_vpc_endpoint(
    self: VPCBackend, vpc_id: str, service_name: str, endpoint_type: str | None, *args: Any, **kwargs: Any
) -> Any:
    if (endpoint_type or "").lower() == "interface":
        vpc = self.get_vpc(vpc_id)
        dns = _on(vpc.enable_dns_support) and _on(vpc.enable_dns_hostnames)
        if kwargs.get("private_dns_enabled") is not False and not dns:
            raise InvalidParameter(
                "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes "
                f"set to true for {vpc_id}"
            )
        if not kwargs.get("security_group_ids"):
            default = self.get_default_security_group(vpc_id)  # type: ignore[attr-defined]
            kwargs["security_group_ids"] = [default.id] if default is not None else []
    return _ORIGINALS["create_vpc_endpoint"](self, vpc_id, service_name, endpoint_type, *args, **kwargs)


def _on(value: Any) -> bool:
    """A VPC attribute as moto keeps it: a bool, or the text ModifyVpcAttribute was given."""
    return value is True or str(value).lower() == "true"


def _create_vpc(self: VPCBackend, *args: Any, **kwargs: Any) -> Any:
    vpc = _ORIGINALS["create_vpc"](self, *args, **kwargs)
    default = self.get_default_security_group(vpc.id)  # type: ignore[attr-defined]
    if default is not None and not default.ingress_rules:
        self.authorize_security_group_ingress(  # type: ignore[attr-defined]
            default.id, "-1", None, None, [], source_groups=[{"GroupId": default.id}], vpc_id=vpc.id
        )
    return vpc


def install_ec2() -> None:
    """Patch moto's EC2 backend so VPCs and interface endpoints get AWS's defaults and checks; idempotent."""
    with _install_lock:
        if is_ec2_installed():
            return
        _ORIGINALS["create_vpc"] = VPCBackend.create_vpc
        _ORIGINALS["create_vpc_endpoint"] = VPCBackend.create_vpc_endpoint
        VPCBackend.create_vpc = _create_vpc  # type: ignore[method-assign]
        VPCBackend.create_vpc_endpoint = _create_vpc_endpoint  # type: ignore[method-assign]
        setattr(VPCBackend, _INSTALL_MARK, True)


def is_ec2_installed() -> bool:
    """Return True once :func:`install_ec2` has patched moto."""
    return bool(getattr(VPCBackend, _INSTALL_MARK, False))
