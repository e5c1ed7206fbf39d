"""The catalogue of every diagnostic code: what it means and the one module that emits it.

Rule codes come from the rule registry (each rule declares its id where it is written); the
others are listed here. A test checks that each code is written in its owner module and in no
other, and that every finding of the test corpus has a code of this catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

from ametrika_gitops.check.rules import RULES


@dataclass(frozen=True)
class Code:
    code: str
    owner: str  # the module that emits it
    summary: str


_LOADER = "ametrika_gitops.config.loader"
_SCHEMA = "ametrika_gitops.config.schema"
_ENGINE = "ametrika_gitops.render.engine"
_COMPOSE = "ametrika_gitops.config.compose"
_DNS_LIVE = "ametrika_gitops.dns.live"
_DNS_DIFF = "ametrika_gitops.dns.diff"
_DNS_SETTINGS = "ametrika_gitops.dns.settings"

_STATIC = (
    Code("file-too-large", _LOADER, "an account file over the size limit"),
    Code("invalid-utf8", _LOADER, "bytes that are not UTF-8"),
    Code("empty-file", _LOADER, "an empty account file"),
    Code("not-a-mapping", _LOADER, "a document that is not a mapping of keys"),
    Code("duplicate-key", _LOADER, "a key written twice in one mapping"),
    Code("yaml-syntax", _COMPOSE, "YAML that does not parse"),
    Code("yaml-multiple-documents", _COMPOSE, "more than one YAML document in a file"),
    Code("yaml-merge-key", _LOADER, "a `<<` merge key"),
    Code("yaml-complex-key", _LOADER, "a key that is not a scalar"),
    Code("yaml-too-deep", _COMPOSE, "nesting beyond the limit"),
    Code("yaml-too-many-nodes", _LOADER, "aliases that multiply the document"),
    Code("yaml-recursive-alias", _LOADER, "an alias inside its own anchor"),
    Code("yaml-tag", _LOADER, "a tag other than YAML's core ones (the editor reads it otherwise)"),
    Code("yaml-boolean", _LOADER, "a YAML 1.1 boolean (yes, no, on, off): write true or false"),
    Code("missing-key", _SCHEMA, "a required key is absent"),
    Code("unknown-key", _SCHEMA, "a key the schema does not know"),
    Code("wrong-type", _SCHEMA, "a value of the wrong type"),
    Code("not-allowed", _SCHEMA, "a value outside the allowed ones"),
    Code("wrong-length", _SCHEMA, "a string too short or too long"),
    Code("out-of-range", _SCHEMA, "a number outside its range"),
    Code("duplicate-item", _SCHEMA, "an item listed twice"),
    Code("empty", _SCHEMA, "an empty list or mapping where one item is needed"),
    Code("wrong-form", _SCHEMA, "a string that does not have the expected form"),
    Code("unknown-locale", _SCHEMA, "a locale the catalogue does not have"),
    Code("mode-mismatch", _SCHEMA, "a block the sender mode forbids or requires"),
    # written as the x-code of a schema keyword (the schema file is its owner)
    Code(
        "admin-syntax", "schemas/account.schema.json", "an admin that is not a GitHub user or team"
    ),
    Code("schema", _SCHEMA, "any other schema finding"),
    Code("template-syntax", _ENGINE, "a template that does not compile"),
    Code("template-filter", _ENGINE, "an unknown filter or test"),
    Code("template-unsafe", _ENGINE, "access to Python internals"),
    Code("template-undefined", _ENGINE, "a variable the e-mail type does not receive"),
    Code("template-render", _ENGINE, "an error while rendering the sample"),
    Code("template-limit", _ENGINE, "a render past a bound (output, string, list, steps, time)"),
    Code("id-unique", "ametrika_gitops.check.pipeline", "two files with one account id"),
    # DNS plans (issue #10): each leaves its account out of the plan, warnings aside
    Code("dns-zone-not-found", _DNS_LIVE, "no visible zone holds it"),
    Code("dns-zone-shadowed", _DNS_LIVE, "warning: dns.zone less specific than a visible zone"),
    Code("dns-comment-too-long", _DNS_LIVE, "the ownership comment exceeds the zone's limit"),
    Code("dns-zone-unreadable", _DNS_LIVE, "the zone could not be read"),
    Code("dns-zone-quota", _DNS_LIVE, "the plan would exceed the zone's record quota"),
    Code("dns-conflict", _DNS_DIFF, "a record of someone else in the way"),
    Code("dns-delegated", _DNS_DIFF, "records below an NS delegation (never served)"),
    Code("dmarc-weaker", _DNS_DIFF, "warning: a change that weakens a DMARC policy"),
    Code("dmarc-unknown", _DNS_DIFF, "warning: DMARC could not be read; none added"),
    Code("settings-type", _DNS_SETTINGS, "ametrika-gitops.yaml: a value of the wrong type"),
    Code("settings-key", _DNS_SETTINGS, "ametrika-gitops.yaml: an unknown key"),
    Code("ownership-scope", _DNS_SETTINGS, "ametrika-gitops.yaml: an invalid ownership scope"),
)


def _rule_codes() -> tuple[Code, ...]:
    return tuple(
        Code(r.id, r.check.__module__, (r.check.__doc__ or "").strip().splitlines()[0])
        for r in RULES.values()
    )


# The template-syntax rule reports what the engine finds: the engine owns those codes.
CODES: dict[str, Code] = {c.code: c for c in (*_rule_codes(), *_STATIC)}
