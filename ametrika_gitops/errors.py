"""The one error root and the one exit-code map.

Every expected failure is an ``AmetrikaError`` (a subclass per world it comes from); the CLI's
entry point turns it into its ``exit_code`` and a one-line message. Anything else is a bug.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Terraform's convention, for people and CI alike."""

    OK = 0  # success, or nothing to change
    FAILURE = 1  # invalid input, a refused or failed operation; nothing half-applied
    CHANGES = 2  # `plan --detailed-exitcode`: the plan has changes


class AmetrikaError(Exception):
    """An expected failure: bad input, a missing file, a refused operation."""

    exit_code: ExitCode = ExitCode.FAILURE


class RepositoryError(AmetrikaError):
    """The repository (templates/, schemas/, accounts/) cannot be found or read."""
