"""Safe YAML loading with a position for every key and value.

The file is read as YAML 1.2 (core schema), the version editors use with the account schema,
so that the tool and the editor see the same values: ``yes``/``on`` are not booleans, ``1.0``
is not an integer, and a tag other than the core ones is an error rather than silently dropped.

libyaml (PyYAML's C parser) gives the events with their marks; config/compose.py makes nodes
of them, and we build plain Python values ourselves so that every value keeps its position (an
alias's value is where the alias is used), duplicate keys are caught (PyYAML accepts them
silently), nesting and alias expansion are bounded (the "billion laughs") and reported where
they cross the bound.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from ametrika_gitops.config.compose import (
    CORE,
    CORE_NAMES,
    NO,
    SPECIAL_START,
    YAML11_BOOL,
    YAML11_MEANING,
    YAML_SYNTAX,
    Alias,
    Node,
    Position,
    Stop,
    compose,
    construct,
    shown_tag,
    too_deep,
)
from ametrika_gitops.config.files import read_limited
from ametrika_gitops.diagnostics import Diagnostic, error

try:  # libyaml: ~15x faster; the pure-Python parser gives the same events
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000

JsonPath = tuple[Union[str, int], ...]  # noqa: UP007 - a runtime alias, Python 3.10


@dataclass(frozen=True)
class Document:
    """A parsed file: its data, and where each value (and each mapping key) stands."""

    path: str
    data: Any
    values: Mapping[JsonPath, Position] = field(default_factory=dict)
    keys: Mapping[JsonPath, Position] = field(default_factory=dict)
    block_scalars: frozenset[JsonPath] = frozenset()
    # values the loader has already reported (a tag, a YAML 1.1 boolean), read as null: the
    # schema does not report them again
    reported: frozenset[JsonPath] = frozenset()

    def at(self, path: JsonPath) -> Position:
        """The value's position, else the nearest enclosing one."""
        p = tuple(path)
        while p:
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), Position(1, 1))

    def key_at(self, path: JsonPath) -> Position:
        """The position of the key that holds ``path`` (its value's, for list items)."""
        return self.keys.get(tuple(path)) or self.at(path)


class _TooLarge(Exception):
    def __init__(self, position: Position) -> None:
        super().__init__()
        self.position = position


class _Recursive(Exception):
    def __init__(self, position: Position) -> None:
        super().__init__()
        self.position = position


class _Builder:
    def __init__(self, path: str) -> None:
        self.path = path
        self.values: dict[JsonPath, Position] = {}
        self.keys: dict[JsonPath, Position] = {}
        self.block: set[JsonPath] = set()
        self.reported: set[JsonPath] = set()
        self.diags: list[Diagnostic] = []
        self.count = 0
        self.active: set[int] = set()
        self.aliases: list[Position] = []  # the aliases being expanded, outermost first

    def report(self, pos: Position, code: str, message: str, hint: str) -> None:
        self.diags.append(error(self.path, pos.line, pos.column, code, message, hint))

    def build(self, item: Node | Alias, path: JsonPath) -> Any:
        if isinstance(item, Alias):
            self.values.setdefault(path, item.pos)  # the value stands where it is used
            if id(item.target) in self.active:
                raise _Recursive(item.pos)
            self.aliases.append(item.pos)
            try:
                return self.build(item.target, path)
            finally:
                self.aliases.pop()
        node = item
        self.count += 1
        if self.count > MAX_NODES:
            # at the alias that multiplies (the outermost one being expanded), else here
            raise _TooLarge(self.aliases[0] if self.aliases else node.pos)
        self.values.setdefault(path, node.pos)
        if node.kind == "scalar":
            if node.style in ("|", ">"):
                self.block.add(path)
            return self.scalar(node, path)
        if node.tag not in (None, "!", CORE + ("map" if node.kind == "map" else "seq")):
            self.reported.add(path)
            core = str(node.tag).startswith(CORE) and node.tag[len(CORE) :] in CORE_NAMES
            self.report(
                node.pos,
                "yaml-tag",
                f"the tag {shown_tag(node.tag)} "
                + ("does not fit this value" if core else "is not one of YAML's core tags"),
                "remove the tag; an account file uses plain YAML values",
            )
            return None  # not built: what it holds is not what it says
        self.active.add(id(node))
        try:
            if node.kind == "map":
                return self.mapping(node, path)
            return [self.build(x, path + (i,)) for i, x in enumerate(node.items)]
        finally:
            self.active.discard(id(node))

    def scalar(self, node: Node, path: JsonPath) -> Any:
        text = str(node.value)
        tag = node.tag
        if tag is None:
            if text[:1] not in SPECIAL_START:  # most values: text at a glance
                return text
            if YAML11_BOOL.fullmatch(text):
                self.reported.add(path)
                self.report(
                    node.pos,
                    "yaml-boolean",
                    f"'{text}' is {YAML11_MEANING[text.lower()]} in YAML 1.1 but text in "
                    "YAML 1.2, which editors use: tools would read it differently",
                    f'write true or false; or "{text}" in quotes if you mean the text',
                )
                return None
            for name in ("null", "bool", "int", "float"):
                value = construct(name, text)
                if value is not NO:
                    return value
            return text
        if tag == "!" or tag == CORE + "str":
            return text
        name = tag[len(CORE) :] if tag.startswith(CORE) else ""
        if name in ("null", "bool", "int", "float"):
            value = construct(name, text)
            if value is not NO:
                return value
            self.reported.add(path)
            self.report(
                node.pos,
                "yaml-tag",
                f"the value is not a valid !!{name}",
                "remove the tag and write the value plainly",
            )
            return None
        self.reported.add(path)
        if name in ("seq", "map"):
            self.report(
                node.pos,
                "yaml-tag",
                f"the tag {shown_tag(tag)} is for a list or a mapping, not a single value",
                "remove the tag",
            )
            return None
        self.report(
            node.pos,
            "yaml-tag",
            f"the tag {shown_tag(tag)} is not one of YAML's core tags",
            "remove the tag; an account file uses plain YAML values (a secret is "
            "written {env: NAME})",
        )
        return None

    def mapping(self, node: Node, path: JsonPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        items = node.items
        for key_item, value_item in zip(items[0::2], items[1::2]):
            kp = key_item.pos  # an alias used as a key: where it is used
            key_node = key_item.target if isinstance(key_item, Alias) else key_item
            if key_node.kind != "scalar":
                self.report(
                    kp,
                    "yaml-complex-key",
                    "a mapping key must be a plain string",
                    "use a simple `name:` key",
                )
                continue
            key = str(key_node.value)
            if key == "<<" and key_node.tag is None:
                self.report(
                    kp,
                    "yaml-merge-key",
                    "merge keys (<<) are not supported",
                    "write the keys out in full",
                )
                continue
            if key_node.tag not in (None, "!", CORE + "str"):
                self.report(
                    kp,
                    "yaml-tag",
                    f"the tag {shown_tag(key_node.tag)} is not allowed on a key",
                    "remove the tag",
                )
                continue
            if key in out:
                first = self.keys[path + (key,)]
                self.report(
                    kp,
                    "duplicate-key",
                    f"duplicate key '{key}' (first defined at line {first.line})",
                    "remove one of the two, or merge them",
                )
                continue
            self.keys[path + (key,)] = kp
            out[key] = self.build(value_item, path + (key,))
        return out


def _utf8_position(raw: bytes, exc: UnicodeDecodeError) -> Position:
    before = raw[: exc.start]
    line = before.count(b"\n") + 1
    col = exc.start - (before.rfind(b"\n") + 1) + 1
    return Position(line, col)


def _too_large(path: str, size: int) -> list[Diagnostic]:
    return [
        error(
            path,
            1,
            1,
            "file-too-large",
            f"file is {size:,} bytes; the limit is {MAX_BYTES:,} (1 MiB)",
            "an account file is a few kilobytes: move long templates to {file: …} overrides",
        )
    ]


def _parse_error(path: str, text: str, exc: yaml.YAMLError) -> Diagnostic:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        return error(
            path,
            line,
            col,
            YAML_SYNTAX,
            f"YAML syntax error: {problem}",
            "check indentation, quoting and the `key: value` form here",
        )
    # reader errors: control characters and the like
    offset = getattr(exc, "position", None)
    line, col = 1, 1
    if isinstance(offset, int):
        before = text[:offset]
        line, col = before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1
    char = getattr(exc, "character", None)
    code = ord(char) if isinstance(char, str) and len(char) == 1 else char
    shown = f" (U+{code:04X})" if isinstance(code, int) else ""
    return error(
        path,
        line,
        col,
        YAML_SYNTAX,
        f"a character YAML does not allow{shown}",
        "remove it; control characters are not allowed in YAML",
    )


def load_bytes(raw: bytes, path: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse ``raw`` (the content of ``path``). Never raises on bad input."""
    if len(raw) > MAX_BYTES:
        return None, _too_large(path, len(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        p = _utf8_position(raw, exc)
        return None, [
            error(
                path,
                p.line,
                p.column,
                "invalid-utf8",
                f"invalid UTF-8 (byte 0x{raw[exc.start]:02x})",
                "save the file as UTF-8",
            )
        ]
    try:
        node = compose(yaml.parse(text, Loader=_Loader), path)
    except Stop as stop:
        return None, [stop.diagnostic]
    except yaml.YAMLError as exc:
        found = _parse_error(path, text, exc)
        if "maximum nesting depth" in found.message:  # libyaml's own bound (1,000 levels)
            found = too_deep(path, Position(found.line, found.column))
        return None, [found]
    if node is None:
        return None, [
            error(
                path,
                1,
                1,
                "empty-file",
                "the file is empty",
                "start from an example in accounts/, or delete the file",
            )
        ]
    builder = _Builder(path)
    try:
        data = builder.build(node, ())
    except _TooLarge as exc:
        p = exc.position
        return None, [
            error(
                path,
                p.line,
                p.column,
                "yaml-too-many-nodes",
                f"the document expands to more than {MAX_NODES:,} values "
                "(anchors and aliases that multiply, a 'billion laughs')",
                "write the values out; do not nest aliases",
            )
        ]
    except _Recursive as exc:
        p = exc.position
        return None, [
            error(
                path,
                p.line,
                p.column,
                "yaml-recursive-alias",
                "an alias refers to the collection that contains it",
                "write the values out; do not nest an alias inside its own anchor",
            )
        ]
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        return None, [
            error(
                path,
                node.pos.line,
                node.pos.column,
                "not-a-mapping",
                f"the document is {kind}, not a mapping",
                "an account file is a mapping that starts with `version: 1`",
            )
        ]
    doc = Document(
        path,
        data,
        builder.values,
        builder.keys,
        frozenset(builder.block),
        frozenset(builder.reported),
    )
    return doc, builder.diags


def load_file(file: Path, display: str) -> tuple[Document | None, list[Diagnostic]]:
    """Load an account file: a regular file, of which no more than the limit is read."""
    raw = read_limited(file, MAX_BYTES)
    if isinstance(raw, bytes):
        return load_bytes(raw, display)
    if raw.reason == "too-large":
        return None, _too_large(display, raw.size)
    return None, [error(display, 1, 1, "unreadable", f"cannot read the file: {raw.message}")]


def yaml_type_name(value: Any) -> str:
    """How YAML resolved a value, for messages such as 'must be a string, not a boolean'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "date"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__
