"""The catalogue (H10), footers (H11), overrides checked in the sandbox (H12), originals that
a reset returns to (H13)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from ametrika_gitops.check.project import Project
from ametrika_gitops.render.emails import Email
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
LAYOUT = {"preheader": "", "brand": "Demo"}  # the layout's other variables
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
        out = engine.render(
            src, kind, {**context, "lang": locale, "subject": "S", "footer": "", **LAYOUT}
        )
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
    ctx = {"name": "<b>&</b>", "lang": "en", "subject": "s", "footer": "", **LAYOUT}
    assert "<p>&lt;b&gt;&amp;&lt;/b&gt;</p>" in engine.render(html, "html", ctx)
    assert engine.render(text, "text", ctx) == "<b>&</b>"


def test_html_body_is_placed_in_the_shared_responsive_layout(project: Project) -> None:
    out = project.engine.render(
        Source("<p>body</p>", "override", "x"),
        "html",
        {"lang": "fr", "subject": "Sujet", "footer": "", **LAYOUT},
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
            src,
            "html",
            {"period": {"label": "x"}, "lang": "en", "subject": "", "footer": "", **LAYOUT},
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
    # and the layout's: exactly the variables it uses, each described
    layout_src = (project.root / "templates" / "layout.html.j2").read_text(encoding="utf-8")
    env = project.engine.html_env
    used = find_undeclared_variables(env.parse(layout_src)) - set(env.globals)
    assert project.catalog.layout is not None and all(project.catalog.layout.values())
    assert used == set(project.catalog.layout) == {*LAYOUT, "lang", "subject", "footer"}


def test_every_header_the_builder_adds_is_in_the_catalogue(project: Project) -> None:
    from ametrika_gitops.check.pipeline import check_files
    from ametrika_gitops.check.project import account_files
    from ametrika_gitops.mail.message import build_message

    from .conftest import ROOT

    standard = {"from", "to", "reply-to", "subject", "date", "message-id", "mime-version"}
    standard |= {"content-type", "content-transfer-encoding", "content-disposition"}
    documented = {h.name.lower() for h in project.catalog.headers}
    (checked,) = check_files(
        project, account_files((ROOT / "accounts" / "acme.yaml",), project.root)
    )
    assert checked.account is not None
    for mail in checked.emails:
        msg = build_message(checked.account, mail, "qa@acme.fr")
        added = {name.lower() for part in msg.walk() for name in part} - standard
        assert added <= documented, (mail.type_id, added - documented)


class _Anchors(HTMLParser):
    """Every <a>: its attributes, its text, and the attributes of the nearest enclosing <td>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[dict[str, str]] = [{}]
        self.anchors: list[tuple[dict[str, str], dict[str, str], list[str]]] = []
        self.open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "td":
            self.cells.append(found)
        elif tag == "a":
            self.open = []
            self.anchors.append((found, self.cells[-1], self.open))

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and len(self.cells) > 1:
            self.cells.pop()
        elif tag == "a":
            self.open = None

    def handle_data(self, data: str) -> None:
        if self.open is not None:
            self.open.append(data)


def _style(attrs: dict[str, str]) -> dict[str, str]:
    pairs = (d.split(":", 1) for d in attrs.get("style", "").split(";") if ":" in d)
    return {k.strip(): v.strip() for k, v in pairs}


CTA = {
    "alert": "dashboard_url",
    "email-verification": "verification_url",
    "insights": "dashboard_url",
    "password-reset": "reset_url",
    "scheduled-report": "report_url",
    "share-notification": "view_url",
    "user-invitation": "accept_url",
}


def _emails(project: Project, account: str) -> tuple[Email, ...]:
    from ametrika_gitops.check.pipeline import check_files
    from ametrika_gitops.check.project import account_files

    from .conftest import ROOT

    (checked,) = check_files(
        project, account_files((ROOT / "accounts" / f"{account}.yaml",), project.root)
    )
    assert checked.account is not None, checked.diagnostics
    return checked.emails


def test_without_style_the_call_to_action_is_still_a_styled_button(project: Project) -> None:
    """#13: clients that drop <style> (several webmails, some Outlook configurations) see the
    inlined styles: every type x locale keeps a bulletproof button (a coloured table cell, a
    padded white link) and a plain fallback link to the same place under it."""
    emails = _emails(project, "initech")  # originals only, en and fr
    assert {(e.type_id, e.locale) for e in emails} == {
        (t, loc) for t in TYPES for loc in ("en", "fr")
    }
    for mail in emails:
        bare = re.sub(r"<style\b.*?</style>", "", mail.parts["html"].output, flags=re.DOTALL)
        parser = _Anchors()
        parser.feed(bare)
        where = f"{mail.type_id}/{mail.locale}"
        if mail.type_id not in CTA:
            assert not [a for a, _, _ in parser.anchors if "button" in a.get("class", "")], where
            continue
        etype = project.catalog.types[mail.type_id]
        url = next(v.sample for v in etype.variables if v.name == CTA[mail.type_id])
        to_cta = [(a, td, "".join(text)) for a, td, text in parser.anchors if a["href"] == url]
        assert len(to_cta) == 2, where  # the button, then the plain link
        (button, cell, _), (plain, _, plain_text) = to_cta
        style = _style(button)
        assert style["display"] == "inline-block" and style["padding"].startswith("12px"), where
        assert style["color"] == "#ffffff" and style["text-decoration"] == "none", where
        assert cell.get("bgcolor") == "#2563eb", where
        assert _style(cell)["background-color"] == "#2563eb", where
        assert plain_text == url and "button" not in plain.get("class", ""), where


def test_an_override_written_with_a_button_class_is_inlined_too(project: Project) -> None:
    html = next(
        e.parts["html"].output
        for e in _emails(project, "acme")
        if (e.type_id, e.locale) == ("insights", "fr")
    )
    parser = _Anchors()
    parser.feed(re.sub(r"<style\b.*?</style>", "", html, flags=re.DOTALL))
    (button,) = [a for a, _, _ in parser.anchors if a.get("class") == "button"]
    style = _style(button)
    assert style["background-color"] == "#2563eb" and style["display"] == "inline-block"


def test_the_layout_names_the_sender_hides_a_preheader_and_knows_dark_mode(
    project: Project,
) -> None:
    mail = next(
        e for e in _emails(project, "acme") if (e.type_id, e.locale) == ("password-reset", "en")
    )
    html = mail.parts["html"].output
    head, body = html.split("<body", 1)
    # a header that names the account: a password reset that names nobody looks like phishing
    assert re.search(r'<td class="header"[^>]*>ACME Analytics</td>', body)
    # the hidden preheader comes first in the body: the preview line of mail clients
    first = re.search(r"<div class=\"preheader\" style=\"([^\"]*)\">([^<]*)</div>", body)
    assert first is not None and body.index("preheader") < body.index("ACME Analytics")
    assert "display: none" in first.group(1)
    assert first.group(2).startswith(
        "Hello Karim Benali, someone asked to reset the password of your account."
    )
    assert '<meta name="color-scheme" content="light dark">' in head
    style = re.search(r"<style>(.*?)</style>", head, re.DOTALL)
    assert style is not None  # only the at-rules are left in <style>, in the head
    assert "@media (max-width: 620px)" in style.group(1)
    assert "@media (prefers-color-scheme: dark)" in style.group(1)
    assert ".button-cell" in style.group(1)
    assert "<style" not in body


def test_a_button_takes_only_web_and_mail_links(project: Project) -> None:
    src = Source('{{ button("javascript:alert(1)", "Go") }}', "override", "f.j2")
    with pytest.raises(TemplateError) as caught:
        project.engine.render(src, "html", {"lang": "en", "subject": "", "footer": "", **LAYOUT})
    assert "button() takes an https://" in caught.value.diagnostic.message
    text = Source('{{ button("https://x.example", "Go") }}', "override", "f.j2")
    problems = project.engine.check(text, "text", frozenset())
    assert [d.code for d in problems] == ["template-undefined"]  # no button in plain text


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip += tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("style", "title")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.chunks.append(data)


def _french_typography_problems(text: str) -> list[str]:
    """French rules: a no-break space before : and %, a narrow one before ; ! ? and inside
    « », a decimal comma, a typographic apostrophe."""
    text = re.sub(r"https?://\S+", "URL", text)  # links and times keep their colons
    text = re.sub(r"\d:\d", "0h0", text)
    spaces = "\u00a0\u202f"
    problems = []
    for m in re.finditer(r"(.)([:;!?%»])", text):
        if m.group(1) not in spaces:
            problems.append(
                f"no no-break space before {m.group(2)!r}: …{text[max(0, m.start() - 20) : m.end()]}"
            )
    for m in re.finditer(r"«(.)", text):
        if m.group(1) not in spaces:
            problems.append(f"no no-break space after «: {text[m.start() : m.end() + 20]}…")
    problems += [f"a decimal point: {m.group(0)}" for m in re.finditer(r"\d\.\d+", text)]
    problems += [
        f"a straight apostrophe: …{text[max(0, m.start() - 10) : m.end() + 10]}…"
        for m in re.finditer("'", text)
    ]
    return problems


def test_french_originals_follow_french_typography(project: Project) -> None:
    """#13: every French e-mail (subject, text, the words of the HTML) and its footer."""
    found = {}
    for mail in _emails(project, "initech"):
        if mail.locale != "fr":
            continue
        words = _Text()
        words.feed(mail.parts["html"].output)
        for part, text in (
            ("subject", mail.parts["subject"].output),
            ("text", mail.parts["text"].output),
            ("html", "".join(words.chunks)),
        ):
            problems = _french_typography_problems(text)
            if problems:
                found[f"{mail.type_id}/{part}"] = problems
    assert found == {}


def test_numbers_percentages_and_dates_follow_the_locale(project: Project) -> None:
    emails = {(e.type_id, e.locale): e for e in _emails(project, "initech")}
    fr_text = emails[("insights", "fr")].parts["text"].output
    en_text = emails[("insights", "en")].parts["text"].output
    assert "Sessions (mobile)\u00a0: +18,4\u00a0% (hausse)" in fr_text
    assert "-9,2\u00a0% (baisse)" in fr_text
    assert "Sessions (mobile): +18.4% (up)" in en_text
    assert "Déclenchée le 27 mars 2026, 09:40 TU." in emails[("alert", "fr")].parts["text"].output
    assert (
        "Triggered on March 27, 2026, 9:40\u202fAM UTC."
        in emails[("alert", "en")].parts["text"].output
    )


@pytest.mark.parametrize(
    "template, lang, out",
    [
        ("{{ 1234.5|number }}", "fr", "1\u202f234,5"),
        ("{{ 1234.5|number }}", "en", "1,234.5"),
        ("{{ 7|number(1) }}", "fr", "7,0"),
        ("{{ 18.4|percent }}", "fr", "18,4\u00a0%"),
        ("{{ -9.25|percent(2, signed=true) }}", "en", "-9.25%"),
        ("{{ 0|percent(0, signed=true) }}", "en", "+0%"),
        ("{{ '2026-03-16'|date }}", "fr", "16 mars 2026"),
        ("{{ '2026-03-16'|date('short') }}", "en", "3/16/26"),
        ("{{ '2026-03-27T10:40:00+01:00'|datetime }}", "fr", "27 mars 2026, 10:40 +0100"),
    ],
)
def test_babel_filters(project: Project, template: str, lang: str, out: str) -> None:
    src = Source(template, "override", "f.j2")
    assert project.engine.check(src, "text", frozenset()) == []
    assert project.engine.render(src, "text", {"lang": lang}) == out


def test_a_filter_given_text_for_a_number_is_a_finding(project: Project) -> None:
    src = Source("x\n{{ 'lots'|percent }}", "override", "f.j2")
    with pytest.raises(TemplateError) as caught:
        project.engine.render(src, "text", {"lang": "fr"})
    assert (caught.value.diagnostic.code, caught.value.diagnostic.line) == ("template-render", 2)
    assert "a number is needed, not str" in caught.value.diagnostic.message


@pytest.mark.parametrize("account, words", [("globex", "through your own SMTP server")])
def test_the_test_message_says_the_sender_mode_in_words(
    project: Project, account: str, words: str
) -> None:
    for mail in _emails(project, account):
        if mail.type_id == "test-message":
            assert words in mail.parts["text"].output
            assert " smtp " not in mail.parts["text"].output.lower().replace("smtp server", "")


def test_a_filter_cannot_ask_for_a_million_decimals(project: Project) -> None:
    src = Source("{{ 1|percent(1000000) }}", "override", "f.j2")
    with pytest.raises(TemplateError) as caught:
        project.engine.render(src, "text", {"lang": "en"})
    assert "digits must be a whole number from 0 to 10" in caught.value.diagnostic.message


def test_a_body_that_writes_the_layouts_marks_is_still_whole(repo, write_account) -> None:  # type: ignore[no-untyped-def]
    """The layout marks where the body goes; a body that writes the same marks gets its
    e-mail inlined whole, and nothing of it is lost."""
    from ametrika_gitops.check.pipeline import check_files
    from ametrika_gitops.check.project import Project as P
    from ametrika_gitops.check.project import account_files

    from .conftest import MINIMAL

    path = write_account(
        "demo",
        MINIMAL.format(id="demo")
        + "templates:\n  alert:\n    en:\n"
        + "      html: '<p>a<!--/mail-body--><b class=\"muted\">tail</b></p>'\n",
    )
    project = P.open(repo)
    (checked,) = check_files(project, account_files((path,), project.root))
    assert checked.account is not None, checked.diagnostics
    html = next(e for e in checked.emails if e.type_id == "alert").parts["html"].output
    assert re.search(r'<b class="muted" style="[^"]*color: #6b7280', html)
    assert html.count("Initech") == 0 and "Example" in html  # the header's name is there
