"""The webhook signature scheme: HMAC-SHA256 over "<timestamp>.<body>", with a replay window."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from hunter.alerts.delivery import SmtpConfig, sign_payload, verify_signature

NOW = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
TS = str(int(NOW.timestamp()))
BODY = '{"id":1,"text":{"tr":"Microsoft 365\'e geçti"}}'.encode()
SECRET = "whsec-test"


def test_scheme_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), TS.encode() + b"." + BODY, hashlib.sha256).hexdigest()
    assert sign_payload(SECRET, TS, BODY) == f"sha256={expected}"


def test_valid_signature_verifies_within_tolerance() -> None:
    header = sign_payload(SECRET, TS, BODY)
    assert verify_signature(SECRET, TS, BODY, header, now=NOW)
    assert verify_signature(SECRET, TS, BODY, header, now=NOW + timedelta(seconds=299))
    assert verify_signature(SECRET, TS, BODY, header, now=NOW - timedelta(seconds=299))
    # Several candidates (e.g. during a secret rotation): any one may match.
    assert verify_signature(SECRET, TS, BODY, f"sha256={'0' * 64}, {header}", now=NOW)


def test_tampered_body_wrong_secret_or_moved_timestamp_fail() -> None:
    header = sign_payload(SECRET, TS, BODY)
    assert not verify_signature(SECRET, TS, BODY.replace(b"1", b"2"), header, now=NOW)
    assert not verify_signature(SECRET, TS, BODY + b" ", header, now=NOW)
    assert not verify_signature("other", TS, BODY, header, now=NOW)
    later = str(int(TS) + 1)
    assert not verify_signature(SECRET, later, BODY, header, now=NOW)


def test_replay_outside_tolerance_fails() -> None:
    header = sign_payload(SECRET, TS, BODY)
    assert not verify_signature(SECRET, TS, BODY, header, now=NOW + timedelta(seconds=301))
    assert not verify_signature(SECRET, TS, BODY, header, now=NOW - timedelta(minutes=10))
    assert verify_signature(SECRET, TS, BODY, header, now=NOW + timedelta(minutes=10), tolerance_s=900)


@pytest.mark.parametrize(
    ("timestamp", "header"),
    [("", "sha256=x"), ("12a", "sha256=x"), ("-5", "sha256=x"), (TS, ""), (TS, "md5=abc"), (TS, "garbage")],
)
def test_malformed_input_fails(timestamp: str, header: str) -> None:
    assert not verify_signature(SECRET, timestamp, BODY, header, now=NOW)
    assert not verify_signature("", TS, BODY, sign_payload("", TS, BODY), now=NOW)


def test_smtp_config_refuses_clear_text_passwords_and_double_tls() -> None:
    with pytest.raises(ValueError, match="STARTTLS"):
        SmtpConfig(host="mail.example.com", username="u", password="p")
    with pytest.raises(ValueError, match="not both"):
        SmtpConfig(host="mail.example.com", starttls=True, ssl=True)
    config = SmtpConfig(host="mail.example.com", starttls=True, username="u", password="hunter2-secret")
    assert "hunter2-secret" not in repr(config)
