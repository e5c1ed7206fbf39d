"""The registry of semantic rules, built from the rule modules (each rule declares its id with
``@rule``; its docstring is its documentation, with a passing and a failing example)."""

from __future__ import annotations

from ametrika_gitops.check.rules import account, addresses, sender, templates
from ametrika_gitops.check.rules.base import (
    RenderedContext,
    RenderedRule,
    Rule,
    RuleContext,
    rendered_rules_of,
    rules_of,
)

RULES: dict[str, Rule] = rules_of(account, sender, addresses, templates)
# Run once the account renders, on its e-mails; each completes the rule of the same id.
RENDERED_RULES: tuple[RenderedRule, ...] = rendered_rules_of(sender)

__all__ = ["RENDERED_RULES", "RULES", "RenderedContext", "Rule", "RuleContext"]
