"""The Jinja2 sandbox, bounded: every operation that could build something large is checked
against render/bounds.py before it runs, and every result after.

Three kinds of hooks, all documented extension points of Jinja2's sandbox:
- the operators ``* ** + %`` (``call_binop``), every call (``call``), ``str.format``
  (``wrap_str_format``), and every filter (wrapped when registered, so filters added later
  are bounded too);
- the globals ``range`` and ``lipsum``;
- the compiled form of overrides (render/instrument.py).
The checks themselves are in render/checks.py.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from functools import update_wrapper
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter
from jinja2.utils import _PassArg, generate_lorem_ipsum
from markupsafe import Markup

from ametrika_gitops.render.bounds import (
    MAX_STRING,
    LimitExceeded,
    materialize,
    need_items,
    need_length,
    need_text,
    need_width,
    produced,
    step,
    text_size,
)
from ametrika_gitops.render.checks import ITEMWISE, PRECHECKS, check_binop, check_call
from ametrika_gitops.render.instrument import INTERNAL_FILTERS


class _Bounded(SandboxedFormatter):
    """str.format: numbers in a field's spec are widths or precisions; the total is bounded."""

    total = 0

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self.total = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        for number in re.findall(r"\d+", format_spec):
            need_width(int(number) if len(number) <= 8 else MAX_STRING + 1, "format()")
        need_text(value, "a format() field")
        out = super().format_field(value, format_spec)
        self.total += len(out)
        need_length(self.total, "format()")
        return out


class _BoundedEscape(_Bounded, SandboxedEscapeFormatter):
    pass


_PASS = {_PassArg.context: 0, _PassArg.eval_context: 1, _PassArg.environment: 2}


def bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with its inputs, arguments and result bounded. Always pass_context: then
    Jinja never runs it at compile time on constants, where no budget applies."""
    passes = _PASS.get(_PassArg.from_obj(func))  # type: ignore[arg-type]
    check = PRECHECKS.get(name)
    what = f"the {name} filter"

    @pass_context
    def run(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        step()
        need_text(value, f"the input of {what}")
        if name in ITEMWISE and isinstance(value, (str, list, tuple, Mapping)):
            need_items(len(value), f"the input of {what}")
        if name == "join":  # materialize a generator before the sizes are known
            value = materialize(value, what)
            sep = args[0] if args else kwargs.get("d", "")
            need_length(text_size(value) + text_size(sep) * len(value), what)
        if check is not None:
            check(value, *args, **kwargs)
        extra = (
            () if passes is None else ((context, context.eval_ctx, context.environment)[passes],)
        )
        return produced(func(*extra, value, *args, **kwargs), what)

    update_wrapper(run, func)
    run.jinja_pass_arg = _PassArg.context  # type: ignore[attr-defined]
    return run


class BoundedFilters(dict[str, Any]):
    """A filter table that bounds every filter put into it (also ones added later)."""

    def __setitem__(self, name: str, func: Any) -> None:
        super().__setitem__(name, bounded_filter(name, func))

    def update(self, *args: Any, **kwargs: Any) -> None:
        for name, func in dict(*args, **kwargs).items():
            self[name] = func


def _range(*args: int) -> range:
    rng = range(*args)
    need_items(len(rng), "range()")
    return rng


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    if n > 100 or max > 1000:
        raise LimitExceeded("lipsum() is limited to 100 paragraphs of 1,000 words")
    return str(generate_lorem_ipsum(n, html, min, max))


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox, plus the bounds of render/bounds.py on everything that can grow."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        table = BoundedFilters()
        table.update(self.filters)
        for name, func in INTERNAL_FILTERS.items():  # bounded by themselves
            dict.__setitem__(table, name, func)
        self.filters = table
        self.globals["range"] = _range
        self.globals["lipsum"] = _lipsum

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        step()
        check_binop(operator, left, right)
        return produced(super().call_binop(context, operator, left, right), f"'{operator}'")

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        step()
        args = check_call(obj, args, kwargs)
        what = f"{getattr(obj, '__name__', 'a call')}()"
        return produced(super().call(context, obj, *args, **kwargs), what)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """As the sandbox's own, with bounded formatters."""
        if not isinstance(value, (types.MethodType, types.BuiltinMethodType)) or (
            value.__name__ not in ("format", "format_map")
        ):
            return None
        owner: Any = value.__self__
        if not isinstance(owner, str):
            return None
        kind = type(owner)
        is_map = value.__name__ == "format_map"
        formatter: _Bounded = (
            _BoundedEscape(self, escape=owner.escape)
            if isinstance(owner, Markup)
            else _Bounded(self)
        )

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs:
                    raise TypeError("format_map() takes no keyword arguments")
                if len(args) != 1:
                    raise TypeError(f"format_map() takes exactly one argument ({len(args)} given)")
                kwargs, args = args[0], ()
            return kind(formatter.vformat(owner, args, kwargs))

        return update_wrapper(wrapper, value)
