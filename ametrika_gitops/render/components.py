"""Building blocks an HTML template calls: ``{{ button(url, label) }}``."""

from __future__ import annotations

from markupsafe import Markup

BLUE = "#2563eb"
_SCHEMES = ("https://", "http://", "mailto:")

# A "bulletproof" button: a table cell carries the colour (bgcolor, which every client
# honours, Outlook's Word engine included) and the link fills it; every style is inline, so the
# button stays a button where <style> is dropped. The classes let the head's dark-mode rules
# restyle it where <style> is kept.
_BUTTON = Markup(
    '<table role="presentation" class="button-table" cellpadding="0" cellspacing="0" '
    'border="0" style="margin: 8px 0 16px;"><tr>'
    '<td class="button-cell" align="center" bgcolor="{blue}" '
    'style="border-radius: 6px; background-color: {blue};">'
    '<a class="button-link" href="{url}" target="_blank" style="display: inline-block; '
    "padding: 12px 20px; border: 1px solid {blue}; border-radius: 6px; color: #ffffff; "
    'font-weight: 600; text-decoration: none;">{label}</a>'
    "</td></tr></table>"
)


def button(url: str, label: str) -> Markup:
    """The call to action. ``url`` and ``label`` are escaped; only web and mail links."""
    if not str(url).startswith(_SCHEMES):
        raise ValueError(f"button() takes an https://, http:// or mailto: link, not {url!r}")
    return _BUTTON.format(blue=BLUE, url=str(url), label=label)
