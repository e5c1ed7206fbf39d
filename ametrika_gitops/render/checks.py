"""What an operation of a template would build, checked before it runs: the operators, the
methods of strings, lists and mappings, printf-style and the filters that can multiply their
input (center, indent, wordwrap, replace, format, batch, slice, tojson, pprint, urlize, sum)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup

from ametrika_gitops.render import bounds
from ametrika_gitops.render.bounds import (
    LimitExceeded,
    materialize,
    need_bits,
    need_items,
    need_length,
    need_width,
    text_size,
)


def _bits(n: Any) -> int:
    return abs(n).bit_length() if isinstance(n, int) else 0


def check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, n in ((left, right), (right, left)):
            if not isinstance(n, int) or n <= 0:
                continue
            if isinstance(seq, (str, bytes)):
                need_length(len(seq) * n, "repetition (*)")
            elif isinstance(seq, (list, tuple)):
                need_items(len(seq) * n, "repetition (*)")
                need_length(text_size(seq) * n, "the text of a repeated list")
        if isinstance(left, int) and isinstance(right, int):
            need_bits(_bits(left) + _bits(right), "a product (*)")
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            if right > bounds.MAX_INT_BITS:  # before multiplying: right may be huge
                raise LimitExceeded("the exponent (**) is too large for a template")
            need_bits(_bits(left) * right, "a power (**)")
    elif operator == "+":
        if isinstance(left, (str, bytes)) and isinstance(right, (str, bytes)):
            need_length(len(left) + len(right), "a concatenation (+)")
        elif isinstance(left, Markup) or isinstance(right, Markup):
            need_length(text_size(left) + text_size(right), "a concatenation (+)")
        elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
            need_items(len(left) + len(right), "a concatenation (+)")
    elif operator == "%" and isinstance(left, str):
        check_printf(left, right)


_PRINTF = re.compile(r"%(?:\(([^)]*)\))?[#0 +\-]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.?)", re.DOTALL)


def check_printf(fmt: str, values: Any) -> None:
    """Bound ``fmt % values`` before it runs: widths, precisions and the values' text."""
    args = values if isinstance(values, tuple) else (values,)
    mapping = values if isinstance(values, Mapping) else None
    taken = 0
    total = len(fmt)

    def next_arg() -> Any:
        nonlocal taken
        taken += 1
        return args[taken - 1] if taken <= len(args) else None

    for m in _PRINTF.finditer(fmt):
        key, width, precision, conversion = m.groups()
        if conversion == "%":
            continue
        sizes = []
        for spec in (width, precision):
            if spec == "*":
                star = next_arg()
                sizes.append(star if isinstance(star, int) else 0)
            elif spec:
                sizes.append(int(spec) if len(spec) <= 8 else bounds.MAX_STRING + 1)
        for size in sizes:
            need_width(size, "'%' formatting")
        value = mapping.get(key) if mapping is not None and key is not None else next_arg()
        total += max(sizes, default=0) + text_size(value, bounds.MAX_STRING, 0) * (
            10 if conversion in "ra" else 1
        )
        need_length(total, "'%' formatting")


def _check_str_method(
    owner: str | bytes, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[Any, ...]:
    what = f"{name}()"
    if name in ("center", "ljust", "rjust", "zfill") and args:
        need_width(args[0], what)
    elif name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        tab = tab if isinstance(tab, int) else 8
        tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
        need_length(len(owner) + tabs * tab, what)
    elif name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        if isinstance(old, type(owner)) and isinstance(new, type(owner)):
            times = owner.count(old) if old else len(owner) + 1  # type: ignore[arg-type]
            count = args[2] if len(args) > 2 else kwargs.get("count", -1)
            if isinstance(count, int) and count >= 0:
                times = min(times, count)
            need_length(len(owner) + times * max(len(new) - len(old), 0), what)
    elif name == "join" and args:
        items = materialize(args[0], what)
        sizes = sum(text_size(x) for x in items) if isinstance(items, (list, tuple)) else 0
        need_length(sizes + len(owner) * len(items), what)
        return (items, *args[1:])
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((text_size(v) for v in args[0].values()), default=1)
        need_length(len(owner) * max(longest, 1), what)
    return args


def check_call(obj: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
    """Bound the methods that can build much from little, before they run (arguments given
    by position or by name)."""
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if isinstance(owner, (str, bytes)):
        return _check_str_method(owner, name, args, kwargs)
    if isinstance(owner, (list, set, dict)):
        if name in ("append", "insert", "add", "setdefault"):
            need_items(len(owner) + 1, f"{name}()")
        elif name in ("extend", "update"):
            more = materialize(args[0], f"{name}()") if args else ()
            need_items(len(owner) + len(more) + len(kwargs), f"{name}()")
            return (more, *args[1:]) if args else args
    elif owner is dict and name == "fromkeys" and args:
        return (materialize(args[0], "dict.fromkeys()"), *args[1:])
    elif isinstance(owner, int) and name == "to_bytes":
        need_width(args[0] if args else kwargs.get("length", 1), "to_bytes()")
    return args


# filter name → check of its arguments before it runs (the ones that can multiply their input)
def _f_width(value: Any, width: Any = 80, *_: Any, **__: Any) -> None:
    need_width(width, "the center filter")


def _f_indent(s: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    lines = str(s).count("\n") + 1
    step_ = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    need_length(text_size(s) + lines * step_, "the indent filter")


def _f_wordwrap(
    s: Any,
    width: Any = 79,
    break_long_words: Any = True,
    wrapstring: Any = None,
    *_: Any,
    **__: Any,
) -> None:
    width = width if isinstance(width, int) and width > 0 else 1
    text = str(s)
    lines = min(len(text) // width + text.count(" ") + text.count("\n") + 1, len(text) + 1)
    need_items(lines, "the wordwrap filter's lines")
    sep = len(wrapstring) if isinstance(wrapstring, str) else 1
    need_length(len(text) + lines * sep, "the wordwrap filter")


def _f_replace(s: Any, old: Any = "", new: Any = "", count: Any = None, *_: Any, **__: Any) -> None:
    text = str(s)
    _check_str_method(text, "replace", (str(old), str(new), -1 if count is None else count), {})


def _f_format(value: Any, *args: Any, **kwargs: Any) -> None:
    check_printf(str(value), kwargs or args)


def _f_batch(value: Any, linecount: Any = 1, fill_with: Any = None, *_: Any, **__: Any) -> None:
    if fill_with is not None and isinstance(linecount, int):
        need_items(linecount, "the batch filter")


def _f_slice(value: Any, slices: Any = 1, *_: Any, **__: Any) -> None:
    if isinstance(slices, int):
        need_items(slices, "the slice filter")


def _f_tojson(value: Any, indent: Any = None, *_: Any, **__: Any) -> None:
    need_length(text_size(value, indent=indent if isinstance(indent, int) else 0), "tojson")


def _f_pprint(value: Any, *_: Any, **__: Any) -> None:
    need_length(text_size(value, indent=1), "the pprint filter")


def _f_urlize(
    value: Any,
    trim_url_limit: Any = None,
    nofollow: Any = False,
    target: Any = None,
    rel: Any = None,
    *_: Any,
    **__: Any,
) -> None:
    words = len(str(value).split())
    extra = sum(len(x) for x in (target, rel) if isinstance(x, str))
    need_length(words * extra, "the urlize filter")


def _f_sum(iterable: Any, attribute: Any = None, start: Any = 0, *_: Any, **__: Any) -> None:
    if isinstance(start, (str, list, tuple)) and isinstance(iterable, (list, tuple)):
        need_length(text_size(iterable) + text_size(start), "the sum filter")


PRECHECKS: dict[str, Callable[..., None]] = {
    "center": _f_width,
    "indent": _f_indent,
    "wordwrap": _f_wordwrap,
    "replace": _f_replace,
    "format": _f_format,
    "batch": _f_batch,
    "slice": _f_slice,
    "tojson": _f_tojson,
    "pprint": _f_pprint,
    "urlize": _f_urlize,
    "sum": _f_sum,
}
# filters that go through their input item by item (sort, list…): a string counts its characters
ITEMWISE = frozenset(
    [
        "batch",
        "dictsort",
        "first",
        "groupby",
        "join",
        "last",
        "list",
        "map",
        "max",
        "min",
        "random",
        "reject",
        "rejectattr",
        "reverse",
        "select",
        "selectattr",
        "slice",
        "sort",
        "sum",
        "unique",
    ]
)
