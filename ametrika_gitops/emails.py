"""Per account: choose each template (override or original), check it, render its sample."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ametrika_gitops.catalog import Catalog, EmailType
from ametrika_gitops.diagnostics import Diagnostic, error
from ametrika_gitops.loader import Document, JsonPath
from ametrika_gitops.model import Account
from ametrika_gitops.templating import Engine, Source, TemplateError

FOOTER = "footer"
_AMETRIKA = re.compile("ametrika", re.IGNORECASE)


@dataclass(frozen=True)
class Part:
    source: Source
    output: str


@dataclass(frozen=True)
class Email:
    type_id: str
    locale: str
    parts: Mapping[str, Part]  # subject, html, text

    @property
    def overridden(self) -> bool:
        return any(p.source.origin == "override" for p in self.parts.values())


@dataclass(frozen=True)
class Footer:
    locale: str
    parts: Mapping[str, Part]  # html, text


def override_source(doc: Document, root: Path, value: Any, path: JsonPath) -> Source:
    """The Source of an override value: inline text in the account file, or a ``{file: …}``."""
    if isinstance(value, dict):
        rel = value["file"]
        text = (root / rel).read_text(encoding="utf-8")
        return Source(text, "override", Path(rel).as_posix())
    pos = doc.at(path)
    if path in doc.block_scalars:  # `|` or `>`: the text starts on the next line
        return Source(value, "override", doc.path, pos.line + 1, doc.key_at(path).column + 2)
    return Source(value, "override", doc.path, pos.line, pos.column)


class _Renderer:
    def __init__(self, account: Account, doc: Document, root: Path, catalog: Catalog,
                 engine: Engine) -> None:
        self.account, self.doc, self.root = account, doc, root
        self.catalog, self.engine = catalog, engine
        self.diags: list[Diagnostic] = []
        self.bound = account.bound()

    def source(self, type_id: str, locale: str, part: str, kind: str) -> Source:
        value = self.account.overrides.get(type_id, {}).get(locale, {}).get(part)
        if value is None:
            return self.engine.original(locale, type_id, kind)
        return override_source(self.doc, self.root, value, ("templates", type_id, locale, part))

    def render(self, src: Source, kind: str, allowed: frozenset[str],
               context: Mapping[str, Any]) -> str | None:
        if src.origin == "override":
            problems = self.engine.check(src, kind, allowed)
            if problems:
                self.diags.extend(problems)
                return None
        try:
            return self.engine.render(src, kind, context)
        except TemplateError as exc:
            self.diags.append(exc.diagnostic)
            return None

    def footer(self, locale: str) -> Footer | None:
        allowed = frozenset(v.name for v in self.catalog.footer_variables)
        context = self.catalog.context(self.catalog.footer_variables, locale, self.bound)
        parts = {}
        for part in ("html", "text"):
            src = self.source(FOOTER, locale, part, f"footer_{part}")
            out = self.render(src, f"footer_{part}", allowed, context)
            if out is None:
                return None
            parts[part] = Part(src, out.strip())
        return Footer(locale, parts)

    def email(self, etype: EmailType, locale: str, footer: Footer | None) -> Email | None:
        context = self.catalog.context(etype.variables, locale, self.bound)
        srcs = {p: self.source(etype.id, locale, p, p) for p in ("subject", "html", "text")}
        subject = self.render(srcs["subject"], "subject", etype.names, context)
        if subject is not None and ("\r" in subject or "\n" in subject):
            line, col = srcs["subject"].position(1)
            self.diags.append(error(srcs["subject"].file, line, col, "header-injection",
                                    f"the subject of {etype.id} ({locale}) renders to more "
                                    "than one line", "a subject is one header line: remove "
                                    "line breaks from it and from what it includes"))
            subject = None
        footer_html = Markup(footer.parts["html"].output) if etype.footer and footer else ""
        html = self.render(srcs["html"], "html", etype.names, {
            **context, "lang": locale, "subject": subject or "", "footer": footer_html})
        text = self.render(srcs["text"], "text", etype.names, context)
        if subject is None or html is None or text is None:
            return None
        text = text.rstrip() + "\n"
        if etype.footer and footer:
            text += "\n-- \n" + footer.parts["text"].output + "\n"
        parts = {"subject": Part(srcs["subject"], subject), "html": Part(srcs["html"], html),
                 "text": Part(srcs["text"], text)}
        return Email(etype.id, locale, parts)

    def white_label(self, email: Email, footer: Footer | None) -> None:
        """H6: nothing rendered in analytics-report mode may name Ametrika."""
        sources = [p.source for p in email.parts.values()]
        if footer and self.catalog.types[email.type_id].footer:
            sources += [p.source for p in footer.parts.values()]
        if not any(_AMETRIKA.search(p.output) for p in email.parts.values()):
            return
        for src in sources:
            for n, line_text in enumerate(src.text.split("\n"), start=1):
                if _AMETRIKA.search(line_text):
                    line, col = src.position(n)
                    self.diags.append(error(
                        src.file, line, col, "white-label",
                        f"{email.type_id} ({email.locale}) names Ametrika in the white-label "
                        "analytics-report mode", "remove the mention, or use mode: ametrika"))
                    return
        path: JsonPath = ("account", "name") if _AMETRIKA.search(self.account.name) else (
            "sender", "mode")
        pos = self.doc.at(path)
        self.diags.append(error(self.doc.path, pos.line, pos.column, "white-label",
                                f"{email.type_id} ({email.locale}) names Ametrika in the "
                                "white-label analytics-report mode",
                                "remove the mention from the account's texts, or use "
                                "mode: ametrika"))


def build_emails(account: Account, doc: Document, root: Path, catalog: Catalog,
                 engine: Engine) -> tuple[tuple[Email, ...], tuple[Footer, ...],
                                          list[Diagnostic]]:
    r = _Renderer(account, doc, root, catalog, engine)
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
            if account.sender.mode == "analytics-report":
                r.white_label(email, footer)
            emails.append(email)
    return tuple(emails), tuple(footers), r.diags
