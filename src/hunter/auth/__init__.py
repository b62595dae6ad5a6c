"""Users, roles, sessions, API tokens and the request authentication/authorisation around them.

Modules: ``roles`` (roles → scopes), ``passwords`` (argon2), ``users`` (accounts, audit),
``tokens`` (API tokens and session rows), ``sessions`` (cookies, CSRF, safe redirects),
``ratelimit`` (sign-in throttling), ``middleware`` and ``dependencies`` (the FastAPI wiring).
"""

from hunter.auth.principal import CurrentUser, Principal
from hunter.auth.roles import Role, Scope
from hunter.auth.users import ensure_user

__all__ = ["CurrentUser", "Principal", "Role", "Scope", "ensure_user"]
