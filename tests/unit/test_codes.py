"""The catalogue of diagnostic codes: one owner per code, every emitted code catalogued."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ametrika_gitops.check.codes import CODES
from ametrika_gitops.check.rules import RENDERED_RULES, RULES

PACKAGE = Path(__file__).resolve().parents[2] / "ametrika_gitops"
CASES = PACKAGE.parent / "tests" / "cases"
_FINDING = re.compile(r"^[^\n]*?:\d+:\d+: (?:error|warning)\[([a-z0-9-]+)\]", re.MULTILINE)


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def _strings(path: Path) -> set[str]:
    """The string constants of a module, except those naming codes a rule refines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    mentions = {
        id(n)
        for kw in ast.walk(tree)
        if isinstance(kw, ast.keyword) and kw.arg == "refines"
        for n in ast.walk(kw.value)
    }
    return {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in mentions
    }


def test_each_code_is_written_in_its_owner_module_only() -> None:
    written: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "codes.py" or "emulator" in path.parts:
            continue
        for s in _strings(path):
            if s in CODES:
                written.setdefault(s, set()).add(_module(path))
    for code, entry in CODES.items():
        if entry.owner.endswith(".json"):
            schema = (PACKAGE.parent / entry.owner).read_text(encoding="utf-8")
            assert f'"x-code": "{code}"' in schema, code
            assert code not in written, code
        elif code in RULES:
            # a rule's id is written in its decorator, in the rule's module (and by the
            # module that emits it for the rule, when that is another one)
            rule_module = RULES[code].check.__module__
            assert written.get(code, set()) <= {entry.owner, rule_module}, code
        else:
            assert entry.owner in written.get(code, set()), f"{code} not emitted by {entry.owner}"
            others = written.get(code, set()) - {entry.owner}
            assert not others, f"{code} is also written in {sorted(others)}"


def test_every_finding_of_the_corpus_has_a_catalogued_code() -> None:
    found = set()
    for expected in CASES.rglob("*.expected"):
        found |= set(_FINDING.findall(expected.read_text(encoding="utf-8")))
    assert found, "the corpus has findings"
    assert sorted(found - set(CODES)) == []


def test_rendered_rules_complete_a_rule_of_the_same_module() -> None:
    for r in RENDERED_RULES:
        assert r.id in RULES
        assert r.check.__module__ == RULES[r.id].check.__module__


def test_rule_ids_are_declared_beside_their_rule() -> None:
    for code, r in RULES.items():
        source = Path(__import__(r.check.__module__, fromlist=["x"]).__file__ or "")
        assert f'@rule("{code}"' in source.read_text(encoding="utf-8"), code
