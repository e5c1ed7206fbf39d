"""CSS inlined into ``style=""`` at compile time (css-inline), so that a client that drops
``<style>`` (several webmails, some Outlook configurations) still shows the design. At-rules
(the responsive and dark-mode media queries) stay in a ``<style>`` in the head, where the
clients that keep it apply them.

The layout marks where the body goes. The layout around it (the same for every e-mail of a
locale) and each body are inlined apart, so that a body is inlined once however many accounts
share it; this is why the layout's rules outside media queries use simple selectors (an
element or a class), which match the same on their own.
"""

from __future__ import annotations

import re

import css_inline

BODY_START = "<!--mail-body-->"
BODY_END = "<!--/mail-body-->"
BODY_SLOT = "\ue000body\ue000"  # private use: text no template writes (render.emails fills it)

# Nothing is fetched: a <link> to a remote stylesheet in a template is dropped, not loaded.
_DOCUMENTS = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
_FRAGMENTS = css_inline.CSSInliner(load_remote_stylesheets=False)
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)


def inline_css(html: str) -> str:
    return str(_DOCUMENTS.inline(html))


def inline_fragment(html: str, css: str) -> str:
    return str(_FRAGMENTS.inline_fragment(html, css))


def stylesheet(html: str) -> str:
    """The rules of a document's ``<style>`` elements (its media queries are not inlined)."""
    return "\n".join(_STYLE.findall(html))


def split_body(html: str) -> tuple[str, str] | None:
    """(the layout with BODY_SLOT where the body was, the body), or None when the marks are
    not there exactly once each (a body that writes them itself)."""
    if html.count(BODY_START) != 1 or html.count(BODY_END) != 1:
        return None
    head, _, rest = html.partition(BODY_START)
    body, _, tail = rest.partition(BODY_END)
    return head + BODY_SLOT + tail, body
