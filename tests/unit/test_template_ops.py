"""template.yaml's distribution metadata: what the Serverless Application Repository needs to publish it."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from tests.support.lambda_env import ROOT
from trafficgate.hooks import Hook
from trafficgate_local.template import load_template

TEMPLATE = ROOT / "template.yaml"


# --- distribution ----------------------------------------------------------------------------------


def application() -> dict[str, Any]:
    app: dict[str, Any] = load_template(TEMPLATE)["Metadata"]["AWS::ServerlessRepo::Application"]
    return app


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)


def test_application_metadata_is_complete_and_valid_for_the_repository() -> None:
    app = application()
    required = {"Name", "Description", "Author", "SpdxLicenseId", "LicenseUrl", "ReadmeUrl", "Labels"}
    assert required | {"SemanticVersion", "HomePageUrl", "SourceCodeUrl"} <= set(app), sorted(app)
    # The Serverless Application Repository's own constraints on each field.
    assert re.fullmatch(r"[a-zA-Z0-9\-]{1,140}", app["Name"]), app["Name"]
    assert re.fullmatch(r"[a-z0-9](?:[a-z0-9]|-(?!-)){0,125}[a-z0-9]", app["Author"]), app["Author"]
    assert 1 <= len(app["Description"]) <= 256, len(app["Description"])
    assert 1 <= len(app["Labels"]) <= 10 and len(set(app["Labels"])) == len(app["Labels"])
    for label in app["Labels"]:
        assert re.fullmatch(r"[a-zA-Z0-9+\-_:/@]{1,127}", label), label
    for key in ("HomePageUrl", "SourceCodeUrl"):
        assert re.fullmatch(r"https://[^\s/]+/\S+", app[key]), (key, app[key])


def test_semantic_version_is_the_package_version() -> None:
    version = application()["SemanticVersion"]
    assert SEMVER.fullmatch(str(version)), f"SemanticVersion {version!r} is not a semantic version"
    assert str(version) == pyproject()["version"], "template.yaml and pyproject.toml disagree on the version"


def test_license_is_the_apache_license_the_package_declares() -> None:
    app = application()
    assert app["SpdxLicenseId"] == pyproject()["license"] == "Apache-2.0"
    text = (ROOT / app["LicenseUrl"]).read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the whole text, not a stub
    assert (ROOT / app["ReadmeUrl"]).is_file() and app["ReadmeUrl"] == pyproject()["readme"]


#: The properties ``sam package`` uploads and rewrites as S3 locations.
UPLOADED = {"CodeUri", "ContentUri", "LicenseUrl", "ReadmeUrl"}


def test_the_only_local_paths_are_the_ones_sam_package_uploads() -> None:
    found: list[tuple[str, str]] = []

    def walk(node: Any, key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and re.fullmatch(r"\.*[\w-][\w.-]*(?:/[\w.-]*)*", node) and (ROOT / node).exists():
            found.append((key, node))

    walk(load_template(TEMPLATE), "")
    assert sorted(key for key, _ in found) == ["CodeUri"] * (len(Hook) + 1) + ["ContentUri", "LicenseUrl", "ReadmeUrl"]
    for _, path in found:
        assert not path.startswith(("/", "..")), path
