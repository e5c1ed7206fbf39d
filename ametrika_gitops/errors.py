"""The one error root; the CLI turns these into exit code 1 and a clear message."""

from __future__ import annotations


class AmetrikaError(Exception):
    """An expected failure: bad input, a missing file, a refused operation. Exit code 1."""

    exit_code = 1


class RepositoryError(AmetrikaError):
    """The repository (templates/, schemas/, accounts/) cannot be found or read."""
