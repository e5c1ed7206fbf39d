"""preview: each e-mail of an account rendered to files, an index, and PNG screenshots."""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

from ametrika_gitops.errors import AmetrikaError
from ametrika_gitops.render.emails import Email

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def write_preview(account: str, emails: list[Email], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    pages = []
    rows = []
    for e in emails:
        stem = f"{e.type_id}.{e.locale}"
        (out / f"{stem}.html").write_text(e.parts["html"].output, encoding="utf-8")
        (out / f"{stem}.txt").write_text(
            f"Subject: {e.parts['subject'].output}\n\n" + e.parts["text"].output, encoding="utf-8"
        )
        pages.append(out / f"{stem}.html")
        origin = "override" if e.overridden else "original"
        rows.append(
            f"<tr><td>{html.escape(e.type_id)}</td><td>{e.locale}</td>"
            f"<td>{html.escape(e.parts['subject'].output)}</td><td>{origin}</td>"
            f'<td><a href="{stem}.html">HTML</a> · <a href="{stem}.txt">text</a></td>'
            "</tr>"
        )
    (out / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Preview: {html.escape(account)}</title><style>body{{font-family:sans-serif;"
        "margin:24px}td,th{padding:4px 12px;text-align:left}</style></head><body>"
        f"<h1>E-mails of {html.escape(account)}</h1><table><tr><th>Type</th><th>Locale</th>"
        "<th>Subject</th><th>Template</th><th></th></tr>"
        + "".join(rows)
        + "</table></body></html>\n",
        encoding="utf-8",
    )
    return pages


def find_browser() -> str | None:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


# (suffix, window) of each screenshot: a desktop client, and a phone 375 CSS pixels wide
# (an iPhone's), where the layout's media query turns the 600-pixel card into the full width.
VIEWPORTS = (("", "700,1100"), (".mobile", "375,812"))


def screenshots(pages: list[Path]) -> list[Path]:
    """``<page>.png`` (desktop) and ``<page>.mobile.png`` (375 pixels wide) of each page."""
    browser = find_browser()
    if browser is None:
        raise AmetrikaError(
            "--png needs headless Chromium, which is not installed: on Debian "
            "or Ubuntu, `sudo apt-get install chromium`; the HTML files were "
            "written anyway"
        )
    shots = []
    for page in pages:
        for suffix, window in VIEWPORTS:
            png = page.with_name(f"{page.stem}{suffix}.png")
            _shoot(browser, page, png, window)
            shots.append(png)
    return shots


def _shoot(browser: str, page: Path, png: Path, window: str) -> None:
    run = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={png}",
            f"--window-size={window}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    if run.returncode != 0 or not png.exists():
        raise AmetrikaError(
            f"Chromium could not take {png.name}: "
            f"{run.stderr.decode(errors='replace').strip()[-300:]}"
        )
