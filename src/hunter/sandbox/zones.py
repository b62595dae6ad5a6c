"""In-memory zone store behind the sandbox DNS server.

Names are kept as lower-case ASCII presentation text without the trailing dot (IDN labels as
punycode), so lookups are plain dict hits. RRsets are replaced, never mutated in place: the
server thread may be rendering an RRset while a test thread changes the world.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.MX
import dns.rdtypes.ANY.NS
import dns.rdtypes.ANY.SOA
import dns.rdtypes.ANY.TXT
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.rrset
import idna

__all__ = [
    "MAX_CNAME_CHAIN",
    "Fault",
    "LookupResult",
    "ZoneStore",
    "normalize_name",
    "registrable_guess",
]

MAX_CNAME_CHAIN = 8

_IN = dns.rdataclass.IN
_RdataType = dns.rdatatype.RdataType
_CNAME = dns.rdatatype.CNAME
_SOA = dns.rdatatype.SOA
_ANY = dns.rdatatype.ANY
_TXT_TYPES = (dns.rdatatype.TXT, dns.rdatatype.SPF)

# Second-level labels under which registrations happen (".com.tr", ".co.uk", ...).
_SECOND_LEVEL = frozenset(
    {
        *("com", "net", "org", "gen", "biz", "info", "web", "av", "bel", "pol", "k12", "edu"),
        *("gov", "tsk", "co", "ac", "tv", "dr", "bbs", "name", "tel", "mil", "kep", "nc"),
        *("ne", "or", "go", "gob", "ltd", "plc", "sch"),
    }
)


class Fault(StrEnum):
    SERVFAIL = "servfail"
    REFUSED = "refused"
    DROP = "drop"  # never answer: the client sees a timeout
    TRUNCATE = "truncate"  # TC=1 and no records over UDP, so the client must retry over TCP


@dataclass(frozen=True, slots=True)
class LookupResult:
    """What an authoritative server would say; the server only renders it."""

    rcode: int
    answer: tuple[dns.rrset.RRset, ...] = ()
    authority: tuple[dns.rrset.RRset, ...] = ()
    authoritative: bool = True
    fault: Fault | None = None


# Already-normal names (the common case when loading a world) skip the IDNA/dnspython round trip.
_PLAIN_NAME = re.compile(
    r"^(?:(?:[a-z0-9_*](?:[a-z0-9_-]{0,61}[a-z0-9_])?)\.)*[a-z0-9_*](?:[a-z0-9_-]{0,61}[a-z0-9_])?$"
)


def normalize_name(name: str) -> str:
    """Lower-case ASCII presentation form without the trailing dot; IDN labels to punycode."""
    text = name.strip()
    if text.endswith("."):
        text = text[:-1]
    if len(text) <= 253 and _PLAIN_NAME.match(text):
        return text
    if not text:
        raise ValueError("empty DNS name (the root is not supported)")
    if not text.isascii():
        # Per label, so "_dmarc" or "*" next to a Unicode label survive (IDNA rejects them).
        text = ".".join(
            label if label.isascii() else idna.encode(label, uts46=True).decode("ascii")
            for label in text.split(".")
        )
    # Through dnspython so escapes and label-length limits match what the wire parser produces.
    return dns.name.from_text(text, origin=dns.name.root).to_text(omit_final_dot=True).lower()


def _import_registrable() -> Callable[[str], str | None] | None:
    try:
        from hunter.core.domains import registrable_domain  # written in parallel; may be absent
    except Exception:
        return None
    return registrable_domain  # type: ignore[no-any-return]


_registrable_impl = _import_registrable()


def registrable_guess(name: str) -> str | None:
    """Registrable domain of a (normalised) name, used to pick the zone apex automatically.

    Labels up to the last service label ("_dmarc", "_domainkey", "*") are dropped first. A
    public-suffix answer from ``hunter.core.domains`` is preferred, else two labels (three under
    a known second level such as ``com.tr``).
    """
    labels = name.split(".")
    # Everything up to the last service label ("x._domainkey", "_sip._tls") is not the domain.
    for i in range(len(labels) - 1, -1, -1):
        if labels[i].startswith("_") or labels[i] == "*":
            labels = labels[i + 1 :]
            break
    if len(labels) < 2:
        return None
    host = ".".join(labels)
    if _registrable_impl is not None:
        try:
            found = _registrable_impl(host)
        except Exception:
            found = None
        if found:
            return normalize_name(found)
    under_second_level = labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2
    take = 3 if under_second_level else 2
    if len(labels) < take:
        return None
    return ".".join(labels[-take:])


def _to_rdtype(rdtype: str | int) -> int:
    if isinstance(rdtype, int):
        return rdtype
    return int(dns.rdatatype.from_text(rdtype.strip().upper()))


def _parse_rdata(rdtype: int, value: str) -> dns.rdata.Rdata:
    stripped = value.strip()
    if rdtype in _TXT_TYPES and not stripped.startswith('"'):
        # Convenience for callers passing a bare string: one TXT value, split at 255 bytes.
        raw = stripped.encode("utf-8")
        chunks = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
        return dns.rdtypes.ANY.TXT.TXT(_IN, _RdataType.make(rdtype), chunks)
    return _rdata_from_text(rdtype, stripped)


_SIMPLE_TXT = re.compile(r'^"[^"\\]*"(?:\s+"[^"\\]*")*$')
_ABS_NAME = re.compile(r"^(?:[A-Za-z0-9_*-]{1,63}\.)+$|^\.$")


def _fast_name(text: str) -> dns.name.Name | None:
    if not _ABS_NAME.match(text):
        return None
    if text == ".":
        return dns.name.root
    return dns.name.Name([*(label.encode("ascii") for label in text[:-1].split(".")), b""])


def _rdata_from_text(rdtype: int, text: str) -> dns.rdata.Rdata:
    """dnspython's parser, with shortcuts for the plain A/AAAA/MX/NS/CNAME/TXT a world is made of."""
    try:
        if rdtype == dns.rdatatype.A:
            return dns.rdtypes.IN.A.A(_IN, rdtype, text)
        if rdtype == dns.rdatatype.AAAA:
            return dns.rdtypes.IN.AAAA.AAAA(_IN, rdtype, text)
        if rdtype in (dns.rdatatype.CNAME, dns.rdatatype.NS):
            target = _fast_name(text)
            if target is not None:
                cls = dns.rdtypes.ANY.CNAME.CNAME if rdtype == _CNAME else dns.rdtypes.ANY.NS.NS
                return cls(_IN, rdtype, target)
        elif rdtype == dns.rdatatype.MX:
            pref, _, host = text.partition(" ")
            exchange = _fast_name(host.strip())
            if pref.isdigit() and exchange is not None:
                return dns.rdtypes.ANY.MX.MX(_IN, rdtype, int(pref), exchange)
        elif rdtype == dns.rdatatype.TXT and _SIMPLE_TXT.match(text):
            strings = [s.encode("utf-8") for s in re.findall(r'"([^"]*)"', text)]
            if all(len(s) <= 255 for s in strings):
                return dns.rdtypes.ANY.TXT.TXT(_IN, _RdataType.make(rdtype), strings)
    except ValueError:
        pass  # let dnspython produce its usual error
    return dns.rdata.from_text(_IN, _RdataType.make(rdtype), text, origin=dns.name.root, relativize=False)


def _absolute(key: str) -> dns.name.Name:
    if "\\" not in key:
        return dns.name.Name([*(label.encode("ascii") for label in key.split(".")), b""])
    return dns.name.from_text(key, origin=dns.name.root)


def _parents(key: str) -> Iterator[str]:
    """Proper ancestors, nearest first ("a.b.c" -> "b.c", "c")."""
    while True:
        dot = key.find(".")
        if dot < 0:
            return
        key = key[dot + 1 :]
        yield key


class ZoneStore:
    """Authoritative data for the sandbox: zones, RRsets, and scripted faults."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._zones: dict[str, dns.rrset.RRset] = {}  # apex -> synthesised SOA
        self._nodes: dict[str, dict[int, dns.rrset.RRset]] = {}
        self._below: dict[str, int] = {}  # name -> number of nodes strictly below it (ENT test)
        self._faults: dict[tuple[str, int | None], Fault] = {}
        self._subtree_faults: dict[tuple[str, int | None], Fault] = {}
        # Bumped on every change; the server drops its answer cache when it moves.
        self.version = 0

    # ----------------------------------------------------------------- zones
    def add_zone(self, apex: str) -> None:
        key = normalize_name(apex)
        with self._lock:
            if key not in self._zones:
                self._zones[key] = self._make_soa(key)
                self.version += 1

    def remove_zone(self, apex: str) -> None:
        """Forget a zone and every name at or below it (e.g. a domain that expired)."""
        key = normalize_name(apex)
        suffix = "." + key
        with self._lock:
            for name in [n for n in self._nodes if n == key or n.endswith(suffix)]:
                self._drop_node(name)
            for zone in [z for z in self._zones if z == key or z.endswith(suffix)]:
                del self._zones[zone]
            self.version += 1

    @property
    def zones(self) -> list[str]:
        with self._lock:
            return sorted(self._zones)

    def zone_of(self, name: str) -> str | None:
        with self._lock:
            return self._zone_of(normalize_name(name))

    @staticmethod
    def _make_soa(apex: str) -> dns.rrset.RRset:
        owner = _absolute(apex)
        soa = dns.rdtypes.ANY.SOA.SOA(
            _IN,
            _SOA,
            dns.name.Name((b"ns1", *owner.labels)),
            dns.name.Name((b"hostmaster", *owner.labels)),
            2024010101,
            3600,
            600,
            1209600,
            300,  # negative-caching TTL
        )
        rrset = dns.rrset.RRset(owner, _IN, _SOA)
        rrset.add(soa, 3600)
        return rrset

    def _zone_of(self, key: str) -> str | None:
        if key in self._zones:
            return key
        for parent in _parents(key):
            if parent in self._zones:
                return parent
        return None

    def _ensure_zone(self, key: str) -> None:
        guess = registrable_guess(key)
        zone = self._zone_of(key)
        if guess is None:
            if zone is None:
                self._zones[key] = self._make_soa(key)
            return
        # A zone above the registrable domain (e.g. "com.tr") is only there to answer NXDOMAIN.
        if zone is None or (zone != guess and guess.endswith("." + zone)):
            self._zones[guess] = self._make_soa(guess)

    # --------------------------------------------------------------- records
    def add(self, name: str, rdtype: str | int, value: str, ttl: int = 300) -> None:
        """Add one record; ``value`` is presentation-format rdata (absolute names)."""
        key = normalize_name(name)
        rdt = _to_rdtype(rdtype)
        rdata = _parse_rdata(rdt, value)
        with self._lock:
            self._add_rdata(key, rdt, rdata, ttl)
            self.version += 1

    def _add_rdata(self, key: str, rdt: int, rdata: dns.rdata.Rdata, ttl: int) -> None:
        node = self._nodes.get(key)
        if node is None:
            self._ensure_zone(key)
            node = self._nodes[key] = {}
            for parent in _parents(key):
                self._below[parent] = self._below.get(parent, 0) + 1
        # A real zone loader refuses these; refusing here catches world-building mistakes.
        if rdt == _CNAME:
            if any(t != _CNAME for t in node):
                raise ValueError(f"{key}: CNAME cannot coexist with other data")
            old = node.get(_CNAME)
            if old is not None and rdata not in old:
                raise ValueError(f"{key}: a name can have only one CNAME")
        elif _CNAME in node:
            raise ValueError(f"{key}: other data cannot coexist with a CNAME")
        old = node.get(rdt)
        # Copy-on-write: the server thread may be rendering the old RRset right now.
        rrset = dns.rrset.RRset(_absolute(key), _IN, _RdataType.make(rdt)) if old is None else old.copy()
        rrset.add(rdata, ttl)
        node[rdt] = rrset

    def add_text(self, text: str, default_ttl: int = 300) -> None:
        """Load zone-file-like lines: ``name [ttl] [IN] TYPE rdata`` with absolute names.

        ``;`` starts a comment outside quotes, parentheses continue a record over lines, and
        ``$TTL`` changes the default TTL. Everything is parsed before anything is stored.
        """
        records: list[tuple[str, int, dns.rdata.Rdata, int]] = []
        ttl_default = default_ttl
        for lineno, line in _logical_lines(text):
            head = line.split(None, 1)
            if head[0].upper() == "$TTL":
                ttl_default = int(head[1].split()[0])
                continue
            if head[0].startswith("$"):
                raise ValueError(f"line {lineno}: unsupported directive {head[0]}")
            try:
                records.append(_parse_line(line, ttl_default))
            except Exception as exc:
                raise ValueError(f"line {lineno}: {exc} in {line!r}") from exc
        with self._lock:
            for key, rdt, rdata, ttl in records:
                self._add_rdata(key, rdt, rdata, ttl)
            self.version += 1

    def replace(self, name: str, rdtype: str | int, values: list[str], ttl: int | None = None) -> None:
        """Swap an RRset for new values (empty list = remove). Keeps the old TTL unless given."""
        key = normalize_name(name)
        rdt = _to_rdtype(rdtype)
        rdatas = [_parse_rdata(rdt, v) for v in values]
        with self._lock:
            node = self._nodes.get(key)
            old = node.get(rdt) if node else None
            use_ttl = ttl if ttl is not None else (old.ttl if old is not None else 300)
            self._remove(key, rdt)
            for rdata in rdatas:
                self._add_rdata(key, rdt, rdata, use_ttl)
            self.version += 1

    def remove(self, name: str, rdtype: str | int | None = None) -> None:
        key = normalize_name(name)
        rdt = None if rdtype is None else _to_rdtype(rdtype)
        with self._lock:
            self._remove(key, rdt)
            self.version += 1

    def _remove(self, key: str, rdt: int | None) -> None:
        node = self._nodes.get(key)
        if node is None:
            return
        if rdt is not None:
            node.pop(rdt, None)
            if node:
                return
        self._drop_node(key)

    def _drop_node(self, key: str) -> None:
        if self._nodes.pop(key, None) is None:
            return
        for parent in _parents(key):
            left = self._below[parent] - 1
            if left:
                self._below[parent] = left
            else:
                del self._below[parent]

    def records(self) -> Iterator[tuple[str, str, int, str]]:
        """Every stored record as (name, type, ttl, rdata text), sorted; SOAs not included."""
        with self._lock:
            items = [(k, dict(v)) for k, v in self._nodes.items()]
        rows: list[tuple[str, str, int, str]] = []
        for key, node in items:
            for rdt, rrset in node.items():
                type_text = dns.rdatatype.to_text(_RdataType.make(rdt))
                rows.extend((key, type_text, rrset.ttl, rd.to_text()) for rd in rrset)
        yield from sorted(rows)

    def to_text(self) -> str:
        """The store as zone-file lines (reloadable with :meth:`add_text`)."""
        return "".join(f"{n}. {ttl} IN {t} {rd}\n" for n, t, ttl, rd in self.records())

    # ---------------------------------------------------------------- faults
    def set_fault(
        self, name: str, fault: Fault | None, rdtype: str | int | None = None, *, subtree: bool = False
    ) -> None:
        """Script a failure for a name (and optionally one type); ``None`` clears it.

        With ``subtree=True`` the fault also covers every name below ``name`` (a broken domain).
        """
        key = (normalize_name(name), None if rdtype is None else _to_rdtype(rdtype))
        with self._lock:
            table = self._subtree_faults if subtree else self._faults
            if fault is None:
                table.pop(key, None)
            else:
                table[key] = Fault(fault)
            self.version += 1

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._subtree_faults.clear()
            self.version += 1

    def _fault_for(self, key: str, rdt: int) -> Fault | None:
        faults = self._faults
        if faults:
            fault = faults.get((key, rdt)) or faults.get((key, None))
            if fault is not None:
                return fault
        subtree = self._subtree_faults
        if subtree:
            for name in (key, *_parents(key)):
                fault = subtree.get((name, rdt)) or subtree.get((name, None))
                if fault is not None:
                    return fault
        return None

    # ---------------------------------------------------------------- lookup
    def lookup(self, qname: str | dns.name.Name, rdtype: str | int) -> LookupResult:
        if isinstance(qname, dns.name.Name):
            key = qname.to_text(omit_final_dot=True).lower()
        else:
            key = normalize_name(qname)
        return self.lookup_key(key, _to_rdtype(rdtype))

    def lookup_key(self, key: str, rdt: int) -> LookupResult:
        """Lookup for an already normalised name (the server's hot path)."""
        with self._lock:
            fault = self._fault_for(key, rdt)
            if fault is Fault.SERVFAIL:
                return LookupResult(dns.rcode.SERVFAIL, authoritative=False, fault=fault)
            if fault is Fault.REFUSED:
                return LookupResult(dns.rcode.REFUSED, authoritative=False, fault=fault)
            if fault is Fault.DROP:
                return LookupResult(dns.rcode.NOERROR, fault=fault)
            result = self._resolve(key, rdt)
        if fault is Fault.TRUNCATE:
            # The TCP retry must get the real answer, so keep it alongside the fault.
            return LookupResult(result.rcode, result.answer, result.authority, result.authoritative, fault)
        return result

    def _resolve(self, key: str, rdt: int) -> LookupResult:
        zone = self._zone_of(key)
        if zone is None:
            return LookupResult(dns.rcode.REFUSED, authoritative=False)
        answer: list[dns.rrset.RRset] = []
        seen = {key}
        current = key
        for _ in range(MAX_CNAME_CHAIN + 1):
            node = self._node_for(current)
            if node is None:
                return LookupResult(dns.rcode.NXDOMAIN, tuple(answer), (self._soa(zone),))
            found = self._rrsets(current, zone, node, rdt)
            if found:
                answer.extend(found)
                return LookupResult(dns.rcode.NOERROR, tuple(answer))
            cname = node.get(_CNAME)
            if cname is None or rdt == _CNAME:
                return LookupResult(dns.rcode.NOERROR, tuple(answer), (self._soa(zone),))
            answer.append(cname)
            target = cname[0].target.to_text(omit_final_dot=True).lower()
            if target in seen:
                break  # CNAME loop: answer the chain so far, as real servers do
            seen.add(target)
            target_zone = self._zone_of(target)
            if target_zone is None:
                break  # outside our zones: the client follows it itself
            current, zone = target, target_zone
        return LookupResult(dns.rcode.NOERROR, tuple(answer))

    def _node_for(self, key: str) -> dict[int, dns.rrset.RRset] | None:
        """The node at ``key``; ``{}`` for an apex or empty non-terminal; None = NXDOMAIN."""
        node = self._nodes.get(key)
        if node is not None:
            return node
        if key in self._zones or key in self._below:
            return {}
        # Wildcard: the closest existing ancestor may have a "*" child.
        for parent in _parents(key):
            wild = self._nodes.get("*." + parent)
            if wild is not None:
                owner = _absolute(key)
                return {t: _renamed(rr, owner) for t, rr in wild.items()}
            if parent in self._nodes or parent in self._below or parent in self._zones:
                return None
        return None

    def _rrsets(
        self, key: str, zone: str, node: dict[int, dns.rrset.RRset], rdt: int
    ) -> list[dns.rrset.RRset]:
        if rdt == _ANY:
            found = list(node.values())
            if key == zone and _SOA not in node:
                found.insert(0, self._zones[zone])
            return found
        rrset = node.get(rdt)
        if rrset is not None:
            return [rrset]
        if rdt == _SOA and key == zone:
            return [self._zones[zone]]
        return []

    def _soa(self, zone: str) -> dns.rrset.RRset:
        node = self._nodes.get(zone)
        if node is not None and _SOA in node:
            return node[_SOA]
        return self._zones[zone]


def _renamed(rrset: dns.rrset.RRset, owner: dns.name.Name) -> dns.rrset.RRset:
    out = dns.rrset.RRset(owner, rrset.rdclass, rrset.rdtype)
    out.update(rrset)
    out.ttl = rrset.ttl
    return out


# ------------------------------------------------------------------ zone text parsing
def _strip_comment(line: str, depth: int) -> tuple[str, int]:
    """Drop a ';' comment (outside quotes) and track parentheses depth."""
    out = []
    quoted = escaped = False
    for ch in line:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch == ";":
                break
            if ch == "(":
                depth += 1
                out.append(" ")
                continue
            if ch == ")":
                depth -= 1
                out.append(" ")
                continue
        out.append(ch)
    return "".join(out), depth


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    depth = 0
    buf: list[str] = []
    start = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        if depth == 0 and ";" not in raw and "(" not in raw and ")" not in raw:
            line = raw.strip()
            if line:
                yield lineno, line
            continue
        part, depth = _strip_comment(raw, depth)
        if not buf:
            start = lineno
        buf.append(part)
        if depth > 0:
            continue
        line = " ".join(buf).strip()
        buf = []
        depth = 0
        if line:
            yield start, line
    if buf and " ".join(buf).strip():
        raise ValueError(f"line {start}: unbalanced parentheses")


_TTL_RE = re.compile(r"^\d+$")


def _parse_line(line: str, default_ttl: int) -> tuple[str, int, dns.rdata.Rdata, int]:
    parts = line.split(None, 4)
    name = normalize_name(parts[0])
    idx = 1
    ttl = default_ttl
    # "[ttl] [IN]" in either order, as zone files allow.
    for _ in range(2):
        if idx < len(parts) and _TTL_RE.match(parts[idx]):
            ttl = int(parts[idx])
            idx += 1
        elif idx < len(parts) and parts[idx].upper() == "IN":
            idx += 1
    if idx >= len(parts):
        raise ValueError("missing type")
    rdt = _to_rdtype(parts[idx])
    rest = line.split(None, idx + 1)
    if len(rest) <= idx + 1:
        raise ValueError("missing rdata")
    rdata = _rdata_from_text(rdt, rest[idx + 1].strip())
    return name, rdt, rdata, ttl
