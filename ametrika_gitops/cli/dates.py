"""--since DATE, checked before git sees it.

git's date parser ("approxidate") reads almost anything and never refuses: `yesterdayy`
silently means "now", so `history --since yesterdayy` printed nothing and exited 0. We accept
the forms people use — an ISO date or date-time, today, yesterday, now, "N units ago",
"N.units.ago", "@timestamp" — and refuse the rest with the closest correct spelling; what we
accept is passed to git unchanged, so its meaning stays git's.
"""

from __future__ import annotations

import datetime
import difflib
import re

from ametrika_gitops.errors import AmetrikaError

WORDS = ("now", "today", "yesterday")
UNITS = ("second", "minute", "hour", "day", "week", "month", "year")
_RELATIVE = re.compile(r"^(\d+)[ .]+([a-z]+?)s?(?:[ .]+ago)?$")
EXAMPLES = "for example 2026-03-01, '2026-03-01 14:00', yesterday or '2 weeks ago'"


def _iso(text: str) -> bool:
    try:
        datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _suggest(text: str) -> str:
    close = difflib.get_close_matches(text, WORDS, n=1, cutoff=0.6)
    if close:
        return close[0]
    words = re.split(r"[ .]+", text)
    if len(words) in (2, 3) and words[0].isdigit():
        unit = difflib.get_close_matches(words[1].rstrip("s"), UNITS, n=1, cutoff=0.6)
        if unit:
            plural = "s" if words[0] != "1" else ""
            return f"{words[0]} {unit[0]}{plural} ago"
    return ""


def check_since(text: str) -> str:
    """``text`` itself when git will read it as meant, else an error with a suggestion."""
    value = text.strip().lower()
    if value in WORDS or _iso(text.strip()) or re.fullmatch(r"@\d+", value):
        return text
    m = _RELATIVE.match(value)
    if m and m.group(2) in UNITS:
        return text
    suggestion = _suggest(value)
    hint = f"did you mean '{suggestion}'? " if suggestion else ""
    raise AmetrikaError(f"--since '{text}' is not a date: {hint}({EXAMPLES})")
