"""Which DNS questions a scan asks for one domain (pure: no I/O).

The scanner (``hunter.collect.scanner``) executes this plan; the classifier imports the
constants from here, so names and selectors are defined once.

Phases of one domain's scan:

1. Independent lookups, all at once: MX, apex TXT, apex A, NS, ``_dmarc``, ``_mta-sts``,
   ``_smtp._tls``, ``default._bimi``, the M365 traces and the first DKIM round.
2. Lookups that depend on phase 1, again all at once: A/AAAA of the primary MX hosts, the SPF
   include/redirect tree (level by level), the DMARC organisational-domain fallback and the
   second DKIM round.

DKIM selectors: there is no way to list a domain's selectors, so they are guessed, and every
guess costs a query on every domain. Probing ~15 selectors everywhere would double the query
count. So the probe is two-round:

* Round 1, every domain: ``selector1`` (Microsoft 365; its CNAME target
  ``selector1-<domain>._domainkey.<tenant>.onmicrosoft.com`` is a tenant trace that matters even
  when the mail is elsewhere, so it is never made conditional), ``google`` (Google Workspace, also
  common when MX points at a gateway) and ``default`` (cPanel, Plesk and most hosting panels,
  the largest group of our leads).
* Round 2, driven by what MX hosts, apex TXT verification tokens and the SPF record's
  include/redirect names say about the platform: ``selector2`` for Microsoft 365, ``zmail``/
  ``zoho`` for Zoho, ``mail`` for Yandex and Brevo, ``sig1`` for iCloud, ``protonmail*`` for
  Proton, ``fm1-3`` for Fastmail, ``s1/s2`` for SendGrid, ``k1/k2`` for Mailchimp, ``mandrill``
  for Mandrill,
  ``k1``/``mx`` for Mailgun, ``zendesk1/2`` for Zendesk.
* When the MX hosts do not point at a cloud mailbox platform (hosting, self-hosted, a gateway,
  or MX unknown because its lookup failed), the generic set ``mail``, ``dkim``, ``x``
  (DirectAdmin), ``k1``, ``s1`` is probed as well, so self-run and hosted mail servers get a
  fair chance — also when TXT or SPF name Microsoft 365 (half-migrated domains).
* Domains without MX (no mail) get no second round.

Selectors that cannot be guessed (Amazon SES/WorkMail tokens, Mimecast's dated selectors) are
not probed; the classifier must treat "no DKIM found" as "none found among the probed
selectors", which the selector field of each DKIM lookup spells out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Final

from hunter.core.evidence import LookupPurpose

__all__ = [
    "DKIM_GENERIC_SELECTORS",
    "DKIM_PLATFORM_SELECTORS",
    "DKIM_ROUND1_SELECTORS",
    "DKIM_SELECTORS",
    "M365_SRV_LABEL",
    "M365_TRACE_LABELS",
    "MAX_PRIMARY_MX_HOSTS",
    "PLATFORM_HINTS",
    "PlannedLookup",
    "dkim_name",
    "dkim_round2_selectors",
    "dmarc_name",
    "mx_host_lookups",
    "phase1_lookups",
    "platform_hints",
    "primary_mx_hosts",
]

M365_TRACE_LABELS: Final[tuple[str, ...]] = (
    "autodiscover",
    "lyncdiscover",
    "sip",
    "enterpriseenrollment",
    "enterpriseregistration",
)
"""Queried as A: a CNAME to ``*.outlook.com``/``*.lync.com``/``*.manage.microsoft.com`` shows up in
the lookup's ``cnames``, an on-premises server as an A record."""
M365_SRV_LABEL: Final = "_sipfederationtls._tcp"
"""SRV at ``_sipfederationtls._tcp.<domain>``; the lookup's selector is ``sipfederationtls``."""

MTA_STS_LABEL: Final = "_mta-sts"
TLS_RPT_LABEL: Final = "_smtp._tls"
BIMI_LABEL: Final = "default._bimi"
DMARC_LABEL: Final = "_dmarc"

MAX_PRIMARY_MX_HOSTS: Final = 2
"""Primary MX hosts (lowest preference) whose A and AAAA are looked up."""

DKIM_ROUND1_SELECTORS: Final[tuple[str, ...]] = ("selector1", "google", "default")

DKIM_PLATFORM_SELECTORS: Final[dict[str, tuple[str, ...]]] = {
    "m365": ("selector1", "selector2"),
    "google": ("google",),
    "zoho": ("zmail", "zoho"),
    "yandex": ("mail",),
    "icloud": ("sig1",),
    "proton": ("protonmail", "protonmail2", "protonmail3"),
    "fastmail": ("fm1", "fm2", "fm3"),
    "sendgrid": ("s1", "s2"),
    "mailchimp": ("k1", "k2"),
    "mandrill": ("mandrill",),
    "mailgun": ("k1", "mx"),
    "brevo": ("mail",),
    "zendesk": ("zendesk1", "zendesk2"),
}

DKIM_GENERIC_SELECTORS: Final[tuple[str, ...]] = ("mail", "dkim", "x", "k1", "s1")
"""Probed when no cloud mailbox platform is recognised."""

DKIM_SELECTORS: Final[tuple[str, ...]] = tuple(
    dict.fromkeys(
        [
            *DKIM_ROUND1_SELECTORS,
            *(s for group in DKIM_PLATFORM_SELECTORS.values() for s in group),
            *DKIM_GENERIC_SELECTORS,
        ]
    )
)
"""Every selector the scanner may probe."""

# Platforms that host mailboxes: recognising one of them replaces the generic probe.
_MAILBOX_PLATFORMS: Final = frozenset({"m365", "google", "zoho", "yandex", "icloud", "proton", "fastmail"})

# Suffix hints (host names matched at label boundaries, never as substrings).
PLATFORM_HINTS: Final[dict[str, tuple[str, ...]]] = {
    "m365": ("mail.protection.outlook.com", "mx.microsoft", "spf.protection.outlook.com"),
    "google": ("google.com", "googlemail.com", "_spf.google.com"),
    "zoho": ("zoho.com", "zoho.eu", "zoho.in", "zoho.com.au", "zoho.jp", "zohomail.com", "zoho.com.cn"),
    "yandex": ("yandex.net", "yandex.ru", "yandex.com"),
    "icloud": ("icloud.com", "me.com"),
    "proton": ("protonmail.ch", "proton.me", "protonmail.com"),
    "fastmail": ("messagingengine.com", "fastmail.com"),
    "sendgrid": ("sendgrid.net",),
    "mailchimp": ("mcsv.net", "mailchimpapp.net"),
    "mandrill": ("mandrillapp.com",),
    "mailgun": ("mailgun.org",),
    "brevo": ("sendinblue.com", "brevo.com"),
    "zendesk": ("zendesk.com",),
}

# Verification tokens in apex TXT that name a mailbox platform.
_TXT_TOKEN_HINTS: Final[tuple[tuple[str, str], ...]] = (
    ("ms=ms", "m365"),
    ("zoho-verification=", "zoho"),
    ("yandex-verification:", "yandex"),
    ("yandex-verification=", "yandex"),
    ("apple-domain=", "icloud"),
    ("protonmail-verification=", "proton"),
)


@dataclass(frozen=True, slots=True)
class PlannedLookup:
    name: str
    rdtype: str
    purpose: LookupPurpose
    selector: str | None = None


def dmarc_name(domain: str) -> str:
    return f"{DMARC_LABEL}.{domain}"


def dkim_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"


def phase1_lookups(domain: str) -> list[PlannedLookup]:
    """Lookups that need nothing but the domain name."""
    plan = [
        PlannedLookup(domain, "MX", LookupPurpose.MX),
        PlannedLookup(domain, "TXT", LookupPurpose.APEX_TXT),
        PlannedLookup(domain, "A", LookupPurpose.APEX_ADDRESS),
        PlannedLookup(domain, "NS", LookupPurpose.NS),
        PlannedLookup(dmarc_name(domain), "TXT", LookupPurpose.DMARC),
        PlannedLookup(f"{MTA_STS_LABEL}.{domain}", "TXT", LookupPurpose.MTA_STS),
        PlannedLookup(f"{TLS_RPT_LABEL}.{domain}", "TXT", LookupPurpose.TLS_RPT),
        PlannedLookup(f"{BIMI_LABEL}.{domain}", "TXT", LookupPurpose.BIMI),
    ]
    plan += [
        PlannedLookup(f"{label}.{domain}", "A", LookupPurpose.M365_TRACE, label)
        for label in M365_TRACE_LABELS
    ]
    plan.append(
        PlannedLookup(f"{M365_SRV_LABEL}.{domain}", "SRV", LookupPurpose.M365_TRACE, "sipfederationtls")
    )
    plan += [PlannedLookup(dkim_name(s, domain), "TXT", LookupPurpose.DKIM, s) for s in DKIM_ROUND1_SELECTORS]
    return plan


def primary_mx_hosts(mx_answers: Sequence[str], limit: int = MAX_PRIMARY_MX_HOSTS) -> list[str]:
    """Hosts with the lowest preference (no trailing dot), at most ``limit``, sorted.

    A null MX (``0 .``, RFC 7505) or an unparsable record yields no host.
    """
    parsed: list[tuple[int, str]] = []
    for answer in mx_answers:
        parts = answer.split()
        if len(parts) != 2 or not parts[0].isdigit():
            continue
        host = parts[1].rstrip(".").lower()
        if host:
            parsed.append((int(parts[0]), host))
    if not parsed:
        return []
    best = min(pref for pref, _ in parsed)
    return sorted({host for pref, host in parsed if pref == best})[:limit]


def mx_host_lookups(hosts: Iterable[str]) -> list[PlannedLookup]:
    return [
        PlannedLookup(host, rdtype, LookupPurpose.MX_HOST_ADDRESS)
        for host in hosts
        for rdtype in ("A", "AAAA")
    ]


def _matches(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)


def platform_hints(mx_hosts: Iterable[str], apex_txt: Iterable[str], spf_targets: Iterable[str]) -> set[str]:
    """Platforms named by MX host names, SPF include/redirect names and apex TXT tokens."""
    names = [h.rstrip(".").lower() for h in (*mx_hosts, *spf_targets)]
    hints = {
        platform
        for platform, suffixes in PLATFORM_HINTS.items()
        for name in names
        if any(_matches(name, s) for s in suffixes)
    }
    for txt in apex_txt:
        lowered = txt.strip().lower()
        for prefix, platform in _TXT_TOKEN_HINTS:
            if lowered.startswith(prefix):
                hints.add(platform)
    return hints


def dkim_round2_selectors(
    *,
    has_mx: bool | None,
    hints: AbstractSet[str],
    mx_hints: AbstractSet[str] = frozenset(),
    selector1_found: bool = False,
) -> list[str]:
    """Second-round selectors, excluding round 1.

    ``has_mx``: True when MX hosts exist, False when the domain has no MX (definitely), None
    when unknown (the MX lookup failed). ``hints``: platforms named anywhere (MX, SPF, TXT
    tokens); ``mx_hints``: those named by the MX hosts alone — only where the mail actually
    lands decides whether the generic selectors are needed, so a half-migrated domain (an
    ``MS=`` token, mail still on its hosting) still gets them. ``selector1_found``: round 1
    found a record or CNAME at ``selector1`` (Microsoft 365 publishes selector1 and 2 together).
    """
    wanted: list[str] = []
    if selector1_found:
        hints = {*hints, "m365"}
    for platform in sorted(hints):
        wanted += DKIM_PLATFORM_SELECTORS.get(platform, ())
    # A domain without MX receives no mail: only what its senders (SPF) point at is probed.
    if has_mx is not False and not mx_hints & _MAILBOX_PLATFORMS:
        wanted += DKIM_GENERIC_SELECTORS
    done = set(DKIM_ROUND1_SELECTORS)
    return [s for s in dict.fromkeys(wanted) if s not in done]
