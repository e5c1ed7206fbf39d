"""The loader: positions, and a clear error (never a crash or a hang) for every bad input."""

from __future__ import annotations

from ametrika_gitops.config.loader import MAX_BYTES, MAX_NODES, load_bytes


def codes(raw: bytes) -> list[tuple[str, int, int]]:
    _, diags = load_bytes(raw, "a.yaml")
    return [(d.code, d.line, d.column) for d in diags]


def test_positions_of_values_and_keys() -> None:
    doc, diags = load_bytes(b"a: 1\nb:\n  c: [x, y]\n", "a.yaml")
    assert diags == [] and doc is not None
    assert doc.data == {"a": 1, "b": {"c": ["x", "y"]}}
    assert (doc.at(("b", "c", 1)).line, doc.at(("b", "c", 1)).column) == (3, 10)
    assert (doc.key_at(("b", "c")).line, doc.key_at(("b", "c")).column) == (3, 3)
    # a path that does not exist falls back to its nearest parent
    assert doc.at(("b", "c", 7)) == doc.at(("b", "c"))


def test_duplicate_key_is_an_error_at_the_second_key() -> None:
    assert codes(b"a: 1\nb: 2\na: 3\n") == [("duplicate-key", 3, 1)]
    _, diags = load_bytes(b"a: 1\nb: 2\na: 3\n", "a.yaml")
    assert "first defined at line 1" in diags[0].message


def test_nested_duplicate_key() -> None:
    assert codes(b"s:\n  x: 1\n  x: 2\n") == [("duplicate-key", 3, 3)]


def test_empty_file_and_comment_only() -> None:
    assert codes(b"") == [("empty-file", 1, 1)]
    assert codes(b"# nothing\n\n") == [("empty-file", 1, 1)]


def test_not_a_mapping() -> None:
    assert codes(b"- a\n- b\n") == [("not-a-mapping", 1, 1)]
    assert codes(b"just text\n") == [("not-a-mapping", 1, 1)]
    assert codes(b"~\n") == [("not-a-mapping", 1, 1)]


def test_invalid_utf8_names_line_and_column() -> None:
    assert codes(b"a: 1\nb: caf\xe9\n") == [("invalid-utf8", 2, 7)]


def test_yaml_syntax_error_position() -> None:
    assert codes(b"a: 1\nb: [1, 2\n") == [("yaml-syntax", 3, 1)]
    assert codes(b"a:\n  b: 1\n c: 2\n")[0][0] == "yaml-syntax"


def test_control_character() -> None:
    assert codes(b"a: 1\nb: x\x07\n") == [("yaml-syntax", 2, 5)]


def test_multiple_documents() -> None:
    assert codes(b"a: 1\n---\nb: 2\n") == [("yaml-multiple-documents", 2, 1)]


def test_file_over_one_mebibyte() -> None:
    raw = b"a: '" + b"x" * MAX_BYTES + b"'\n"
    assert codes(raw) == [("file-too-large", 1, 1)]


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    assert codes("\n".join(lines).encode()) == [("yaml-too-many-nodes", 1, 1)]
    assert MAX_NODES < 9**9


def test_recursive_alias() -> None:
    assert codes(b"a: &x [1, *x]\n") == [("yaml-recursive-alias", 1, 4)]


def test_deep_flow_nesting_does_not_crash() -> None:
    # libyaml would recurse in C and kill the process; we must answer with a finding
    assert codes(b"a: " + b"[" * 50_000) == [("yaml-too-deep", 1, 1)]
    assert codes(b"{a: " * 20_000) == [("yaml-too-deep", 1, 1)]


def test_merge_keys_and_complex_keys_are_refused() -> None:
    assert codes(b"base: &b {x: 1}\nother:\n  <<: *b\n") == [("yaml-merge-key", 3, 3)]
    assert codes(b"? [a, b]\n: 1\n") == [("yaml-complex-key", 1, 3)]


def test_aliases_that_stay_small_are_fine() -> None:
    doc, diags = load_bytes(b"a: &x [1, 2]\nb: *x\n", "a.yaml")
    assert diags == [] and doc is not None and doc.data["b"] == [1, 2]


def test_keys_are_text_even_when_yaml_would_read_a_boolean() -> None:
    doc, _ = load_bytes(b"on: 1\n2: x\n", "a.yaml")
    assert doc is not None and doc.data == {"on": 1, "2": "x"}


def test_block_scalars_are_remembered() -> None:
    doc, _ = load_bytes(b"t: |\n  x\n  y\nu: z\n", "a.yaml")
    assert doc is not None and ("t",) in doc.block_scalars and ("u",) not in doc.block_scalars
