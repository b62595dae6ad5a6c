"""Session cookies (itsdangerous-signed), CSRF tokens, cookie flags and safe redirect targets."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any, Final
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import HTTPConnection
from starlette.responses import Response

from hunter.config import Settings

SESSION_COOKIE: Final = "hunter_session"
LOGIN_COOKIE: Final = "hunter_login"
"""Holds the pre-sign-in CSRF secret of the login form."""
LOGIN_COOKIE_MAX_AGE: Final = 2 * 3600
CSRF_HEADER: Final = "X-CSRF-Token"
CSRF_FIELD: Final = "csrf_token"
LOCAL_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt="hunter.session")


def _mac(settings: Settings, purpose: str, value: str) -> str:
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def encode_session(settings: Settings, user_id: int, session_id: str, nonce: str) -> str:
    return _serializer(settings).dumps({"u": user_id, "s": session_id, "n": nonce})


def decode_session(settings: Settings, value: str) -> tuple[int, str, str] | None:
    """(user id, session id, nonce) of a cookie with a valid signature that has not expired."""
    try:
        data: Any = _serializer(settings).loads(value, max_age=settings.session_lifetime)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(data, dict):
        return None
    user_id, session_id, nonce = data.get("u"), data.get("s"), data.get("n")
    if not isinstance(user_id, int) or not isinstance(session_id, str) or not isinstance(nonce, str):
        return None
    return user_id, session_id, nonce


def csrf_for_session(settings: Settings, session_id: str, nonce: str) -> str:
    """The synchronizer token of one session: derived, so it needs no storage of its own."""
    return _mac(settings, "csrf", f"{session_id}:{nonce}")


def new_login_secret() -> str:
    return secrets.token_urlsafe(24)


def csrf_for_login(settings: Settings, login_secret: str) -> str:
    return _mac(settings, "login-csrf", login_secret)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def cookie_secure(request: HTTPConnection, settings: Settings) -> bool:
    """Secure everywhere except plain-HTTP development on the loopback, unless forced.

    HTTPS counts too: a TLS proxy on the same machine often forwards with ``Host: 127.0.0.1``.
    """
    if settings.session_cookie_secure or request.url.scheme in ("https", "wss"):
        return True
    return (request.url.hostname or "").lower() not in LOCAL_HOSTS


def cookie_path(request: HTTPConnection) -> str:
    # Behind a path prefix the cookie belongs to the prefix, not to the whole host.
    return (request.scope.get("root_path") or "").rstrip("/") + "/"


def set_cookie(
    response: Response, request: HTTPConnection, settings: Settings, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=cookie_path(request),
        secure=cookie_secure(request, settings),
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, request: HTTPConnection, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name,
        path=cookie_path(request),
        secure=cookie_secure(request, settings),
        httponly=True,
        samesite="lax",
    )


def safe_next(value: str | None, default: str = "/") -> str:
    """A same-site relative path to go to after sign-in; anything else becomes ``default``.

    Refused: absolute URLs, scheme-relative ``//host``, backslashes (browsers read ``/\\host`` as
    ``//host``), control characters, and the sign-in/out pages themselves.
    """
    if not value or len(value) > 2000 or not value.startswith("/"):
        return default
    if value.startswith("//") or "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    if parts.path in ("/login", "/logout"):
        return default
    return value
