"""API tokens and web sessions, both kept as hashed rows in ``api_tokens``.

API token: ``hnt_<8-char prefix>_<secret>``. The prefix finds the row (and lets a user recognise a
token in a list); only a SHA-256 hash of the whole token is stored. A fast hash is enough here
because the secret is 256 random bits: nobody can guess it from the hash, however fast they hash,
so a slow password hash (argon2) would only add ~50 ms to every API request and protect nothing.

Web session: a row with the prefix ``s.<12 chars>`` and the scope ``session``; the signed cookie
carries the row's prefix and a random nonce whose hash the row keeps. Keeping sessions as rows
means sign-out, a password change or deactivation ends a session at once, in every process,
and that a leaked ``secret_key`` alone does not let anyone forge one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from hunter.auth.principal import CurrentUser, Principal
from hunter.auth.roles import Scope, role_scopes
from hunter.auth.users import audit, current_user
from hunter.store.db import Database
from hunter.store.models import ApiToken, User

TOKEN_MARKER: Final = "hnt"
PREFIX_LENGTH: Final = 8
_PREFIX_ALPHABET: Final = string.ascii_lowercase + string.digits
SESSION_PREFIX: Final = "s."
SESSION_SCOPE: Final = "session"
SESSION_NAME: Final = "web session"
LAST_USED_RESOLUTION: Final = timedelta(minutes=1)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewToken:
    row: ApiToken
    token: str
    """The only time the plain token exists; show it once."""


def _new_prefix(session: Session) -> str:
    # 36^8 prefixes: a clash is rare, but the column is unique, so look before taking one.
    while True:
        prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
        if session.scalar(select(ApiToken.id).where(ApiToken.prefix == prefix)) is None:
            return prefix


def create_api_token(
    session: Session,
    user: User | CurrentUser,
    name: str,
    scopes: frozenset[Scope],
    *,
    now: datetime,
    expires_at: datetime | None = None,
    actor_id: int | None = None,
) -> NewToken:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("a token name is 1–200 characters")
    if expires_at is not None and expires_at <= now:
        raise ValueError("the expiry must be in the future")
    prefix = _new_prefix(session)
    token = f"{TOKEN_MARKER}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(
        user_id=user.id,
        name=name,
        prefix=prefix,
        token_hash=_digest(token),
        scopes=sorted(s.value for s in scopes),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        "token.create",
        actor_id=actor_id,
        target=user.username,
        token_id=row.id,
        prefix=prefix,
        scopes=row.scopes,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return NewToken(row, token)


def parse_token(token: str) -> str | None:
    """The prefix of a well-formed token, else None (no database lookup for garbage)."""
    head = f"{TOKEN_MARKER}_"
    if not token.startswith(head) or len(token) < len(head) + PREFIX_LENGTH + 21:
        return None
    prefix = token[len(head) : len(head) + PREFIX_LENGTH]
    if token[len(head) + PREFIX_LENGTH] != "_" or any(c not in _PREFIX_ALPHABET for c in prefix):
        return None
    return prefix


def _touch(session: Session, row: ApiToken, now: datetime) -> None:
    # At most one write a minute per credential; the WHERE makes concurrent requests agree.
    if row.last_used_at is not None and now - row.last_used_at < LAST_USED_RESOLUTION:
        return
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == row.id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_RESOLUTION),
        )
        .values(last_used_at=now)
    )


def _usable(row: ApiToken, user: User, now: datetime) -> bool:
    if row.revoked_at is not None or not user.active:
        return False
    return row.expires_at is None or row.expires_at > now


def resolve_api_token(db: Database, token: str, *, now: datetime) -> Principal | None:
    prefix = parse_token(token)
    if prefix is None:
        return None
    with db.session() as session:
        found = session.execute(
            select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.prefix == prefix)
        ).first()
        if found is None:
            return None
        row, user = found
        if SESSION_SCOPE in row.scopes or not hmac.compare_digest(row.token_hash, _digest(token)):
            return None
        if not _usable(row, user, now):
            return None
        _touch(session, row, now)
        # The role caps the token: demoting a user narrows their tokens at once.
        scopes = frozenset(s for s in role_scopes(user.role) if s.value in row.scopes)
        return Principal(user=current_user(user), scopes=scopes, via="token", credential_id=row.id)


def is_session_row(row: ApiToken) -> bool:
    return row.prefix.startswith(SESSION_PREFIX)


def list_api_tokens(session: Session, user_id: int | None = None) -> list[tuple[ApiToken, str]]:
    """API tokens with their owner's username, newest first; ``user_id`` None lists everyone's."""
    query = (
        select(ApiToken, User.username)
        .join(User, User.id == ApiToken.user_id)
        .where(~ApiToken.prefix.startswith(SESSION_PREFIX, autoescape=True))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return [(row, username) for row, username in session.execute(query)]


def get_api_token(session: Session, token_id: int) -> ApiToken | None:
    row = session.get(ApiToken, token_id)
    return None if row is None or is_session_row(row) else row


def find_api_token(session: Session, reference: str) -> ApiToken | None:
    """By prefix (or a whole token, of which only the prefix is read), else by numeric id."""
    value = reference.strip()
    prefix = parse_token(value) or value
    if len(prefix) == PREFIX_LENGTH:
        # Looked up first: a prefix can be all digits and must not be mistaken for an id.
        row = session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).first()
        if row is not None:
            return None if is_session_row(row) else row
    return get_api_token(session, int(value)) if value.isdigit() else None


def revoke_api_token(session: Session, row: ApiToken, *, now: datetime, actor_id: int | None) -> bool:
    """Revoke; False if it already was (revoking twice is not an error)."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now
    owner = session.get(User, row.user_id)
    audit(
        session,
        "token.revoke",
        actor_id=actor_id,
        target=owner.username if owner else None,
        token_id=row.id,
        prefix=row.prefix,
    )
    return True


# --- web sessions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewSession:
    session_id: str
    nonce: str
    expires_at: datetime


def create_session(session: Session, user: CurrentUser, *, now: datetime, lifetime: timedelta) -> NewSession:
    # Sign-ins leave rows behind; drop this user's dead ones so the table stays small.
    session.execute(
        delete(ApiToken).where(
            ApiToken.user_id == user.id,
            ApiToken.prefix.startswith(SESSION_PREFIX, autoescape=True),
            or_(ApiToken.revoked_at.is_not(None), ApiToken.expires_at <= now),
        )
    )
    session_id = SESSION_PREFIX + secrets.token_urlsafe(9)  # 12 characters after the marker
    nonce = secrets.token_urlsafe(32)
    expires_at = now + lifetime
    session.add(
        ApiToken(
            user_id=user.id,
            name=SESSION_NAME,
            prefix=session_id,
            token_hash=_digest(nonce),
            scopes=[SESSION_SCOPE],
            created_at=now,
            last_used_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return NewSession(session_id, nonce, expires_at)


def resolve_session(
    db: Database, user_id: int, session_id: str, nonce: str, *, now: datetime, csrf_token: str
) -> Principal | None:
    if not session_id.startswith(SESSION_PREFIX):
        return None
    with db.session() as session:
        found = session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.prefix == session_id, ApiToken.user_id == user_id)
        ).first()
        if found is None:
            return None
        row, user = found
        if not hmac.compare_digest(row.token_hash, _digest(nonce)) or not _usable(row, user, now):
            return None
        _touch(session, row, now)
        return Principal(
            user=current_user(user),
            scopes=role_scopes(user.role),
            via="session",
            credential_id=row.id,
            csrf_token=csrf_token,
        )


def revoke_session(db: Database, credential_id: int, *, now: datetime) -> None:
    with db.session() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == credential_id, ApiToken.prefix.startswith(SESSION_PREFIX, autoescape=True))
            .values(revoked_at=now)
        )


def revoke_user_sessions(session: Session, user_id: int) -> None:
    session.execute(
        delete(ApiToken).where(
            ApiToken.user_id == user_id, ApiToken.prefix.startswith(SESSION_PREFIX, autoescape=True)
        )
    )
