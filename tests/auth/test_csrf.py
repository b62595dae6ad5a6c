"""CSRF: cookie-authenticated unsafe requests must echo the session's token; bearer requests need none."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from hunter.imports import sample_path


def test_cookie_post_without_token_is_403_problem(client_for: Callable[..., TestClient]) -> None:
    client = client_for("sales")
    token = client.headers.pop("X-CSRF-Token")
    response = client.post("/api/v1/scans", json={"domain": "example.com"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "CSRF" in response.json()["detail"]
    altered = token[:-1] + ("0" if token[-1] != "0" else "1")
    wrong = client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": altered})
    assert wrong.status_code == 403
    ok = client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 201


def test_form_field_carries_the_token(client_for: Callable[..., TestClient]) -> None:
    client = client_for("sales")
    token = client.headers.pop("X-CSRF-Token")
    path = sample_path("csv")
    with path.open("rb") as fh:
        refused = client.post("/api/v1/imports", files={"file": (path.name, fh)})
    assert refused.status_code == 403
    with path.open("rb") as fh:
        accepted = client.post("/api/v1/imports", files={"file": (path.name, fh)}, data={"csrf_token": token})
    assert accepted.status_code == 201, accepted.text


def test_token_is_per_session(client_for: Callable[..., TestClient]) -> None:
    first = client_for("sales", username="one")
    second = client_for("sales", username="two")
    assert first.headers["X-CSRF-Token"] != second.headers["X-CSRF-Token"]
    stolen = second.headers["X-CSRF-Token"]
    response = first.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": stolen})
    assert response.status_code == 403


def test_bearer_requests_need_no_csrf_token(bearer_client_for: Callable[..., TestClient]) -> None:
    client = bearer_client_for("sales")
    assert "X-CSRF-Token" not in client.headers
    response = client.post("/api/v1/imports/999999/commit", json={})
    assert response.status_code == 404  # got past auth and CSRF to the endpoint itself


def test_safe_methods_need_no_token(client_for: Callable[..., TestClient]) -> None:
    client = client_for("viewer")
    del client.headers["X-CSRF-Token"]
    assert client.get("/api/v1/companies").status_code == 200
