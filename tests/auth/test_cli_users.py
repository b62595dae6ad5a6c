"""`hunter users ...` and `hunter tokens ...` against both databases."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import select
from typer.testing import Result

from hunter.auth.passwords import verify_password
from hunter.auth.users import authenticate, ensure_user, get_user
from hunter.config import get_settings
from hunter.store.db import Database
from hunter.store.models import AuditEntry

Cli = Callable[..., Result]


@pytest.fixture(autouse=True)
def _cli_uses_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUNTER_DATABASE_URL", db.url)
    get_settings.cache_clear()


def test_create_first_admin_as_json(db: Database, run_cli: Cli) -> None:
    result = run_cli(
        "users",
        "create",
        "--username",
        "Admin",
        "--password",
        "a long passphrase",
        "--role",
        "admin",
        "--json",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["username"], doc["role"], doc["active"]) == ("admin", "admin", True)
    assert "passphrase" not in result.stdout
    with db.session() as session:
        user = get_user(session, "admin")
        assert user is not None
        assert verify_password(user.password_hash, "a long passphrase").ok
        assert session.scalars(select(AuditEntry.action)).all() == ["user.create"]


def test_weak_password_is_refused_with_a_clear_message(db: Database, run_cli: Cli) -> None:
    result = run_cli("users", "create", "--username", "admin", "--password", "short", "--role", "admin")
    assert result.exit_code == 2
    assert "at least 10 characters" in result.output
    as_json = run_cli("users", "create", "--username", "admin", "--password", "short", "--json")
    assert json.loads(as_json.stdout)["error"] == "the password must have at least 10 characters"
    with db.session() as session:
        assert get_user(session, "admin") is None


def test_duplicate_user_is_refused(run_cli: Cli) -> None:
    args = ("users", "create", "--username", "ayse", "--password", "a long passphrase")
    assert run_cli(*args).exit_code == 0
    again = run_cli(*args, "--json")
    assert again.exit_code == 1
    assert json.loads(again.stdout) == {"error": "the user 'ayse' already exists", "reason": "exists"}
    assert run_cli("users", "create", "--username", "AYSE", "--password", "a long passphrase").exit_code == 1


def test_password_from_stdin(db: Database, run_cli: Cli) -> None:
    result = run_cli(
        "users",
        "create",
        "--username",
        "ops",
        "--password-stdin",
        "--role",
        "sales",
        input="from stdin 123\n",
    )
    assert result.exit_code == 0, result.output
    assert authenticate(db, "ops", "from stdin 123") is not None
    both = run_cli(
        "users", "create", "--username", "x", "--password", "p" * 12, "--password-stdin", input="y\n"
    )
    assert both.exit_code == 2
    neither = run_cli("users", "create", "--username", "x")
    assert neither.exit_code == 2
    assert "--password" in neither.output


def test_unknown_role_and_bad_username(run_cli: Cli) -> None:
    role = run_cli("users", "create", "--username", "x", "--password", "a long passphrase", "--role", "boss")
    assert role.exit_code == 2
    assert "unknown role" in role.output
    name = run_cli("users", "create", "--username", "bad name", "--password", "a long passphrase")
    assert name.exit_code == 2


def test_list_set_role_set_password(db: Database, run_cli: Cli) -> None:
    for name, role in (("zeynep", "admin"), ("ali", "viewer")):
        assert (
            run_cli(
                "users", "create", "--username", name, "--password", "a long passphrase", "--role", role
            ).exit_code
            == 0
        )
    listed = json.loads(run_cli("users", "list", "--json").stdout)
    assert [(u["username"], u["role"]) for u in listed] == [("ali", "viewer"), ("zeynep", "admin")]
    changed = run_cli("users", "set-role", "--username", "ali", "--role", "sales", "--json")
    assert json.loads(changed.stdout)["changed"] == ["role"]
    last_admin = run_cli("users", "set-role", "--username", "zeynep", "--role", "viewer")
    assert last_admin.exit_code == 2
    assert "last active admin" in last_admin.output
    assert (
        run_cli("users", "set-password", "--username", "ali", "--password", "another passphrase").exit_code
        == 0
    )
    assert authenticate(db, "ali", "another passphrase") is not None
    assert run_cli("users", "set-role", "--username", "nobody", "--role", "sales").exit_code == 2


def test_token_scopes_are_limited_by_role(run_cli: Cli) -> None:
    run_cli("users", "create", "--username", "ali", "--password", "a long passphrase", "--role", "viewer")
    refused = run_cli("tokens", "create", "--username", "ali", "--name", "n", "--scope", "write", "--json")
    assert refused.exit_code == 2
    assert "cannot have" in json.loads(refused.stdout)["error"]
    made = run_cli("tokens", "create", "--username", "ali", "--name", "n", "--expires-days", "7")
    assert made.exit_code == 0
    assert made.stdout.startswith("hnt_")
    assert "shown once" in made.stderr
    listed = json.loads(run_cli("tokens", "list", "--username", "ali", "--json").stdout)
    assert [t["prefix"] for t in listed] == [made.stdout.strip()[4:12]]
    revoked = json.loads(run_cli("tokens", "revoke", str(listed[0]["id"]), "--json").stdout)
    assert (revoked["revoked"], revoked["already"]) == (True, False)
    again = json.loads(run_cli("tokens", "revoke", made.stdout.strip(), "--json").stdout)
    assert again["already"] is True
    assert run_cli("tokens", "revoke", "zzzzzzzz").exit_code == 2


def test_ensure_user_for_the_demo(db: Database) -> None:
    assert ensure_user(db, "demo", "demo-password", "admin") is True
    assert ensure_user(db, "demo", "another-password", "viewer") is False  # left as it was
    user = authenticate(db, "demo", "demo-password")
    assert user is not None
    assert user.role == "admin"
