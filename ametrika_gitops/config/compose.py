"""YAML 1.2 (core schema) from libyaml's events: nodes that keep their positions, composed
without recursion, and the core tags' values.

PyYAML's own composer resolves YAML 1.1 (yes/no/on/off are booleans, 017 is octal, dates are
dates) and drops unknown tags; editors read the account files as YAML 1.2. These nodes carry
what the loader needs to read them the editor's way and to say where each alias is used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from ametrika_gitops.diagnostics import Diagnostic, error

MAX_DEPTH = 64  # an account file is about five levels deep

CORE = "tag:yaml.org,2002:"
# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution)
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
# Booleans in YAML 1.1 only: PyYAML and older tools read them as true/false, editors as text.
YAML11_BOOL = re.compile(r"yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF")
# the first characters of anything but text: null, booleans (1.2 and 1.1), numbers
SPECIAL_START = frozenset("~nNtTfFyYoO+-.0123456789") | {""}
YAML11_MEANING = {"yes": "true", "on": "true", "no": "false", "off": "false"}

# written here only; the loader reports its own syntax errors with it too
YAML_SYNTAX = "yaml-syntax"


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Node:
    kind: str  # scalar | seq | map
    pos: Position
    tag: str | None  # as written (resolved handle), None when implicit
    value: Any = None  # scalar text
    style: str | None = None  # scalar style: None plain, ' " | >
    items: list[Any] = field(default_factory=list)  # seq: items; map: [key, value, …]


@dataclass(frozen=True)
class Alias:
    target: Node
    pos: Position


class Stop(Exception):
    """The document cannot be loaded; ``diagnostic`` says why and where."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def position_of(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def compose(events: Iterable[yaml.Event], path: str) -> Node | None:
    """Nodes from parser events, iteratively: no recursion, whatever the nesting."""
    root: Node | None = None
    stack: list[Node] = []
    anchors: dict[str, Node] = {}
    documents = 0

    def add(item: Node | Alias) -> None:
        nonlocal root
        if stack:
            stack[-1].items.append(item)
        elif isinstance(item, Node):
            root = item

    def anchor(event: Any, node: Node) -> None:
        if event.anchor is not None:
            anchors[event.anchor] = node  # YAML 1.2: a later anchor of the same name wins

    for event in events:
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                p = position_of(event.start_mark)
                raise Stop(
                    error(
                        path,
                        p.line,
                        p.column,
                        "yaml-multiple-documents",
                        "the file holds more than one YAML document",
                        "keep one account per file; remove the `---` separator",
                    )
                )
        elif isinstance(event, yaml.ScalarEvent):
            node = Node(
                "scalar", position_of(event.start_mark), event.tag, event.value, event.style
            )
            if event.tag is None and not event.implicit[0]:
                node.tag = "!"  # quoted or block: always text
            anchor(event, node)
            add(node)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            kind = "seq" if isinstance(event, yaml.SequenceStartEvent) else "map"
            node = Node(kind, position_of(event.start_mark), event.tag)
            if len(stack) >= MAX_DEPTH:
                raise Stop(too_deep(path, node.pos))
            anchor(event, node)  # before its items: an alias inside it is recursive
            add(node)
            stack.append(node)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            stack.pop()
        elif isinstance(event, yaml.AliasEvent):
            p = position_of(event.start_mark)
            target = anchors.get(str(event.anchor))
            if target is None:
                raise Stop(
                    error(
                        path,
                        p.line,
                        p.column,
                        YAML_SYNTAX,
                        f"alias *{event.anchor} names no anchor defined before it",
                        "define the anchor (&name) first, or write the value out",
                    )
                )
            add(Alias(target, p))
    return root


def too_deep(path: str, p: Position) -> Diagnostic:
    return error(
        path,
        p.line,
        p.column,
        "yaml-too-deep",
        f"the document is nested more than {MAX_DEPTH} levels deep",
        "an account file is a few levels deep",
    )


NO = object()
CORE_NAMES = frozenset({"str", "null", "bool", "int", "float", "seq", "map"})


def construct(name: str, text: str) -> Any:
    """``text`` as a value of the core tag ``name``, or NO when it is not one."""
    if name == "null" and _NULL.fullmatch(text):
        return None
    if name == "bool" and _BOOL.fullmatch(text):
        return text.lower() == "true"
    if name in ("int", "float") and _INT.fullmatch(text):
        base = 8 if text.startswith("0o") else 16 if text.startswith("0x") else 10
        try:
            number = int(text[2:] if base != 10 else text, base)
        except ValueError:  # more digits than Python converts (4,300)
            return NO
        return float(number) if name == "float" else number
    if name == "float" and _FLOAT.fullmatch(text):
        lowered = text.lower()
        if lowered.endswith(".inf"):
            return float(lowered.replace(".inf", "inf"))
        return float("nan") if lowered == ".nan" else float(text)
    return NO


def shown_tag(tag: str | None) -> str:
    shown = "!!" + tag[len(CORE) :] if tag and tag.startswith(CORE) else str(tag)
    shown = shown.encode("unicode_escape").decode("ascii")
    return f"'{shown[:60]}'"
