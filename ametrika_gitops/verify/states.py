"""The states a check ends in (their values are verify's JSON contract)."""

from __future__ import annotations

from typing import Literal

State = Literal["verified", "warning", "missing", "wrong", "unreachable", "ok", "advice"]
VERIFIED: State = "verified"
WARNING: State = "warning"  # published and usable, but a receiver may doubt it: not a failure
MISSING: State = "missing"
WRONG: State = "wrong"
UNREACHABLE: State = "unreachable"
ADVICE_OK: State = "ok"
ADVICE: State = "advice"
PASSING: frozenset[State] = frozenset({VERIFIED, WARNING})
