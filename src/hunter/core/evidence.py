"""Typed evidence records: what the collectors saw, with a status for every lookup.

Evidence is the boundary between I/O (``hunter.collect``) and judgement (``hunter.core``).
It is stored as JSON per scan, so re-evaluating a company never needs a rescan.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class LookupStatus(StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    SERVFAIL = "servfail"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    ERROR = "error"

    @property
    def is_answer(self) -> bool:
        """True when the DNS gave a definite answer (records, or a definite 'there are none')."""
        return self in (LookupStatus.OK, LookupStatus.NXDOMAIN, LookupStatus.NODATA)

    @property
    def is_failure(self) -> bool:
        """Unknown is not absent: a failure says nothing about whether records exist."""
        return not self.is_answer


class LookupPurpose(StrEnum):
    """Why a lookup was made; lets the core find lookups without re-deriving names."""

    MX = "mx"
    MX_HOST_ADDRESS = "mx_host_address"
    APEX_TXT = "apex_txt"
    APEX_ADDRESS = "apex_address"
    SPF_INCLUDE = "spf_include"
    DMARC = "dmarc"
    DMARC_ORG = "dmarc_org"
    DKIM = "dkim"
    M365_TRACE = "m365_trace"
    NS = "ns"
    MTA_STS = "mta_sts"
    TLS_RPT = "tls_rpt"
    BIMI = "bimi"


class Lookup(BaseModel):
    """One DNS question and what came back.

    ``answers`` hold rdata in presentation form as returned for the final name of the CNAME
    chain: MX as ``"10 mx.example.com."``, TXT with its character-strings joined (no quotes),
    A/AAAA as addresses, NS/CNAME as names with a trailing dot, SRV as ``"prio weight port target."``.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    rdtype: str
    purpose: LookupPurpose
    status: LookupStatus
    answers: list[str] = Field(default_factory=list)
    cnames: list[str] = Field(default_factory=list)
    """CNAME chain followed from ``name`` (targets in order, no trailing dot)."""
    selector: str | None = None
    """DKIM selector for DKIM lookups; trace label for M365 trace lookups."""
    error: str | None = None
    attempts: int = 1
    elapsed_ms: float = 0.0


class RdapStatus(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    UNSUPPORTED = "unsupported"
    ERROR = "error"
    DISABLED = "disabled"


class RegistrationInfo(BaseModel):
    """Registration data from RDAP or port-43 WHOIS."""

    model_config = ConfigDict(frozen=True)

    source: str  # "rdap" | "whois"
    server: str | None = None
    status: RdapStatus
    registrar: str | None = None
    created: datetime | None = None
    expires: datetime | None = None
    updated: datetime | None = None
    domain_status: list[str] = Field(default_factory=list)
    nameservers: list[str] = Field(default_factory=list)
    error: str | None = None
    fetched_at: datetime | None = None


class Evidence(BaseModel):
    """Everything collected for one domain in one scan."""

    model_config = ConfigDict(frozen=True)

    domain: str
    """Registrable domain, ASCII (punycode)."""
    collected_at: datetime
    lookups: list[Lookup] = Field(default_factory=list)
    spf_lookup_count: int = 0
    """DNS-mechanism lookups the SPF tree needed (RFC 7208 §4.6.4 limit: 10)."""
    spf_void_lookups: int = 0
    """SPF lookups that returned NXDOMAIN/NODATA (RFC 7208 §4.6.4 limit: 2)."""
    spf_errors: list[str] = Field(default_factory=list)
    """What stopped or broke the SPF tree walk: include loops, the walk stopped past 10 lookups,
    include targets without exactly one SPF record (English sentences, for display)."""
    dmarc_domain: str | None = None
    """Domain the DMARC record came from (the domain itself or its organisational domain)."""
    registration: RegistrationInfo | None = None
    duration_ms: float = 0.0

    def find(self, purpose: LookupPurpose, name: str | None = None) -> list[Lookup]:
        return [lk for lk in self.lookups if lk.purpose == purpose and (name is None or lk.name == name)]

    def first(self, purpose: LookupPurpose, name: str | None = None) -> Lookup | None:
        for lk in self.lookups:
            if lk.purpose == purpose and (name is None or lk.name == name):
                return lk
        return None
