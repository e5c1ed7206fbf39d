"""The catalogue (H10), footers (H11), overrides checked in the sandbox (H12), originals that
a reset returns to (H13)."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import tracemalloc
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ametrika_gitops.check.project import Project
from ametrika_gitops.cli.main import main
from ametrika_gitops.errors import AmetrikaError
from ametrika_gitops.render.bounds import MAX_NODES, MAX_OUTPUT, MAX_TEMPLATE, MiB
from ametrika_gitops.render.emails import Email
from ametrika_gitops.render.engine import CACHED, Engine, Source, TemplateError
from ametrika_gitops.render.overrides import FileProblem, read_override_file

from .conftest import MINIMAL, ROOT, WriteAccount

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
        ("{{ 'x' * 10**10 }}", "repetition (*) would be longer than 1,048,576 characters"),
        ("{{ [1] * 200000 }}", "repetition (*) would hold more than 10,000 items"),
        ("{{ 2 ** 100000000 }}", "the exponent (**) is too large"),
    ],
)
def test_expressions_that_would_exhaust_memory_are_refused(
    project: Project, text: str, message: str
) -> None:
    with pytest.raises(TemplateError) as caught:
        project.engine.render(Source(text, "override", "f.j2"), "text", {})
    assert caught.value.diagnostic.code == "template-limit"
    assert message in caught.value.diagnostic.message


def test_a_runaway_loop_is_stopped_and_reported(project: Project) -> None:
    src = Source(
        "x\n{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "override",
        "f.j2",
    )
    with pytest.raises(TemplateError) as caught:
        project.engine.render(src, "text", {})
    d = caught.value.diagnostic
    assert (d.code, d.line) == ("template-limit", 2)
    assert "more than 20,000 steps" in d.message


# Hostile overrides (H12): every bound of render/bounds.py is a finding at the template's line,
# reached before the memory is spent (issue #12, item 1).

ISSUE_TEMPLATES = [
    # validate used to exit 0 after 1.46 GB for the first three, 1.9 GB for the fourth
    "{{ (['x'*100000]*5000)|join }}",
    "{{ '{:>500000000}'.format(1) }}",
    "{% for i in range(5000) %}{{ 'x'*100000 }}{% endfor %}",
    "{{ 'a'|center(500000000) }}",
]


@pytest.mark.parametrize("text", ISSUE_TEMPLATES)
def test_the_issues_templates_are_findings_within_little_memory(
    project: Project, text: str
) -> None:
    src = Source("Alert\n" + text, "override", "accounts/a.yaml", line=20, column=9)
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError) as caught:
            project.engine.render(src, "text", {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    d = caught.value.diagnostic
    assert (d.path, d.line, d.column, d.code) == ("accounts/a.yaml", 21, 9, "template-limit")
    assert peak < 80 * MiB, peak


@pytest.mark.parametrize(
    "text, message",
    [
        ("{{ 'a'.center(500000000) }}", "center(): a width of more than"),
        ("{{ 'a'.ljust(500000000) }}", "ljust(): a width"),
        ("{{ '1'.zfill(500000000) }}", "zfill(): a width"),
        ("{{ ('\t' * 1000).expandtabs(100000) }}", "expandtabs() would be longer"),
        ("{{ ('x' * 100000).replace('x', 'y' * 1000) }}", "replace() would be longer"),
        ("{{ ('x' * 1000)|replace('', 'y' * 100000) }}", "replace() would be longer"),
        ("{{ ('a\\n' * 100000)|indent(100) }}", "indent filter would be longer"),
        ("{{ ('a\\n' * 100000)|indent('y' * 100) }}", "indent filter would be longer"),
        ("{{ ('a ' * 100000)|wordwrap(1) }}", "wordwrap filter's lines would hold more"),
        ("{{ '%500000000s' % 1 }}", "'%' formatting: a width"),
        ("{{ '%*s' % (500000000, 1) }}", "'%' formatting: a width"),
        ("{{ '%.500000000f' % 1.5 }}", "'%' formatting: a width"),
        ("{{ '%500000000s'|format(1) }}", "'%' formatting: a width"),
        ("{{ ('%(a)s' * 100000) % {'a': 'x' * 1000} }}", "'%' formatting would be longer"),
        ("{{ ('{0}' * 100000).format('x' * 1000) }}", "format() would be longer"),
        ("{{ '{:{}}'.format('x', 500000000) }}", "format(): a width"),
        (
            (
                "{% set ns = namespace(s='x') %}{% for i in range(40) %}"
                "{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
            ),
            "a concatenation (~) would be longer",
        ),
        (
            (
                "{% set ns = namespace(s='x') %}{% for i in range(40) %}"
                "{% set ns.s = ns.s + ns.s %}{% endfor %}"
            ),
            "a concatenation (+) would be longer",
        ),
        (
            (
                "{% set ns = namespace(n=2) %}{% for i in range(40) %}"
                "{% set ns.n = ns.n * ns.n %}{% endfor %}"
            ),
            "more than 4,096 bits",
        ),
        ("{{ ((10 ** 100) ** 100) ** 100 }}", "a power (**) would be a number of more than"),
        (
            (
                "{% set l = [] %}{% for i in range(10000) %}{% set _ = l.append('x' * 100000) %}"
                "{% endfor %}"
            ),
            "allocates more than 64 MiB",
        ),
        (
            "{% set l = [1] %}{% for i in range(40) %}{% set _ = l.extend(l) %}{% endfor %}",
            "extend() would hold more than 10,000 items",
        ),
        (
            "{% set x %}{% for i in range(10000) %}{{ 'y' * 100000 }}{% endfor %}{% endset %}",
            "allocates more than 64 MiB",
        ),
        ("{% for c in 'x' * 1000000 %}{% endfor %}", "more than 20,000 steps"),
        (
            (
                "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}x{% endmacro %}"
                "{{ m(40) }}"
            ),
            "more than 20,000 steps",
        ),
        ("{{ lipsum(100000) }}", "lipsum() is limited"),
        ("{{ range(10**9)|list }}", "range() would hold more than 10,000 items"),
        ("{{ range(10000)|batch(10**9, 0)|list }}", "batch filter would hold more"),
        ("{{ range(10)|slice(10**9)|list }}", "slice filter would hold more"),
        ("{{ {'a': [[[[1]]]]}|tojson(indent=100000000) }}", "tojson would be longer"),
        ("{{ ('x ' * 100000)|urlize(target='y' * 100000) }}", "urlize filter would be longer"),
        ("{{ (2).to_bytes(10**9, 'big') }}", "to_bytes(): a width"),
        ("{{ (2).to_bytes(length=10**9, byteorder='big') }}", "to_bytes(): a width"),
        ("{{ ('\t' * 1000).expandtabs(tabsize=100000) }}", "expandtabs() would be longer"),
        (
            (
                "{% set keys = (range(10000)|list|join(',')).split(',') %}"
                "{% set d = {'a': 1} %}{{ d.update(**dict.fromkeys(keys, 1)) }}"
            ),
            "update() would hold more than 10,000 items",
        ),
        ("{{ ('a' * 100000).translate({97: 'x' * 100}) }}", "translate() would be longer"),
        ("{{ ''.join(['x' * 100000] * 100) }}", "the text of a repeated list"),
        ("{{ ('x' * 1000000)|list }}", "the list filter would hold more than 10,000"),
        ("{{ range(10000)|map('center', 1000000)|join }}", "allocates more than 64 MiB"),
        ("{{ 'x' * 1048576 ~ 'y' }}", "a concatenation (~) would be longer"),
        (
            (
                "{% set d = {} %}{% set big = 'x' * 200000 %}{% for i in range(5000) %}"
                "{% set _ = d.update({i: big}) %}{% endfor %}{{ d.values() }}"
            ),
            "a printed value would be longer",  # a view prints all it shows
        ),
        ("{{ ('x' * 1000000)|sort }}", "the input of the sort filter would hold more than"),
        ("{{ ['x' * 100000] + ['x' * 100000] * 10 }}", "the text of a repeated list"),
    ],
)
def test_every_way_to_build_something_large_is_bounded(
    project: Project, text: str, message: str
) -> None:
    with pytest.raises(TemplateError) as caught:
        project.engine.render(Source("a\nb\n" + text, "override", "f.j2"), "text", {})
    d = caught.value.diagnostic
    assert (d.code, d.line) == ("template-limit", 3)
    assert message in d.message


def test_the_output_may_reach_its_bound_and_not_one_character_more(project: Project) -> None:
    # the line break counts: 262,142 + 1 + 1
    fits = Source("{{ 'x' * (262144 - 2) }}\n{{ 'y' }}", "override", "f.j2")
    assert len(project.engine.render(fits, "text", {})) == MAX_OUTPUT
    over = Source("{{ 'x' * (262144 - 2) }}\n{{ 'yy' }}", "override", "f.j2")
    with pytest.raises(TemplateError) as caught:
        project.engine.render(over, "text", {})
    d = caught.value.diagnostic
    assert (d.code, d.line) == ("template-limit", 2)
    assert d.message == "the template renders to more than 262,144 characters"


@pytest.mark.parametrize(
    "text, kind, expected",
    [
        ('{{ "%s-%05.1f" % (a, 2.5) }}', "text", "<b>-002.5"),
        ("{{ '{:>5}|{:.2f}'.format(1, 2) }}", "text", "    1|2.00"),
        ("{{ a ~ '!' }}|{{ [1, 2]|sum }}|{{ range(3)|join(',') }}", "text", "<b>!|3|0,1,2"),
        (
            "{{ 'x'|center(5) }}|{{ 'ab\ncd'|indent(2) }}|{{ 'a b c'|wordwrap(1) }}",
            "text",
            "  x  |ab\n  cd|a\nb\nc",
        ),
        (
            "{% for x in [3, 4] %}{{ loop.index }}/{{ loop.length }} {% endfor %}",
            "text",
            "1/2 2/2 ",
        ),
        ("<p>{{ a ~ '&' }}</p>", "html", "<p>&lt;b&gt;&amp;</p>"),
        (
            "{% autoescape false %}{{ a ~ '&' }}{% endautoescape %}",
            "html",
            "<b>&",
        ),
        ("{{ a|e ~ '&' }}", "html", "&lt;b&gt;&amp;"),
        ("{{ '%s'|format(a) }}{{ '<i>%s</i>'|safe % a }}", "html", "&lt;b&gt;<i>&lt;b&gt;</i>"),
    ],
)
def test_bounded_operations_give_the_same_results(
    project: Project, text: str, kind: str, expected: str
) -> None:
    ctx = {"a": "<b>", "lang": "en", "subject": "s", "footer": "", **LAYOUT}
    out = project.engine.render(Source(text, "override", "f.j2"), kind, ctx)
    assert expected in out


def test_the_size_of_a_template_and_its_elements_are_bounded(project: Project) -> None:
    engine = project.engine
    big = Source("x" * (MAX_TEMPLATE + 1), "override", "f.j2", line=4, column=7)
    dense = Source("{{ a }}" * MAX_NODES, "override", "f.j2", line=4, column=7)
    for src in (big, dense):
        problems = engine.check(src, "text", frozenset({"a"}))
        assert [(d.code, d.line, d.column) for d in problems] == [("template-limit", 4, 7)]
        with pytest.raises(TemplateError) as caught:
            engine.render(src, "text", {"a": 1})
        assert caught.value.diagnostic.code == "template-limit"


@pytest.mark.parametrize(
    "text",
    [
        "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
        "{% if 1 %}" * 2000 + "{% endif %}" * 2000,
        "{{ 1" + " + 1" * 2400 + " }}",
        "{{ a" + "|e" * 2400 + " }}",
    ],
)
def test_deep_nesting_is_a_finding_not_a_crash(project: Project, text: str) -> None:
    problems = project.engine.check(Source(text, "override", "f.j2"), "text", frozenset({"a"}))
    assert [(d.code, d.message) for d in problems] == [
        ("template-syntax", "the template is nested too deeply")
    ]
    with pytest.raises(TemplateError) as caught:
        project.engine.render(Source(text, "override", "f.j2"), "text", {"a": 1})
    assert caught.value.diagnostic.code == "template-syntax"


def test_a_runaway_render_leaves_no_process_wide_state(project: Project) -> None:
    # issue #9: no signal handler nor timer of the caller's is replaced or cancelled
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    signal.setitimer(signal.ITIMER_REAL, 100.0)
    try:
        src = Source(
            "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
            "override",
            "f.j2",
        )
        with pytest.raises(TemplateError):
            project.engine.render(src, "text", {})
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 90
        assert signal.getsignal(signal.SIGALRM) is not previous and not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_runaway_render_is_stopped_off_the_main_thread_too(project: Project) -> None:
    src = Source(
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "override",
        "f.j2",
    )
    found: list[str] = []

    def render() -> None:
        try:
            project.engine.render(src, "text", {})
        except TemplateError as exc:
            found.append(exc.diagnostic.code)

    worker = threading.Thread(target=render, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive() and found == ["template-limit"]


def test_template_error_is_an_expected_failure_not_a_crash() -> None:
    assert issubclass(TemplateError, AmetrikaError)


def test_filters_registered_later_are_bounded_too(project: Project) -> None:
    env = project.engine.text_env
    env.filters["ametrika_test_double"] = lambda s: s * 2
    try:
        src = Source("{{ ('x' * 1000000)|ametrika_test_double }}", "override", "f.j2")
        with pytest.raises(TemplateError) as caught:
            project.engine.render(src, "text", {})
        assert "the ametrika_test_double filter would be longer" in caught.value.diagnostic.message
    finally:
        del env.filters["ametrika_test_double"]


# {file: …} overrides that cannot be read (H12; issue #12, item 3): a finding at the reference,
# never an internal error.

FILE_ACCOUNT = MINIMAL + "templates:\n  alert:\n    en:\n      text: {{file: {path}}}\n"


@pytest.mark.parametrize(
    "path, message",
    [
        ('"overrides/a\\0b.j2"', "is not a path relative to the repository root"),
        ("overrides/" + "a" * 300 + ".j2", "cannot be read"),
        # a path longer than PATH_MAX; the message quoting it is cut short
        ("overrides/" + "a/" * 3000 + "x.j2", "more characters)"),
        ("overrides/loop.j2", "cannot be read"),
        ("overrides/fifo.j2", "is not a regular file"),
        ("overrides/folder", "is not a regular file"),
        ("overrides/zero.j2", "leads outside the repository"),
        ("overrides/missing.j2", "does not exist"),
    ],
)
def test_unusable_override_files_are_findings_at_the_reference(
    repo: Path,
    write_account: WriteAccount,
    capsys: pytest.CaptureFixture[str],
    path: str,
    message: str,
) -> None:
    overrides = repo / "overrides"
    overrides.mkdir()
    (overrides / "loop.j2").symlink_to(overrides / "loop.j2")
    os.mkfifo(overrides / "fifo.j2")
    (overrides / "folder").mkdir()
    (overrides / "zero.j2").symlink_to("/dev/zero")
    file = write_account("acme", FILE_ACCOUNT.format(id="acme", path=path))
    assert main(["validate", "--format", "json", str(file)]) == 1
    out, err = capsys.readouterr()
    assert "internal error" not in err
    (found,) = json.loads(out)
    assert (found["line"], found["column"], found["code"]) == (13, 20, "template-file")
    assert message in found["message"]
    assert "\0" not in found["message"] and "\n" not in found["message"]


def test_a_device_inside_the_root_is_not_read(tmp_path: Path) -> None:
    # /dev/zero never ends: refused by what it is, before a byte is read
    problem = read_override_file(Path("/dev"), "zero")
    assert isinstance(problem, FileProblem) and "is not a regular file" in problem.message


EQUIVALENT = [
    (
        "{% for k, v in {'b': 1, 'a': 2}|dictsort %}{{ loop.index }}{{ k }}={{ v }}"
        "{% if not loop.last %}, {% endif %}{% endfor %}"
    ),
    "{% for x in [1, 2, 3] if x > 1 %}{{ x }}{% else %}none{% endfor %}",
    "{% for x in [] %}{{ x }}{% else %}none{% endfor %}",
    (
        "{% for x in [[1, [2]], [3]] recursive %}[{% if x is iterable %}{{ loop(x) }}{% else %}"
        "{{ x }}{% endif %}]{% endfor %}"
    ),
    (
        "{% macro b(t) %}<b>{{ t }}{{ caller() }}</b>{% endmacro %}"
        "{% call b(a) %}&{{ a }}{% endcall %}"
    ),
    "{% set x, y = a, 'z' %}{% with w = x ~ y %}{{ w }}{% endwith %}",
    (
        "{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}"
        "{{ ns.n }}"
    ),
    "{% set block %}{{ a }}-{{ a|upper }}{% endset %}{{ block }}{{ block|length }}",
    "{% filter upper %}{{ a }} & x{% endfilter %}",
    "{{ (a ~ 1 ~ [2]) }}|{{ '%s/%d' % (a, 3) }}|{{ '{0}{1}'.format(a, (1, 2)) }}",
    "{% for x in 'ab' %}{{ loop.cycle('odd', 'even') }}{{ loop.revindex }}{% endfor %}",
    "{{ {'k': a}|tojson }}{{ [a, a]|join('/') }}{{ a|replace('b', 'c')|center(9) }}",
    "{% raw %}{{ not rendered }}{% endraw %}{{ a if a else 'x' }}{{ a[1:] }}",
    "{% autoescape false %}{{ a ~ '&' }}{% endautoescape %}{{ a ~ '&' }}",
]


@pytest.mark.parametrize("text", EQUIVALENT)
@pytest.mark.parametrize("kind", ["text", "html"])
def test_bounds_do_not_change_what_a_template_renders(
    project: Project, text: str, kind: str
) -> None:
    # the same text as a trusted original (not instrumented) and as an override (bounded)
    ctx = {"a": "<b>", "lang": "en", "subject": "s", "footer": "", **LAYOUT}
    original = project.engine.render(Source(text, "original", "o.j2"), kind, ctx)
    override = project.engine.render(Source(text, "override", "o.j2"), kind, ctx)
    assert override == original


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


def test_compiled_templates_are_kept_in_a_bounded_cache() -> None:
    engine = Engine(ROOT)
    for i in range(CACHED + 50):
        assert engine.render(Source(f"{i}", "override", "f.j2"), "text", {}) == str(i)
    assert len(engine._compiled) == CACHED  # the oldest forgotten, not every one kept
