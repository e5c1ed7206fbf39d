"""The Jinja2 sandbox, bounded: every operation that could build something large is checked
against render/bounds.py before it runs, and every result after.

Three kinds of hooks, all documented extension points of Jinja2's sandbox:
- the operators ``* ** + %`` (``call_binop``), every call (``call``), ``str.format``
  (``wrap_str_format``), and every filter (wrapped when registered, so filters added later
  are bounded too);
- the globals ``range`` and ``lipsum``;
- the compiled form of overrides: ``instrument`` rewrites a parsed template so that each
  output, each loop iteration, each ``~`` and each literal list goes through a bounded filter.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from functools import update_wrapper
from typing import Any

from jinja2 import nodes, pass_context
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter
from jinja2.utils import _PassArg, generate_lorem_ipsum
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from ametrika_gitops.render import bounds
from ametrika_gitops.render.bounds import (
    LimitExceeded,
    materialize,
    need_bits,
    need_items,
    need_length,
    need_text,
    need_width,
    produced,
    step,
    text_size,
)

# internal filters: the colon keeps template authors from naming them
OUTPUT, LOOP, CONCAT, LITERAL = (
    "ametrika:output",
    "ametrika:loop",
    "ametrika:concat",
    "ametrika:list",
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


class _Bounded(SandboxedFormatter):
    """str.format: numbers in a field's spec are widths or precisions; the total is bounded."""

    total = 0

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self.total = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        for number in re.findall(r"\d+", format_spec):
            need_width(int(number) if len(number) <= 8 else bounds.MAX_STRING + 1, "format()")
        need_text(value, "a format() field")
        out = super().format_field(value, format_spec)
        self.total += len(out)
        need_length(self.total, "format()")
        return out


class _BoundedEscape(_Bounded, SandboxedEscapeFormatter):
    pass


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
_PASS = {_PassArg.context: 0, _PassArg.eval_context: 1, _PassArg.environment: 2}


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


@pass_context
def _output(context: Context, value: Any) -> Any:
    step()
    size = text_size(value)
    need_length(size, "a printed value")
    bounds.charge(size)
    return value


@pass_context
def _loop(context: Context, iterable: Any) -> bounds.Loop:
    return bounds.Loop(iterable)


@pass_context
def _concat(context: Context, parts: list[Any]) -> str:
    step()
    need_length(sum(text_size(p) for p in parts), "a concatenation (~)")
    joined = markup_join(parts) if context.eval_ctx.autoescape else str_join(parts)
    return produced(joined, "a concatenation (~)")  # type: ignore[no-any-return]


@pass_context
def _literal(context: Context, value: Any) -> Any:
    step()
    need_items(len(value), "a literal list")
    need_text(value, "a literal list")
    return produced(value, "a literal list")


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
        for name, func in (
            (OUTPUT, _output),
            (LOOP, _loop),
            (CONCAT, _concat),
            (LITERAL, _literal),
        ):
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


def _filter(node: nodes.Node, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class _Instrument(NodeTransformer):
    """Route outputs, loops, ``~`` and literal lists of a parsed template through the bounded
    internal filters, so that a loop that prints (or captures) text is bounded too."""

    def visit_Output(self, node: nodes.Output) -> nodes.Output:
        self.generic_visit(node)
        node.nodes = [_filter(child, OUTPUT) for child in node.nodes]
        return node

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)
        node.iter = _filter(node.iter, LOOP)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Filter:
        self.generic_visit(node)
        return _filter(nodes.List(node.nodes, lineno=node.lineno), CONCAT)

    def visit_List(self, node: nodes.List) -> nodes.Filter:
        self.generic_visit(node)
        return _filter(node, LITERAL)

    def visit_Dict(self, node: nodes.Dict) -> nodes.Filter:
        self.generic_visit(node)
        return _filter(node, LITERAL)

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Node:
        self.generic_visit(node)
        return _filter(node, LITERAL) if node.ctx == "load" else node


def instrument(ast: nodes.Template) -> nodes.Template:
    result: nodes.Template = _Instrument().visit(ast)
    return result
