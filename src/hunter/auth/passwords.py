"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH: Final = 10
# argon2 hashes any length, but a megabyte "password" per request would be a cheap way to burn CPU.
MAX_PASSWORD_LENGTH: Final = 1024

# argon2-cffi's defaults follow RFC 9106's low-memory profile; when a release raises them, stored
# hashes are upgraded on the next successful sign-in (see verify_password). Looked up at call time,
# so tests may swap in cheaper parameters.
HASHER = PasswordHasher()


class WeakPassword(ValueError):
    """The password does not meet the policy; the message says why."""


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise WeakPassword("the password must not be blank")


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    return (hasher or HASHER).hash(password)


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    new_hash: str | None = None
    """Set when the stored hash used older parameters and should be replaced."""


def verify_password(stored_hash: str, password: str, hasher: PasswordHasher | None = None) -> Verification:
    hasher = hasher or HASHER
    if len(password) > MAX_PASSWORD_LENGTH:
        return Verification(False)
    try:
        hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return Verification(False)
    if hasher.check_needs_rehash(stored_hash):
        return Verification(True, hasher.hash(password))
    return Verification(True)


@lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    return hasher.hash("not-a-real-password-used-for-timing")


def burn_verification(password: str) -> None:
    """Spend what a real check costs, so an unknown username answers as slowly as a known one."""
    verify_password(_dummy_hash(HASHER.time_cost, HASHER.memory_cost, HASHER.parallelism), password)
