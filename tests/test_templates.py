"""The catalogue (H10), footers (H11), overrides checked in the sandbox (H12), originals that
a reset returns to (H13)."""

from __future__ import annotations

import re

import pytest

from ametrika_gitops.check.project import Project
from ametrika_gitops.render.engine import Source, TemplateError

TYPES = {
    "user-invitation",
    "email-verification",
    "password-reset",
    "scheduled-report",
    "insights",
    "alert",
    "share-notification",
    "recipient-verification",
    "test-message",
}
WITH_FOOTER = {"scheduled-report", "insights", "alert", "share-notification"}


def test_catalogue_lists_every_type_with_footer_flags(project: Project) -> None:
    assert set(project.catalog.types) == TYPES
    assert {t for t, e in project.catalog.types.items() if e.footer} == WITH_FOOTER
    for etype in project.catalog.types.values():
        assert set(etype.locales) == {"en", "fr"}
        assert etype.variables, etype.id
        for v in etype.variables:
            assert v.description and (v.bind or v.sample is not None or v.samples)


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("type_id", sorted(TYPES))
def test_originals_pass_the_override_checks_and_render(
    project: Project, type_id: str, locale: str
) -> None:
    etype = project.catalog.types[type_id]
    engine = project.engine
    bound = {"account.id": "demo", "account.name": "Demo", "sender.mode": "ametrika"}
    context = project.catalog.context(etype.variables, locale, bound)
    for kind in ("subject", "html", "text"):
        src = engine.original(locale, type_id, kind)
        assert engine.check(src, kind, etype.names) == []
        # every variable the type receives is used by at least one part of the original
        out = engine.render(src, kind, {**context, "lang": locale, "subject": "S", "footer": ""})
        assert out.strip()
        assert "lorem" not in out.lower()
        if kind == "subject":
            assert "\n" not in out
    used = set()
    for kind in ("subject", "html", "text"):
        used |= set(re.findall(r"\b([a-z_]+)\b", engine.original(locale, type_id, kind).text))
    assert etype.names <= used


def test_html_is_autoescaped_and_text_is_not(project: Project) -> None:
    engine = project.engine
    html = Source("<p>{{ name }}</p>", "override", "x")
    text = Source("{{ name }}", "override", "x")
    ctx = {"name": "<b>&</b>", "lang": "en", "subject": "s", "footer": ""}
    assert "<p>&lt;b&gt;&amp;&lt;/b&gt;</p>" in engine.render(html, "html", ctx)
    assert engine.render(text, "text", ctx) == "<b>&</b>"


def test_html_body_is_placed_in_the_shared_responsive_layout(project: Project) -> None:
    out = project.engine.render(
        Source("<p>body</p>", "override", "x"),
        "html",
        {"lang": "fr", "subject": "Sujet", "footer": ""},
    )
    assert out.startswith("<!DOCTYPE html>") and '<html lang="fr">' in out
    assert "<title>Sujet</title>" in out and "@media (max-width" in out
    assert "<p>body</p>" in out


@pytest.mark.parametrize(
    "text, names",
    [
        ("{{ ''.__class__.__mro__ }}", ["__class__", "__mro__"]),
        ("{{ x.__globals__ }}", ["__globals__"]),
        ("{{ x['_secret'] }}", ["_secret"]),
    ],
)
def test_python_internals_are_refused_statically(
    project: Project, text: str, names: list[str]
) -> None:
    problems = project.engine.check(Source(text, "override", "f.j2"), "text", frozenset({"x"}))
    assert {d.code for d in problems} == {"template-unsafe"}
    assert sorted(n for d in problems for n in names if f"'{n}'" in d.message) == sorted(names)


def test_sandbox_refuses_at_render_time_too(project: Project) -> None:
    # not caught statically (no underscore in the source): the sandbox stops it while rendering
    src = Source("line one\n{{ x.mro() }}", "override", "f.j2", line=10)
    with pytest.raises(TemplateError) as caught:
        project.engine.render(src, "text", {"x": int})
    d = caught.value.diagnostic
    assert (d.path, d.line, d.code) == ("f.j2", 11, "template-unsafe")


def test_runtime_error_points_at_the_override_line(project: Project) -> None:
    src = Source("a\nb\n{{ period.nope }}\n", "override", "overrides/x.j2")
    with pytest.raises(TemplateError) as caught:
        project.engine.render(
            src, "html", {"period": {"label": "x"}, "lang": "en", "subject": "", "footer": ""}
        )
    assert (caught.value.diagnostic.line, caught.value.diagnostic.code) == (3, "template-undefined")


def test_unknown_test_and_filter_inside_a_condition_are_found(project: Project) -> None:
    src = Source(
        "{% if x %}{{ x | nope }}{% endif %}\n{% if x is weird %}y{% endif %}", "override", "f.j2"
    )
    problems = project.engine.check(src, "text", frozenset({"x"}))
    assert [(d.code, d.line) for d in problems] == [("template-filter", 1), ("template-filter", 2)]
    assert "unknown test 'weird'" in problems[1].message


def test_globals_such_as_range_are_not_unknown_variables(project: Project) -> None:
    src = Source("{% for i in range(3) %}{{ i }}{% endfor %}", "override", "f.j2")
    assert project.engine.check(src, "text", frozenset()) == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("{{ 'x' * 10**10 }}", "repetition too large"),
        ("{{ [1] * 200000 }}", "repetition too large"),
        ("{{ 2 ** 100000000 }}", "exponent too large"),
    ],
)
def test_expressions_that_would_exhaust_memory_are_refused(
    project: Project, text: str, message: str
) -> None:
    with pytest.raises(TemplateError) as caught:
        project.engine.render(Source(text, "override", "f.j2"), "text", {})
    assert caught.value.diagnostic.code == "template-unsafe"
    assert message in caught.value.diagnostic.message


def test_a_runaway_loop_is_stopped_and_reported(project: Project) -> None:
    src = Source(
        "x\n{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "override",
        "f.j2",
    )
    with pytest.raises(TemplateError) as caught:
        project.engine.render(src, "text", {})
    d = caught.value.diagnostic
    assert (d.code, d.line) == ("template-render", 2)
    assert "takes more than" in d.message


def test_the_catalogue_documents_every_footer_and_header_variable(project: Project) -> None:
    """#13: the footer's contract (and what each header the tool adds carries) is written down
    in the catalogue, and the footer originals use what it promises."""
    from jinja2.meta import find_undeclared_variables

    footer = {v.name: v for v in project.catalog.footer_variables}
    assert {"account_name", "settings_url", "unsubscribe_url"} <= set(footer)
    assert all(v.description for v in footer.values())
    for locale in ("en", "fr"):
        for kind in ("footer_html", "footer_text"):
            src = project.engine.original(locale, "footer", kind)
            used = find_undeclared_variables(project.engine.html_env.parse(src.text))
            assert used == set(footer), (locale, kind)
    headers = {h.name: h for h in project.catalog.headers}
    assert {"List-Unsubscribe", "List-Unsubscribe-Post"} <= set(headers)
    assert all(h.description and h.value and h.types for h in headers.values())
    assert "{unsubscribe_url}" in headers["List-Unsubscribe"].value
    recurring = {t for t, e in project.catalog.types.items() if e.unsubscribe}
    assert recurring == {"scheduled-report", "insights", "alert"}


def test_every_header_the_builder_adds_is_in_the_catalogue(project: Project) -> None:
    from ametrika_gitops.check.pipeline import check_files
    from ametrika_gitops.check.project import account_files
    from ametrika_gitops.mail.message import build_message

    from .conftest import ROOT

    standard = {"from", "to", "reply-to", "subject", "date", "message-id", "mime-version"}
    standard |= {"content-type", "content-transfer-encoding"}
    documented = {h.name.lower() for h in project.catalog.headers}
    (checked,) = check_files(
        project, account_files((ROOT / "accounts" / "acme.yaml",), project.root)
    )
    assert checked.account is not None
    for mail in checked.emails:
        msg = build_message(checked.account, mail, "qa@acme.fr")
        added = {name.lower() for part in msg.walk() for name in part} - standard
        assert added <= documented, (mail.type_id, added - documented)
