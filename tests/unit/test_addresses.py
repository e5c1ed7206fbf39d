"""Address checks on hostile input."""

from __future__ import annotations


def test_an_overlong_address_is_refused_before_the_parser() -> None:
    """A hostile 500 KB address used to cost the (quadratic) parser about 20 s."""
    from ametrika_gitops.check.rules.addresses import address_problem

    problem = address_problem("a" * 500_000 + "@example.com")
    assert problem is not None
    assert "at most 254 characters" in problem[0] and len(problem[0]) < 100
    assert address_problem("qa@example.com") is None
