"""JSON Schema validation whose every error points at a line and column of the YAML.

Messages are written here from the failing keyword, never taken from jsonschema's own text,
which repeats the offending value and could echo a secret.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from ametrika_gitops.config.loader import Document, JsonPath, yaml_type_name
from ametrika_gitops.diagnostics import Diagnostic, error
from ametrika_gitops.errors import RepositoryError

ACCOUNT_SCHEMA = "schemas/account.schema.json"
MAX_UNKNOWN_KEYS = 20  # reported one by one in a mapping; the rest in one finding
_TYPE_NAMES = {
    "object": "mapping",
    "array": "list",
    "string": "string",
    "integer": "integer",
    "boolean": "boolean (true or false)",
    "number": "number",
    "null": "null",
}


def _is_integer(checker: Any, instance: Any) -> bool:
    # JSON Schema counts 465.0 as an integer; YAML 1.2 reads it as a float, and so do we
    return isinstance(instance, int) and not isinstance(instance, bool)


_DEFAULT_CONST: Any = jsonschema.Draft202012Validator.VALIDATORS["const"]


def _const(validator: Any, const: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, float) and isinstance(const, int) and not isinstance(const, bool):
        yield ValidationError(f"{const!r} was expected")  # 1.0 is not 1 (version: 1.0)
    else:
        yield from _DEFAULT_CONST(validator, const, instance, schema) or ()


_Validator: Any = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator,
    validators={"const": _const},
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


@lru_cache(maxsize=8)
def load_validator(root: Path) -> jsonschema.Draft202012Validator:
    path = root / ACCOUNT_SCHEMA
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RepositoryError(f"cannot read the account schema {path}: {exc}") from exc
    jsonschema.Draft202012Validator.check_schema(schema)
    validator: jsonschema.Draft202012Validator = _Validator(schema)
    return validator


def dotted(path: JsonPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the document"


def _leaves(err: ValidationError) -> Iterator[ValidationError]:
    """Replace anyOf/oneOf errors by the most relevant branch error (check-jsonschema's way)."""
    if isinstance(err.schema, dict) and "x-message" in err.schema:
        yield err  # the schema says what the alternatives mean better than any branch
    elif err.validator in ("anyOf", "oneOf") and err.context:
        best = best_match(err.context)
        yield from _leaves(best)
    else:
        yield err


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _message(err: ValidationError, doc: Document) -> Iterator[tuple[JsonPath, bool, str, str, str]]:
    """Yield (path, at_key, code, message, hint) for one leaf error."""
    path: JsonPath = tuple(err.absolute_path)
    where = dotted(path)
    schema = err.schema if isinstance(err.schema, dict) else {}
    custom, custom_hint = schema.get("x-message"), schema.get("x-hint", "")
    if custom:
        custom = custom.replace("{where}", where)
    kind = err.validator
    vv: Any = err.validator_value
    if kind == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        unknown = sorted(k for k in err.instance if k not in allowed)
        for key in unknown[:MAX_UNKNOWN_KEYS]:
            hint = _suggest(key, allowed) or (
                f"allowed keys: {', '.join(allowed)}" if allowed else "remove it"
            )
            yield path + (key,), True, "unknown-key", f"unknown key '{key}' in {where}", hint
        if len(unknown) > MAX_UNKNOWN_KEYS:  # a file of thousands of keys: one finding more
            more = len(unknown) - MAX_UNKNOWN_KEYS
            yield (
                path,
                False,
                "unknown-key",
                f"{more:,} more unknown keys in {where}",
                f"allowed keys: {', '.join(allowed)}",
            )
        return
    if kind == "propertyNames":
        return  # reported through the failing name below, with its position
    if custom:
        code = schema.get("x-code", "missing-key" if kind == "required" else "schema")
        # a missing key, or a block the mode forbids ("not"): at the key that holds it
        yield path, kind in ("required", "not"), code, custom, custom_hint
        return
    if kind == "required":
        for key in vv:
            if isinstance(err.instance, dict) and key not in err.instance:
                yield (
                    path,
                    True,
                    "missing-key",
                    f"missing required key '{key}' in {where}",
                    f"add `{key}:`",
                )
        return
    if kind == "type":
        expected = vv if isinstance(vv, list) else [vv]
        names = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in expected)
        got = yaml_type_name(err.instance)
        hint = ""
        if "string" in expected and got in ("boolean", "integer", "number", "date", "null"):
            hint = f"YAML read this as {_a(got)}; put the value in quotes"
        number: Any = err.instance
        if "integer" in expected and isinstance(number, float) and number.is_integer():
            hint = f"write {int(number)}, without a decimal point"
        yield path, False, "wrong-type", f"{where} must be {_a(names)}, not {_a(got)}", hint
        return
    if kind == "const" and isinstance(err.instance, float) and isinstance(vv, int):
        yield path, False, "wrong-type", f"{where} must be the integer {vv}", f"write {vv}"
        return
    if kind in ("enum", "const"):
        options = vv if kind == "enum" else [vv]
        shown = ", ".join(json.dumps(o) for o in options)
        value = err.instance if isinstance(err.instance, (str, int, float, bool)) else None
        hint = _suggest(value, [str(o) for o in options]) if isinstance(value, str) else ""
        got_text = (
            f"; got {json.dumps(value)}" if value is not None and len(str(value)) < 60 else ""
        )
        if isinstance(value, bool):
            hint = "YAML reads yes/no/on/off/true/false as booleans: put the value in quotes"
        what = f"must be {shown}" if len(options) == 1 else f"must be one of: {shown}"
        yield path, False, "not-allowed", f"{where} {what}{got_text}", hint
        return
    if kind in ("minLength", "maxLength"):
        word = "at least" if kind == "minLength" else "at most"
        yield path, False, "wrong-length", f"{where} must be {word} {vv} characters long", ""
        return
    if kind in ("minimum", "maximum"):
        word = "at least" if kind == "minimum" else "at most"
        yield path, False, "out-of-range", f"{where} must be {word} {vv}", ""
        return
    if kind in ("minItems", "maxItems", "minProperties"):
        yield path, False, "empty", f"{where} must not be empty", ""
        return
    if kind == "uniqueItems":
        yield (
            path,
            False,
            "duplicate-item",
            f"{where} lists the same value twice",
            "remove the duplicate",
        )
        return
    if kind == "pattern":
        yield path, False, "wrong-form", f"{where} does not have the expected form ({vv})", ""
        return
    yield path, False, "schema", f"{where} is not valid here ({kind})", ""


def _property_name_errors(doc: Document, err: ValidationError) -> Iterator[Diagnostic]:
    path: JsonPath = tuple(err.absolute_path)
    if isinstance(err.instance, dict):
        names: Any = err.validator_value
        pattern = names.get("pattern", "") if isinstance(names, dict) else ""
        for key in sorted(err.instance):
            if pattern and not re.search(pattern, key):
                pos = doc.key_at(path + (key,))
                yield error(
                    doc.path,
                    pos.line,
                    pos.column,
                    "unknown-locale",
                    f"'{key}' is not a locale code in {dotted(path)}",
                    "use a two-letter locale such as en or fr",
                )


def validate_schema(doc: Document, validator: jsonschema.Draft202012Validator) -> list[Diagnostic]:
    found: list[tuple[JsonPath, Diagnostic]] = []
    for top in validator.iter_errors(doc.data):
        for err in _leaves(top):
            if tuple(err.absolute_path) in doc.reported:
                continue  # the loader has said what is wrong with this value
            if err.validator == "propertyNames":
                found += [((), d) for d in _property_name_errors(doc, err)]
                continue
            for path, at_key, code, message, hint in _message(err, doc):
                pos = doc.key_at(path) if at_key else doc.at(path)
                found.append((path, error(doc.path, pos.line, pos.column, code, message, hint)))
    # Inside a block the mode forbids, its other findings are noise: it is to be removed.
    forbidden = [p for p, d in found if d.code == "mode-mismatch"]
    return [
        d
        for p, d in found
        if d.code == "mode-mismatch" or not any(p[: len(f)] == f for f in forbidden)
    ]
