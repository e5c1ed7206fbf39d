"""The registry of semantic rules. Each rule's docstring is its documentation."""

from __future__ import annotations

from ametrika_gitops.check.rules import account, addresses, sender, templates
from ametrika_gitops.check.rules.base import Rule, RuleContext

RULES: dict[str, Rule] = {
    "id-syntax": account.id_syntax,
    "id-matches-file": account.id_matches_file,
    "locale-unknown": account.locales_known,
    "smtp-port-security": sender.smtp_port_security,
    "smtp-gmail": sender.smtp_gmail,
    "smtp-insecure": sender.smtp_insecure,
    "inline-secret": sender.inline_secret,
    "header-injection": sender.from_name_header,
    "hosted-from-domain": sender.hosted_from_domain,
    "dns-zone": sender.dns_zone_contains_domain,
    "white-label": sender.white_label_headers,
    "address-invalid": addresses.addresses_valid,
    "domain-invalid": addresses.domains_valid,
    "dmarc-values": addresses.dmarc_values,
    "dmarc-aspf-strict": addresses.dmarc_strict_spf,
    "template-unknown-type": templates.known_types,
    "template-locale": templates.override_locales,
    "template-file": templates.template_files,
    "template-syntax": templates.template_syntax,
}

__all__ = ["RULES", "Rule", "RuleContext"]
