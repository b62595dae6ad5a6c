"""Roles and scopes: what each kind of user and each API token may do.

Scopes are what a request is checked against; a role is just the set of scopes its sessions get
and the most its API tokens may carry.

* ``read``  — every GET endpoint (leads, imports, jobs, docs).
* ``write`` — the mutations a sales user makes: imports, scans, tags, notes, pushes.
* ``admin`` — managing users and every user's API tokens.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Role(StrEnum):
    ADMIN = "admin"
    SALES = "sales"
    VIEWER = "viewer"


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


ROLE_SCOPES: Final[dict[Role, frozenset[Scope]]] = {
    Role.VIEWER: frozenset({Scope.READ}),
    Role.SALES: frozenset({Scope.READ, Scope.WRITE}),
    Role.ADMIN: frozenset({Scope.READ, Scope.WRITE, Scope.ADMIN}),
}

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {value!r} (choose one of: {choices})") from None


def role_scopes(role: str) -> frozenset[Scope]:
    """Scopes of a stored role; an unknown role (a hand-edited row) gets nothing."""
    try:
        return ROLE_SCOPES[Role(role)]
    except ValueError:
        return frozenset()


def parse_scopes(values: list[str] | tuple[str, ...] | None, role: str) -> frozenset[Scope]:
    """Requested token scopes, checked against the role; none requested means all of the role's.

    ``write`` and ``admin`` imply ``read``: a token that may change something may also look at it.
    """
    allowed = role_scopes(role)
    if not values:
        return allowed
    wanted: set[Scope] = set()
    for value in values:
        try:
            wanted.add(Scope(value.strip().lower()))
        except ValueError:
            choices = ", ".join(s.value for s in Scope)
            raise ValueError(f"unknown scope {value!r} (choose from: {choices})") from None
    wanted.add(Scope.READ)
    denied = wanted - allowed
    if denied:
        names = ", ".join(sorted(denied))
        raise PermissionError(f"the role {role!r} cannot have the scope(s): {names}")
    return frozenset(wanted)


def required_scope(method: str) -> Scope:
    return Scope.READ if method.upper() in SAFE_METHODS else Scope.WRITE
