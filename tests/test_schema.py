"""The account schema itself (the four modes of H2, the SMTP block of H3, the hosted block of
H7), and the bundled accounts against it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from ametrika_gitops.check.project import Project
from ametrika_gitops.config.loader import load_file

from .conftest import ROOT

SCHEMA = json.loads((ROOT / "schemas" / "account.schema.json").read_text(encoding="utf-8"))
ACCOUNTS = sorted((ROOT / "accounts").glob("*.yaml"))


def objects(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield path, node
        for key, value in node.items():
            yield from objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from objects(value, f"{path}/{i}")


def test_schema_is_valid_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_every_object_is_closed_and_every_property_described() -> None:
    found = list(objects(SCHEMA))
    assert len(found) > 10
    for path, obj in found:
        assert "additionalProperties" in obj, path
        if "properties" in obj:
            assert obj["additionalProperties"] is False, path
        for name, prop in obj.get("properties", {}).items():
            assert prop.get("description"), f"{path}/properties/{name}"


def test_the_email_types_of_the_schema_are_the_catalogue(project: Project) -> None:
    props = set(SCHEMA["properties"]["templates"]["properties"])
    assert props == set(project.catalog.types) | {"footer"}


def validate(data: dict[str, Any]) -> list[str]:
    v = jsonschema.Draft202012Validator(SCHEMA)
    return sorted(e.validator for e in v.iter_errors(data))


BASE: dict[str, Any] = {
    "version": 1,
    "account": {"id": "x1", "name": "X", "admins": ["@a"], "locales": ["en"]},
}
SMTP = {
    "host": "smtp.example.com",
    "username": "u",
    "password": {"env": "P"},
    "from_address": "a@example.com",
}
HOSTED = {"domain": "mail.example.com", "from_address": "a@mail.example.com"}


@pytest.mark.parametrize(
    "mode, block, ok",
    [
        ("smtp", {"smtp": SMTP}, True),
        ("smtp", {}, False),  # smtp required when mode is smtp (H3)
        ("smtp", {"smtp": SMTP, "hosted": HOSTED}, False),
        ("hosted", {"hosted": HOSTED}, True),
        ("hosted", {}, False),
        ("hosted", {"hosted": HOSTED, "smtp": SMTP}, False),
        ("ametrika", {}, True),
        ("ametrika", {"smtp": SMTP}, False),
        ("analytics-report", {"hosted": HOSTED}, False),
        ("analytics-report", {}, True),
    ],
)
def test_blocks_exactly_when_the_mode_needs_them(
    mode: str, block: dict[str, Any], ok: bool
) -> None:
    data = BASE | {"sender": {"mode": mode, "from_name": "X", **block}}
    assert (validate(data) == []) is ok


def test_modes_are_an_enum_never_free_text() -> None:
    mode = SCHEMA["properties"]["sender"]["properties"]["mode"]
    assert mode["enum"] == ["ametrika", "analytics-report", "smtp", "hosted"]
    data = BASE | {"sender": {"mode": "ametrika.com", "from_name": "X"}}
    assert validate(data) == ["enum"]


@pytest.mark.parametrize(
    "password, ok",
    [
        ({"env": "SMTP_PASSWORD"}, True),
        ("hunter2", False),
        ({"value": "hunter2"}, False),
        ({"env": "SMTP PASSWORD"}, False),
        ({"env": "A", "default": "x"}, False),
    ],
)
def test_secrets_are_only_env_references(password: Any, ok: bool) -> None:
    data = BASE | {
        "sender": {"mode": "smtp", "from_name": "X", "smtp": SMTP | {"password": password}}
    }
    assert (validate(data) == []) is ok


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda p: p.stem)
def test_bundled_account_matches_the_schema(account: Any) -> None:
    doc, diags = load_file(account, account.name)
    assert diags == [] and doc is not None
    assert validate(doc.data) == []
    assert account.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=../schemas/account.schema.json"
    )


def test_bundled_accounts_cover_every_mode() -> None:
    modes = set()
    for account in ACCOUNTS:
        doc, _ = load_file(account, account.name)
        assert doc is not None
        modes.add(doc.data["sender"]["mode"])
    assert modes == {"ametrika", "analytics-report", "smtp", "hosted"}
    assert len(ACCOUNTS) >= 5
