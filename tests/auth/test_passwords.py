"""argon2 hashing, the password policy, and upgrading outdated hashes on sign-in."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from hunter.auth import passwords
from hunter.auth.passwords import (
    WeakPassword,
    check_password_policy,
    hash_password,
    verify_password,
)
from hunter.auth.testing import DEFAULT_PASSWORD, sign_in
from hunter.auth.users import authenticate, create_user, get_user
from hunter.store.db import Database

OLD = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
NEW = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)


def test_hash_and_verify() -> None:
    stored = hash_password("a long passphrase", NEW)
    assert stored.startswith("$argon2id$")
    assert "a long passphrase" not in stored
    assert hash_password("a long passphrase", NEW) != stored  # salted
    assert verify_password(stored, "a long passphrase", NEW).ok
    assert not verify_password(stored, "a long passphrasE", NEW).ok
    assert not verify_password("not a hash", "whatever", NEW).ok
    assert not verify_password(stored, "x" * 5000, NEW).ok  # refused before hashing


def test_rehash_when_parameters_change() -> None:
    stored = hash_password("a long passphrase", OLD)
    result = verify_password(stored, "a long passphrase", NEW)
    assert result.ok
    assert result.new_hash is not None
    assert "m=16,t=2,p=1" in result.new_hash
    assert verify_password(result.new_hash, "a long passphrase", NEW).new_hash is None
    assert verify_password(stored, "wrong", NEW).new_hash is None


def test_the_default_hasher_is_argon2id_with_library_defaults() -> None:
    default = PasswordHasher()
    assert passwords.HASHER.type.name == "ID"
    assert (passwords.HASHER.time_cost, passwords.HASHER.memory_cost) != (0, 0)
    assert default.memory_cost >= 19 * 1024  # RFC 9106 / OWASP floor


@pytest.mark.parametrize("bad", ["", "short", "nine char", " " * 12, "x" * 1025])
def test_policy_refuses(bad: str) -> None:
    with pytest.raises(WeakPassword):
        check_password_policy(bad)


def test_policy_accepts_ten_characters() -> None:
    check_password_policy("ten chars!")


def test_authenticate_upgrades_an_outdated_hash(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session() as session:
        create_user(session, "Ayse", "a long passphrase", "sales", hasher=OLD)
    monkeypatch.setattr(passwords, "HASHER", NEW)
    assert authenticate(db, "ayse", "wrong password") is None
    with db.session() as session:
        assert "m=8,t=1" in get_user(session, "ayse").password_hash  # type: ignore[union-attr]
    user = authenticate(db, "AYSE", "a long passphrase")
    assert user is not None
    assert (user.username, user.role) == ("ayse", "sales")
    with db.session() as session:
        stored = get_user(session, "ayse").password_hash  # type: ignore[union-attr]
    assert "m=16,t=2" in stored
    assert verify_password(stored, "a long passphrase", NEW).ok


def test_sign_in_form_upgrades_the_hash(
    db: Database, anon_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.session() as session:
        create_user(session, "mehmet", DEFAULT_PASSWORD, "viewer", hasher=OLD)
    monkeypatch.setattr(passwords, "HASHER", NEW)
    sign_in(anon_client, "mehmet")
    with db.session() as session:
        assert "m=16,t=2" in get_user(session, "mehmet").password_hash  # type: ignore[union-attr]


def test_inactive_and_unknown_users_do_not_authenticate(db: Database) -> None:
    with db.session() as session:
        user = create_user(session, "gone", "a long passphrase", "viewer")
        user.active = False
    assert authenticate(db, "gone", "a long passphrase") is None
    assert authenticate(db, "nobody", "a long passphrase") is None
