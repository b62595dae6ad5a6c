"""Who a request acts for: the signed-in user and what the credential allows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hunter.auth.roles import Scope


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """A plain snapshot of the user (not an ORM row), safe to hand to templates after the session."""

    id: int
    username: str
    role: str
    locale: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    user: CurrentUser
    scopes: frozenset[Scope]
    via: Literal["session", "token"]
    credential_id: int
    """The api_tokens row of the API token or of the web session."""
    csrf_token: str | None = None
    """Only for cookie sessions: what unsafe requests must echo back."""

    @property
    def user_id(self) -> int:
        return self.user.id

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes
