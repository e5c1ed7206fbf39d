"""The compiled form of an override: each output, each loop iteration, each ``~`` and each
literal list goes through a bounded internal filter, so that a loop that prints (or captures)
text is counted too. Internal filters are registered under names with a colon, which a
template author cannot write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import nodes, pass_context
from jinja2.runtime import Context, markup_join, str_join
from jinja2.visitor import NodeTransformer

from ametrika_gitops.render import bounds
from ametrika_gitops.render.bounds import (
    need_items,
    need_length,
    need_text,
    produced,
    step,
    text_size,
)

OUTPUT, LOOP, CONCAT, LITERAL = (
    "ametrika:output",
    "ametrika:loop",
    "ametrika:concat",
    "ametrika:list",
)


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


INTERNAL_FILTERS: dict[str, Callable[..., Any]] = {
    OUTPUT: _output,
    LOOP: _loop,
    CONCAT: _concat,
    LITERAL: _literal,
}


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
