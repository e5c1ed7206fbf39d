"""Property-based: arbitrary text and arbitrary YAML never crash the loader or the validator."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ametrika_gitops.check.pipeline import check_file
from ametrika_gitops.check.project import Project
from ametrika_gitops.config.loader import load_bytes

from .conftest import ROOT

PROJECT = Project.open(ROOT)
KEYS = st.sampled_from(
    [
        "version",
        "account",
        "sender",
        "templates",
        "test",
        "id",
        "name",
        "mode",
        "smtp",
        "hosted",
        "port",
        "security",
        "password",
        "domain",
        "from_address",
        "locales",
        "admins",
        "en",
        "fr",
        "insights",
        "footer",
        "subject",
        "html",
        "text",
        "file",
        "dmarc",
        "dns",
        "zone",
        "x",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["smtp", "hosted", "ametrika", "{{ x }}", "{% if %}", "a@b.c", "465"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _check(tmp: Path, raw: bytes) -> None:
    file = tmp / "prop.yaml"
    file.write_bytes(raw)
    result = check_file(PROJECT, file)
    for d in result.diagnostics:
        assert d.line >= 1 and d.column >= 1 and d.message


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_the_loader(raw: bytes) -> None:
    doc, diags = load_bytes(raw, "x.yaml")
    assert doc is not None or diags


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_text_never_crashes_the_validator(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    _check(tmp_path_factory.mktemp("t"), text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_arbitrary_yaml_never_crashes_the_validator(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, object]
) -> None:
    _check(tmp_path_factory.mktemp("y"), yaml.safe_dump(data, allow_unicode=True).encode())


@SETTINGS
@given(VALUES)
def test_arbitrary_account_shaped_documents(
    tmp_path_factory: pytest.TempPathFactory, sender: object
) -> None:
    data = {
        "version": 1,
        "account": {"id": "prop", "name": "P", "admins": ["@a"], "locales": ["en"]},
        "sender": sender,
        "templates": {"insights": {"en": {"subject": sender}}},
    }
    _check(tmp_path_factory.mktemp("a"), yaml.safe_dump(data, allow_unicode=True).encode())
