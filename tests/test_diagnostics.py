"""Diagnostic renderers (design §8)."""

from __future__ import annotations

import json

from ametrika_gitops.diagnostics import error, render, warning


def test_sorted_by_file_and_position_and_deduplicated() -> None:
    a = error("b.yaml", 1, 1, "x", "m")
    b = error("a.yaml", 9, 2, "y", "m")
    c = warning("a.yaml", 3, 1, "z", "m", "fix")
    out = render([a, b, c, a], "text")
    assert out.splitlines() == [
        "a.yaml:3:1: warning[z]: m; fix",
        "a.yaml:9:2: error[y]: m",
        "b.yaml:1:1: error[x]: m",
    ]


def test_github_annotations_escape_their_syntax() -> None:
    d = error("dir,odd:name.yaml", 2, 5, "c", "50% off\nnext line", "a, b: c")
    assert render([d], "github") == (
        "::error file=dir%2Codd%3Aname.yaml,line=2,col=5,title=c::50%25 off%0Anext line; a, b: c\n"
    )


def test_json_has_every_field() -> None:
    d = warning("a.yaml", 1, 2, "code", "msg", "hint")
    assert json.loads(render([d], "json")) == [
        {
            "path": "a.yaml",
            "line": 1,
            "column": 2,
            "code": "code",
            "severity": "warning",
            "message": "msg",
            "hint": "hint",
        }
    ]
    assert json.loads(render([], "json")) == []
