"""Safe YAML loading with a position for every key and value.

PyYAML composes nodes that know their line and column; we build plain Python values from
them ourselves so that every value keeps its position, duplicate keys are caught (PyYAML
accepts them silently) and alias expansion is bounded (the "billion laughs").
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from ametrika_gitops.diagnostics import Diagnostic, error

try:  # libyaml: ~15x faster; the pure-Python loader behaves the same
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000

JsonPath = tuple[Union[str, int], ...]  # noqa: UP007 - a runtime alias, Python 3.10
_SCALAR = yaml.constructor.SafeConstructor()


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True)
class Document:
    """A parsed file: its data, and where each value (and each mapping key) stands."""

    path: str
    data: Any
    values: Mapping[JsonPath, Position] = field(default_factory=dict)
    keys: Mapping[JsonPath, Position] = field(default_factory=dict)
    block_scalars: frozenset[JsonPath] = frozenset()

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
    pass


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
        self.diags: list[Diagnostic] = []
        self.count = 0
        self.active: set[int] = set()

    def pos(self, node: yaml.Node) -> Position:
        return Position(node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: JsonPath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        self.values.setdefault(path, self.pos(node))
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self.active:
                raise _Recursive(self.pos(node))
            self.active.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self.mapping(node, path)
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            finally:
                self.active.discard(id(node))
        if getattr(node, "style", None) in ("|", ">"):
            self.block.add(path)
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        try:
            return _SCALAR.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError):
            return node.value  # e.g. a timestamp out of range: keep the text

    def mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            kp = self.pos(key_node)
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.diags.append(
                    error(
                        self.path,
                        kp.line,
                        kp.column,
                        "yaml-merge-key",
                        "merge keys (<<) are not supported",
                        "write the keys out in full",
                    )
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.diags.append(
                    error(
                        self.path,
                        kp.line,
                        kp.column,
                        "yaml-complex-key",
                        "a mapping key must be a plain string",
                        "use a simple `name:` key",
                    )
                )
                continue
            key = str(key_node.value)
            if key in out:
                first = self.keys[path + (key,)]
                self.diags.append(
                    error(
                        self.path,
                        kp.line,
                        kp.column,
                        "duplicate-key",
                        f"duplicate key '{key}' (first defined at line {first.line})",
                        "remove one of the two, or merge them",
                    )
                )
                continue
            self.keys[path + (key,)] = kp
            out[key] = self.build(value_node, path + (key,))
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
        # libyaml composes recursively in C: deep flow nesting crashes the process. The
        # pure-Python composer fails with a RecursionError we can report instead.
        deep = text.count("[") + text.count("{") > 500
        node = yaml.compose(text, Loader=yaml.SafeLoader if deep else _Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if "expected a single document" in str(problem) or "but found another document" in str(exc):
            return None, [
                error(
                    path,
                    line,
                    col,
                    "yaml-multiple-documents",
                    "the file holds more than one YAML document",
                    "keep one account per file; remove the `---` separator",
                )
            ]
        return None, [
            error(
                path,
                line,
                col,
                "yaml-syntax",
                f"YAML syntax error: {problem}",
                "check indentation, quoting and the `key: value` form here",
            )
        ]
    except yaml.YAMLError as exc:  # reader errors: control characters and the like
        offset = getattr(exc, "position", None)
        line, col = 1, 1
        if isinstance(offset, int):
            before = text[:offset]
            line, col = before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1
        char = getattr(exc, "character", None)
        code = ord(char) if isinstance(char, str) and len(char) == 1 else char
        shown = f" (U+{code:04X})" if isinstance(code, int) else ""
        return None, [
            error(
                path,
                line,
                col,
                "yaml-syntax",
                f"a character YAML does not allow{shown}",
                "remove it; control characters are not allowed in YAML",
            )
        ]
    except RecursionError:
        return None, [
            error(
                path,
                1,
                1,
                "yaml-too-deep",
                "the document is nested too deeply",
                "an account file is a few levels deep",
            )
        ]
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
    except _TooLarge:
        return None, [
            error(
                path,
                1,
                1,
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
    except RecursionError:
        return None, [
            error(
                path,
                1,
                1,
                "yaml-too-deep",
                "the document is nested too deeply",
                "an account file is a few levels deep",
            )
        ]
    if not isinstance(data, dict):
        p = builder.pos(node)
        kind = "a list" if isinstance(data, list) else "a single value"
        return None, [
            error(
                path,
                p.line,
                p.column,
                "not-a-mapping",
                f"the document is {kind}, not a mapping",
                "an account file is a mapping that starts with `version: 1`",
            )
        ]
    doc = Document(path, data, builder.values, builder.keys, frozenset(builder.block))
    return doc, builder.diags


def load_file(file: Path, display: str) -> tuple[Document | None, list[Diagnostic]]:
    try:
        size = file.stat().st_size
        if size > MAX_BYTES:  # do not read what will be refused
            return None, _too_large(display, size)
        raw = file.read_bytes()
    except OSError as exc:
        return None, [error(display, 1, 1, "unreadable", f"cannot read the file: {exc.strerror}")]
    return load_bytes(raw, display)


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
