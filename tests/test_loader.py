"""The loader: positions, and a clear error (never a crash or a hang) for every bad input."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ametrika_gitops.config.compose import MAX_DEPTH
from ametrika_gitops.config.loader import MAX_BYTES, MAX_NODES, load_bytes, load_file


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
    # at the alias that crosses the limit: the first *e of line 6 (9**5 + … values before it)
    assert codes("\n".join(lines).encode()) == [("yaml-too-many-nodes", 6, 8)]
    assert MAX_NODES < 9**9


def test_billion_laughs_on_one_line_is_reported_at_the_crossing_alias() -> None:
    raw = b"a: &a [" + b",".join([b"x"] * 400) + b"]\nb: [*a, *a, *a, *a]\n"
    assert codes(raw) == []  # 1,600 values: fine
    raw = b"a: &a [" + b",".join([b"x"] * 40_000) + b"]\nb: [*a, *a, *a, *a]\n"
    assert codes(raw) == [("yaml-too-many-nodes", 2, 9)]  # the second *a crosses 100,000


def test_recursive_alias_is_reported_at_the_alias() -> None:
    assert codes(b"a: &x [1, *x]\n") == [("yaml-recursive-alias", 1, 11)]


def test_undefined_alias_is_a_finding_at_the_alias() -> None:
    assert codes(b"a: 1\nb: *nope\n") == [("yaml-syntax", 2, 4)]


def test_deep_flow_nesting_does_not_crash() -> None:
    # composing is iterative (no recursion, in C or in Python): a finding, never a crash
    assert [c[:2] for c in codes(b"a: " + b"[" * 50_000)] == [("yaml-too-deep", 1)]
    assert [c[:2] for c in codes(b"{a: " * 20_000)] == [("yaml-too-deep", 1)]


def test_nesting_is_reported_where_it_crosses_the_limit() -> None:
    _, diags = load_bytes(b"a: " + b"[" * 100 + b"]" * 100 + b"\n", "a.yaml")
    # the mapping is level 1; the 64th bracket (column 3 + 64) opens level 65
    assert [(d.code, d.line, d.column) for d in diags] == [("yaml-too-deep", 1, 3 + MAX_DEPTH)]
    assert f"more than {MAX_DEPTH} levels" in diags[0].message
    assert codes(b"a: " + b"[" * 60 + b"]" * 60 + b"\n") == []


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


def test_an_alias_used_as_a_key_is_reported_where_it_is_used() -> None:
    # anchor on line 1, used as a key (twice) on lines 3 and 4: the duplicate is at line 4
    raw = b"x: &k smtp\ny:\n  *k : 1\n  *k : 2\n"
    assert codes(raw) == [("duplicate-key", 4, 3)]
    doc, _ = load_bytes(raw, "a.yaml")
    assert doc is not None and doc.key_at(("y", "smtp")) == doc.at(("y", "smtp")).__class__(3, 3)


def test_an_alias_value_stands_where_it_is_used() -> None:
    doc, diags = load_bytes(b"a: &x [1, 2]\nb: *x\n", "a.yaml")
    assert diags == [] and doc is not None
    assert (doc.at(("b",)).line, doc.at(("b",)).column) == (2, 4)  # the alias
    assert (doc.at(("b", 1)).line, doc.at(("b", 1)).column) == (1, 11)  # the text it stands for


# YAML 1.2 (core schema), as editors read the file with the account schema


@pytest.mark.parametrize(
    "text, value",
    [
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("465", 465),
        ("0o17", 15),
        ("017", 17),  # YAML 1.1 read 15 (octal)
        ("0x1F", 31),
        ("1.5", 1.5),
        ("465.0", 465.0),  # a float, never the integer 465
        ("1e3", 1000.0),
        ("1_000", "1_000"),  # YAML 1.1 read 1000
        ("1:20", "1:20"),  # YAML 1.1 read 80 (base 60)
        ("2001-12-14", "2001-12-14"),  # YAML 1.1 read a date
        ("y", "y"),
        ('"yes"', "yes"),
        ("!!str 465", "465"),
        ("!!int '465'", 465),
        ("!!float 1", 1.0),
    ],
)
def test_scalars_are_read_as_yaml_1_2(text: str, value: object) -> None:
    doc, diags = load_bytes(f"a: {text}\n".encode(), "a.yaml")
    assert diags == [] and doc is not None
    got = doc.data["a"]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("word", ["yes", "No", "ON", "off"])
def test_yaml_1_1_booleans_are_errors_that_say_write_true_or_false(word: str) -> None:
    doc, diags = load_bytes(f"version: 1\nflag: {word}\n".encode(), "a.yaml")
    assert [(d.code, d.line, d.column) for d in diags] == [("yaml-boolean", 2, 7)]
    assert "write true or false" in diags[0].hint
    assert doc is not None and ("flag",) in doc.reported


@pytest.mark.parametrize(
    "text, column",
    [
        ("!env HOME", 7),
        ("!!binary aGk=", 7),
        ("!!timestamp 2001-12-14", 7),
        ("!!python/object/apply:os.system [ls]", 7),
        ("!!set {a, b}", 7),
        ("!!int abc", 7),
        ("!!map x", 7),
        ("!!str [1]", 7),
        ("!e!x 1", 7),
    ],
)
def test_tags_other_than_the_core_ones_are_errors(text: str, column: int) -> None:
    head = "%TAG !e! tag:example.com,2000:\n---\n" if text.startswith("!e!") else ""
    doc, diags = load_bytes(f"{head}a: 1\nname: {text}\n".encode(), "a.yaml")
    line = 2 + head.count("\n")
    assert [(d.code, d.line, d.column) for d in diags] == [("yaml-tag", line, column)]
    assert doc is not None and ("name",) in doc.reported


# files named on the command line


def _load(file: Path) -> list[tuple[str, int, int]]:
    doc, diags = load_file(file, "shown.yaml")
    assert doc is None
    return [(d.code, d.line, d.column) for d in diags]


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "acme.yaml"
    os.mkfifo(fifo)
    found: list[list[tuple[str, int, int]]] = []
    reader = threading.Thread(target=lambda: found.append(_load(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=30)
    if reader.is_alive():  # release the reader, then fail: it waited for a writer
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("load_file waits for a writer on a FIFO")
    assert found == [[("unreadable", 1, 1)]]


def test_a_device_is_refused_without_reading_it() -> None:
    _, diags = load_file(Path("/dev/zero"), "zero.yaml")
    assert [(d.code, d.line, d.column) for d in diags] == [("unreadable", 1, 1)]
    assert "not a regular file" in diags[0].message


def test_a_folder_a_socket_and_a_symlink_loop_are_refused(tmp_path: Path) -> None:
    assert _load(tmp_path) == [("unreadable", 1, 1)]
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "s.yaml"))
        assert _load(tmp_path / "s.yaml") == [("unreadable", 1, 1)]
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    assert _load(tmp_path / "loop.yaml") == [("unreadable", 1, 1)]


def test_a_large_file_is_refused_by_its_size(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_BYTES + 1))
    assert _load(big) == [("file-too-large", 1, 1)]


def _validate(repo: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    """The real command, in a process of its own whose address space is limited: a hang or a
    runaway allocation fails the test instead of the test run."""
    limited = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
        "from ametrika_gitops.cli.main import main; raise SystemExit(main())"
    )
    return subprocess.run(
        [sys.executable, "-c", limited, "validate", *paths],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_validate_refuses_a_fifo_and_dev_zero_named_on_the_command_line(repo: Path) -> None:
    os.mkfifo(repo / "accounts" / "pipe.yaml")
    done = _validate(repo, "accounts/pipe.yaml", "/dev/zero")
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        (
            "/dev/zero:1:1: error[unreadable]: cannot read the file: not a regular file (a folder, "
            "device, pipe or socket)"
        ),
        (
            "accounts/pipe.yaml:1:1: error[unreadable]: cannot read the file: not a regular file "
            "(a folder, device, pipe or socket)"
        ),
    ]
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
