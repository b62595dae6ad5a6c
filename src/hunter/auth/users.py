"""Accounts: create, change role, deactivate, change password, authenticate; audit rows for each."""

from __future__ import annotations

import re
from typing import Any, Final

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hunter.auth.passwords import (
    burn_verification,
    check_password_policy,
    hash_password,
    verify_password,
)
from hunter.auth.principal import CurrentUser
from hunter.auth.roles import Role, parse_role
from hunter.logs import get_logger
from hunter.store.db import Database
from hunter.store.models import AuditEntry, User

log = get_logger(__name__)

# Lower-case so "Ayse" and "ayse" cannot be two accounts; e-mail addresses are valid usernames.
USERNAME_RE: Final = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,149}$")


class UserError(ValueError):
    """A request about users that cannot be done; the message is safe to show."""


class UserExists(UserError):
    pass


class UserNotFound(UserError):
    pass


class LastAdmin(UserError):
    pass


def normalise_username(value: str) -> str:
    return value.strip().lower()


def validate_username(value: str) -> str:
    name = normalise_username(value)
    if not USERNAME_RE.fullmatch(name):
        raise UserError(
            "a username is 1–150 characters: letters, digits and . _ @ + - (starting with a letter or digit)"
        )
    return name


def audit(session: Session, action: str, *, actor_id: int | None, target: str | None, **details: Any) -> None:
    session.add(AuditEntry(user_id=actor_id, action=action, target=target, details=details))


def current_user(user: User) -> CurrentUser:
    return CurrentUser(id=user.id, username=user.username, role=user.role, locale=user.locale)


def get_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == normalise_username(username))).first()


def require_user(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise UserNotFound(f"there is no user {normalise_username(username)!r}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str | Role,
    *,
    actor_id: int | None = None,
    hasher: PasswordHasher | None = None,
) -> User:
    name = validate_username(username)
    checked_role = parse_role(str(role))
    check_password_policy(password)
    if get_user(session, name) is not None:
        raise UserExists(f"the user {name!r} already exists")
    user = User(username=name, password_hash=hash_password(password, hasher), role=checked_role.value)
    session.add(user)
    session.flush()
    audit(session, "user.create", actor_id=actor_id, target=name, role=checked_role.value)
    return user


def ensure_user(db: Database, username: str, password: str, role: str) -> bool:
    """Create the user unless it exists (then leave it untouched). True if it was created.

    The password must meet the policy (at least 10 characters), even for a demo account.
    """
    with db.session() as session:
        if get_user(session, username) is not None:
            return False
        create_user(session, username, password, role)
    return True


def _other_active_admins(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN.value, User.active.is_(True), User.id != user.id)
        )
        or 0
    )


def update_user(
    session: Session,
    user: User,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    actor_id: int | None = None,
) -> list[str]:
    """Apply the given changes; returns what changed. Signs the user out where it matters."""
    from hunter.auth.tokens import revoke_user_sessions

    changed: list[str] = []
    new_role = parse_role(role).value if role is not None else user.role
    losing_admin = (
        user.role == Role.ADMIN.value and user.active and (new_role != Role.ADMIN.value or active is False)
    )
    if losing_admin and _other_active_admins(session, user) == 0:
        raise LastAdmin("this is the last active admin; make another user admin first")
    if password is not None:
        check_password_policy(password)
    if new_role != user.role:
        audit(session, "user.role", actor_id=actor_id, target=user.username, old=user.role, new=new_role)
        user.role = new_role
        changed.append("role")
    if active is not None and active != user.active:
        user.active = active
        audit(
            session, "user.activate" if active else "user.deactivate", actor_id=actor_id, target=user.username
        )
        changed.append("active")
        if not active:
            revoke_user_sessions(session, user.id)
    if password is not None:
        user.password_hash = hash_password(password)
        audit(session, "user.password", actor_id=actor_id, target=user.username)
        changed.append("password")
        # A new password must end every sign-in made with the old one.
        revoke_user_sessions(session, user.id)
    return changed


def authenticate(
    db: Database, username: str, password: str, *, hasher: PasswordHasher | None = None
) -> CurrentUser | None:
    """The user if the password is right and the account active; upgrades an outdated hash."""
    with db.session() as session:
        user = get_user(session, username)
        if user is None or not user.active:
            burn_verification(password)
            return None
        result = verify_password(user.password_hash, password, hasher)
        if not result.ok:
            return None
        if result.new_hash:
            user.password_hash = result.new_hash
            log.info("password hash upgraded", user=user.username)
        return current_user(user)
