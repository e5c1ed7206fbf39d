"""What templates get besides Jinja2's built-ins, registered on the sandboxed environments:
numbers, percentages and dates in the e-mail's locale (Babel, CLDR data: a decimal comma and
a no-break space before ``%`` in French), and ``button()`` in HTML templates.

The filters read the locale from the render context (``lang``); they are plain functions of
their arguments, so the sandbox lets them run and a template cannot reach past them.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timezone
from functools import cache
from typing import Any

import babel
import babel.dates
import babel.numbers
from jinja2 import pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from ametrika_gitops.render.components import button

DEFAULT_LOCALE = "en"


@cache
def _locale(code: str) -> babel.Locale:
    return babel.Locale.parse(code)


def _of(ctx: Context) -> babel.Locale:
    return _locale(str(ctx.get("lang") or DEFAULT_LOCALE))


MAX_DIGITS = 10  # a template cannot ask Babel for a million decimals


def _digits(digits: int) -> int:
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= MAX_DIGITS:
        raise ValueError(f"digits must be a whole number from 0 to {MAX_DIGITS}, not {digits!r}")
    return digits


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"a number is needed, not {type(value).__name__}")
    return value


@pass_context
def number(ctx: Context, value: Any, digits: int | None = None) -> str:
    """``{{ 1234.5|number }}`` → 1,234.5 (en), 1 234,5 (fr); ``number(1)`` fixes the digits."""
    loc = _of(ctx)
    fmt = None if digits is None else "#,##0" + ("." + "0" * _digits(digits) if digits else "")
    return babel.numbers.format_decimal(_number(value), format=fmt, locale=loc)


@pass_context
def percent(ctx: Context, value: Any, digits: int = 1, signed: bool = False) -> str:
    """A value in per cent: ``{{ 18.4|percent }}`` → 18.4% (en), 18,4 % (fr);
    ``percent(signed=true)`` → +18,4 %."""
    loc = _of(ctx)
    pattern = copy.copy(loc.percent_formats[None])
    pattern.frac_prec = (_digits(digits), digits)
    if signed:
        plus = babel.numbers.get_plus_sign_symbol(loc)
        pattern.prefix = (plus + pattern.prefix[0], pattern.prefix[1])
    return str(pattern.apply(_number(value) / 100, loc))


def _moment(value: Any) -> datetime | date:
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    raise TypeError(f"a date or an ISO 8601 string is needed, not {value!r}")


@pass_context
def format_date(ctx: Context, value: Any, style: str = "long") -> str:
    """``{{ day|date }}`` → March 27, 2026 (en), 27 mars 2026 (fr); style short|medium|long."""
    return babel.dates.format_date(_moment(value), style, locale=_of(ctx))


@pass_context
def format_datetime(ctx: Context, value: Any) -> str:
    """The date (long), the time (short) and the time zone, in the locale's order:
    March 27, 2026, 9:40 AM UTC (en); 27 mars 2026, 09:40 TU (fr)."""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    zone = moment.tzinfo or timezone.utc
    loc = _of(ctx)
    day = babel.dates.format_date(moment, "long", locale=loc)
    time = babel.dates.format_time(moment, "short", tzinfo=zone, locale=loc)
    name = babel.dates.format_time(moment, "z", tzinfo=zone, locale=loc)
    pattern = str(babel.dates.get_datetime_format("long", locale=loc)).replace("'", "")
    return str(pattern.replace("{0}", f"{time} {name}").replace("{1}", day))


FILTERS = {
    "number": number,
    "percent": percent,
    "date": format_date,
    "datetime": format_datetime,
}


def register_filters(html_env: SandboxedEnvironment, text_env: SandboxedEnvironment) -> None:
    for env in (html_env, text_env):
        env.filters.update(FILTERS)
    html_env.globals["button"] = button
