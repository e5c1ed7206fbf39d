"""Per account: choose each template (override or original), check it, render its sample."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

from ametrika_gitops.config.loader import Document
from ametrika_gitops.config.model import Account
from ametrika_gitops.diagnostics import Diagnostic
from ametrika_gitops.render.catalog import Catalog, EmailType
from ametrika_gitops.render.engine import ORIGIN_OVERRIDE, Engine, Source, TemplateError
from ametrika_gitops.render.inline import (
    inline_css,
    inline_fragment,
    split_body,
    stylesheet,
)
from ametrika_gitops.render.overrides import Override

FOOTER = "footer"
FOOTER_MARK = "\ue000footer\ue000"
# Text that varies per account or per e-mail goes into the layout as private-use marks,
# replaced after rendering and inlining: what is left is rendered and inlined once and shared.
BRAND_MARK = "\ue000brand\ue000"  # the account's name, in the layout's header
SUBJECT_MARK = "\ue000subject\ue000"
PREHEADER_MARK = "\ue000preheader\ue000"
_MARKS = re.compile("\ue000(footer|brand|subject|preheader|body)\ue000")
PREHEADER_CHARS = 140
_SPACES = re.compile(r"[ \t\r\n]+")
# After the preheader, invisible spacing, so that the body's first words do not follow it in
# the preview line (combining grapheme joiner, zero-width non-joiner, no-break space).
PREHEADER_FILLER = "\u034f\u200c\u00a0" * 60
MEMO_SIZE = 4096
UNSUBSCRIBE_VARIABLE = "unsubscribe_url"  # a footer variable: also List-Unsubscribe's target


@dataclass
class RenderMemo:
    """Rendered outputs that depend only on (kind, source, the values named by the caller),
    shared between the accounts of one run. Owned by the run, not by the project."""

    outputs: dict[tuple[str, ...], str] = field(default_factory=dict)


@dataclass(frozen=True)
class Part:
    source: Source
    output: str


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Email:
    type_id: str
    locale: str
    parts: Mapping[str, Part]  # subject, html, text
    unsubscribe: str | None = None  # one-click unsubscribe URL of recurring mail (RFC 8058)
    attachments: tuple[Attachment, ...] = ()

    @property
    def overridden(self) -> bool:
        return any(p.source.origin == ORIGIN_OVERRIDE for p in self.parts.values())


@dataclass(frozen=True)
class Footer:
    locale: str
    parts: Mapping[str, Part]  # html, text


@lru_cache(maxsize=4096)  # the same text part is shared by many accounts
def preheader(text: str) -> str:
    """The hidden preview line of the HTML part: the text part's first paragraph after its
    title, on one line, cut at a word near PREHEADER_CHARS."""
    # ASCII whitespace only: str.split() would turn French no-break spaces into spaces
    paragraphs = [_SPACES.sub(" ", p).strip() for p in text.split("\n\n")]
    body = [p for p in paragraphs[1:] if p]
    line = body[0] if body else (paragraphs[0] if paragraphs else "")
    if len(line) <= PREHEADER_CHARS:
        return line
    return line[:PREHEADER_CHARS].rsplit(" ", 1)[0] + "…"


class _Renderer:
    def __init__(
        self,
        account: Account,
        doc: Document,
        catalog: Catalog,
        engine: Engine,
        overrides: tuple[Override, ...],
        memo: RenderMemo,
    ) -> None:
        self.account, self.doc, self.catalog, self.engine = account, doc, catalog, engine
        self.memo = memo
        self.overrides = {(o.type_id, o.locale, o.part): o for o in overrides}
        self.diags: list[Diagnostic] = []
        self.bound = account.bound()

    def source(self, type_id: str, locale: str, part: str, kind: str) -> Source:
        override = self.overrides.get((type_id, locale, part))
        if override is None:
            return self.engine.original(locale, type_id, kind)
        assert override.source is not None  # the rules checked the value
        return override.source

    def render(
        self,
        src: Source,
        kind: str,
        context: Mapping[str, Any],
        memo: tuple[str, ...] | None = None,
    ) -> str | None:
        """Render (the rules have already checked overrides statically).

        ``memo`` names everything the output depends on besides the source, when that is
        all: then the output is shared between accounts.
        """
        key = (kind, src.file, src.text, *memo) if memo is not None else None
        if key is not None and key in self.memo.outputs:
            return self.memo.outputs[key]
        try:
            out = self.engine.render(src, kind, context)
        except TemplateError as exc:
            self.diags.append(exc.diagnostic)
            return None
        if key is not None and len(self.memo.outputs) < MEMO_SIZE:
            self.memo.outputs[key] = out
        return out

    def footer(self, locale: str) -> Footer | None:
        context = self.catalog.context(self.catalog.footer_variables, locale, self.bound)
        context["lang"] = locale  # for the filters that format per locale
        parts = {}
        for part in ("html", "text"):
            src = self.source(FOOTER, locale, part, f"footer_{part}")
            out = self.render(src, f"footer_{part}", context)
            if out is None:
                return None
            parts[part] = Part(src, out.strip())
        return Footer(locale, parts)

    def email(
        self,
        etype: EmailType,
        locale: str,
        footer: Footer | None,
        values: Mapping[str, Any] | None = None,
    ) -> Email | None:
        context = self.catalog.context(etype.variables, locale, self.bound)
        srcs = {p: self.source(etype.id, locale, p, p) for p in ("subject", "html", "text")}
        # Samples depend on (type, locale) only; bound values on the account. Real values
        # (``values``) are this e-mail's alone: nothing is shared then.
        memo: tuple[str, ...] | None = (
            etype.id,
            locale,
            *(str(self.bound[v.bind]) for v in etype.variables if v.bind),
        )
        if values:
            unknown = set(values) - etype.names
            if unknown:
                raise ValueError(f"{etype.id} receives no {', '.join(sorted(unknown))}")
            context.update(values)
            memo = None
        context["lang"] = locale  # for the filters that format per locale
        subject = self.render(srcs["subject"], "subject", context, memo)
        text = self.render(srcs["text"], "text", context, memo)
        summary = preheader(text or "")
        # The header's name and the footer go in after rendering and inlining, so that the rest
        # is rendered and inlined once and shared between accounts.
        html = self.render(
            srcs["html"],
            "html",
            {
                **context,
                "lang": locale,
                "subject": SUBJECT_MARK,
                "preheader": PREHEADER_MARK,
                "brand": BRAND_MARK,
                "footer": Markup(FOOTER_MARK) if etype.footer else "",
            },
            memo,
        )
        if subject is None or html is None or text is None:
            return None
        outer, body = self.inlined(html, memo)
        fill = {
            "body": body,
            "subject": str(escape(subject)),
            "preheader": str(escape(summary)) + PREHEADER_FILLER,
            "brand": str(escape(self.account.name)),
            "footer": footer.parts["html"].output if etype.footer and footer else "",
        }
        html = _MARKS.sub(lambda m: fill[m.group(1)], outer)  # one pass over the e-mail
        text = text.rstrip() + "\n"
        if etype.footer and footer:
            text += "\n-- \n" + footer.parts["text"].output + "\n"
        parts = {
            "subject": Part(srcs["subject"], subject),
            "html": Part(srcs["html"], html),
            "text": Part(srcs["text"], text),
        }
        spec = etype.attachment
        attachments = (
            (Attachment(str(context[spec.variable]), spec.content_type, spec.sample.encode()),)
            if spec is not None
            else ()
        )
        return Email(etype.id, locale, parts, self.unsubscribe_url(etype, locale), attachments)

    def inlined(self, html: str, memo: tuple[str, ...] | None) -> tuple[str, str]:
        """(the layout, with BODY_SLOT, and the body), CSS inlined, each once per run when
        shared (see render.inline)."""
        keys = (("inlined-layout", html), ("inlined-body", html)) if memo is not None else None
        if keys is not None and keys[1] in self.memo.outputs:
            return self.memo.outputs[keys[0]], self.memo.outputs[keys[1]]
        split = split_body(html)
        if split is None:
            outer, body = inline_css(html), ""
        else:
            shell, raw = split
            css = self._cached(("stylesheet", shell), stylesheet, shell)
            outer = self._cached(("inlined-layout", shell), inline_css, shell)
            body = inline_fragment(raw, css)
        if keys is not None and len(self.memo.outputs) < MEMO_SIZE:
            self.memo.outputs[keys[0]], self.memo.outputs[keys[1]] = outer, body
        return outer, body

    def _cached(self, key: tuple[str, ...] | None, make: Callable[..., str], *args: str) -> str:
        if key is not None and key in self.memo.outputs:
            return self.memo.outputs[key]
        out = make(*args)
        if key is not None and len(self.memo.outputs) < MEMO_SIZE:
            self.memo.outputs[key] = out
        return out

    def unsubscribe_url(self, etype: EmailType, locale: str) -> str | None:
        if not etype.unsubscribe:
            return None
        footer = self.catalog.context(self.catalog.footer_variables, locale, self.bound)
        return str(footer[UNSUBSCRIBE_VARIABLE])


def build_emails(
    account: Account,
    doc: Document,
    catalog: Catalog,
    engine: Engine,
    overrides: tuple[Override, ...],
    memo: RenderMemo | None = None,
) -> tuple[tuple[Email, ...], tuple[Footer, ...], list[Diagnostic]]:
    """Every (type, locale) e-mail of the account, rendered with the catalogue's samples.

    ``memo``: outputs shared between the accounts of one run (pass the same one to each)."""
    r = _Renderer(account, doc, catalog, engine, overrides, memo or RenderMemo())
    emails: list[Email] = []
    footers: list[Footer] = []
    for locale in account.locales:
        footer = r.footer(locale)
        if footer is not None:
            footers.append(footer)
        for type_id in sorted(catalog.types):
            etype = catalog.types[type_id]
            if locale not in etype.locales:
                continue
            email = r.email(etype, locale, footer)
            if email is None:
                continue
            emails.append(email)
    return tuple(emails), tuple(footers), r.diags


def render_email(
    account: Account,
    doc: Document,
    catalog: Catalog,
    engine: Engine,
    overrides: tuple[Override, ...],
    type_id: str,
    locale: str,
    values: Mapping[str, Any],
) -> tuple[Email | None, list[Diagnostic]]:
    """One e-mail of the account with real values in place of the catalogue's samples (the
    code of ``recipients verify``), through the same templates and overrides. The rules on
    rendered output checked the same templates with the samples; the message builder checks
    the result once more (white label)."""
    r = _Renderer(account, doc, catalog, engine, overrides, RenderMemo())
    etype = catalog.types[type_id]
    footer = r.footer(locale) if etype.footer else None
    email = r.email(etype, locale, footer, values)
    return (None if r.diags else email), r.diags
