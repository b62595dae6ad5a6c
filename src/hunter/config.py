"""Settings: one object, environment prefix ``HUNTER_``, ``.env`` support.

``.env.example`` documents every field here; ``tests/test_config.py`` keeps the two in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "HUNTER_"

# Names people often set without the prefix (copied from other tools' docs); we warn about them
# because silently ignoring DATABASE_URL would point Hunter at the wrong database.
UNPREFIXED_LOOKALIKES = (
    "DATABASE_URL",
    "REDIS_URL",
    "DNS_NAMESERVERS",
    "SECRET_KEY",
    "PARTNER_NAME",
    "RDAP_ENABLED",
    "ENRICHMENT_ENABLED",
    "LOG_LEVEL",
)


def default_data_dir() -> Path:
    return Path(user_data_dir("hunter", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # --- storage -------------------------------------------------------------------------------
    data_dir: Path = Field(default_factory=default_data_dir, description="Where Hunter keeps its files.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Empty: SQLite file hunter.db in the data dir (WAL mode).",
    )

    # --- web -----------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: SecretStr = Field(
        default=SecretStr("change-me"), description="Signs session cookies and CSRF tokens."
    )

    # --- sign-in and sessions ------------------------------------------------------------------
    session_lifetime: int = Field(
        default=12 * 3600, ge=300, le=30 * 86400, description="Seconds a web sign-in lasts."
    )
    session_cookie_secure: bool = Field(
        default=False,
        description="Always mark cookies Secure. Otherwise they are Secure unless the host is loopback.",
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins per username within the window before 429."
    )
    login_max_failures_per_ip: int = Field(
        default=20, ge=1, description="Failed sign-ins per client IP within the window before 429."
    )
    login_failure_window: int = Field(default=300, ge=1, description="Seconds the failure counts look back.")
    metrics_token: SecretStr = Field(
        default=SecretStr(""), description="Bearer token for /metrics. Empty: /metrics answers 404."
    )

    # --- logging -------------------------------------------------------------------------------
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["console", "json"] = "console"

    # --- DNS scanning --------------------------------------------------------------------------
    dns_nameservers: str = Field(
        default="",
        description="Comma-separated ip or ip:port ([v6]:port). Empty: the system resolver.",
    )
    dns_timeout: float = Field(default=2.0, gt=0)
    dns_attempts: int = Field(default=3, ge=1, le=10)
    dns_concurrency: int = Field(default=256, ge=1, le=4096, description="Queries in flight.")
    dns_qps: float | None = Field(default=None, gt=0, description="Global query-rate limit.")
    scan_concurrency: int = Field(default=64, ge=1, le=4096, description="Domains scanned at once.")
    redis_url: str | None = Field(
        default=None, description="Redis for shared rate limits (and Celery in later releases)."
    )

    # --- registration data (RDAP / WHOIS) ------------------------------------------------------
    rdap_enabled: bool = True
    rdap_timeout: float = Field(default=10.0, gt=0)
    rdap_server_interval: float = Field(
        default=0.5, ge=0, description="Minimum seconds between requests to one RDAP/WHOIS server."
    )
    rdap_server_concurrency: int = Field(default=2, ge=1, le=64, description="Requests in flight per server.")
    rdap_servers: str = Field(
        default="", description="Per-TLD RDAP base URL overrides: 'com=https://x/,tr=https://y/'."
    )
    whois_servers: str = Field(default="tr=whois.nic.tr:43", description="Per-TLD port-43 servers.")
    rdap_ca_bundle: str | None = Field(default=None, description="CA file for RDAP HTTPS (sandbox).")

    # --- imports -------------------------------------------------------------------------------
    import_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    import_max_rows: int = Field(default=500_000, ge=1)

    # --- jobs (bulk scans, rescans, imports, re-evaluation) ------------------------------------
    job_runner: Literal["inline", "celery"] = Field(
        default="inline",
        description="inline: asyncio tasks inside `hunter serve`. celery: `hunter worker` processes.",
    )
    broker_url: SecretStr | None = Field(
        default=None,
        description="Celery broker (redis://… or amqp://…). Empty: HUNTER_REDIS_URL, else local Redis.",
    )
    job_chunk_size: int = Field(default=250, ge=1, le=100_000, description="Domains per scan chunk.")
    reevaluate_chunk_size: int = Field(
        default=2000, ge=1, le=1_000_000, description="Companies per re-evaluation chunk."
    )
    job_lease_seconds: float = Field(
        default=120.0,
        ge=1,
        description="A running chunk whose worker has not renewed its lease for this long is retried.",
    )
    job_max_attempts: int = Field(default=3, ge=1, le=100, description="Tries per chunk before it fails.")
    job_inline_concurrency: int = Field(default=2, ge=1, le=64, description="Chunks the inline runner runs.")
    job_poll_interval: float = Field(default=1.0, gt=0, description="Seconds between inline runner polls.")
    job_sweep_interval: float = Field(
        default=30.0, gt=0, description="Seconds between sweeps for stale chunks and unfinished jobs."
    )
    celery_visibility_timeout: int = Field(
        default=3600, ge=10, description="Redis broker: seconds before an unacknowledged task is redelivered."
    )
    rescan_schedule: str = Field(
        default="P1-P3=7d,P4-P6=30d,incomplete=1d",
        description="Maximum scan age per priority; empty turns scheduled rescans off.",
    )
    rescan_interval: float = Field(default=3600.0, gt=0, description="Seconds between checks for rescans.")
    rescan_max_companies: int = Field(default=50_000, ge=1, description="Companies per scheduled rescan job.")

    @field_validator("broker_url", mode="before")
    @classmethod
    def _empty_broker_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    # --- alerts: e-mail (SMTP) and webhook delivery ---------------------------------------------
    smtp_host: str | None = Field(default=None, description="SMTP server for alert e-mail. Empty: no e-mail.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr = Field(default=SecretStr(""))
    smtp_sender: str = "hunter@localhost"
    smtp_timeout: float = Field(default=10.0, gt=0)
    alerts_http_timeout: float = Field(default=10.0, gt=0, description="Seconds per webhook request.")
    alerts_max_attempts: int = Field(default=8, ge=1, le=100, description="Delivery tries before failed.")
    alerts_delivery_interval: float = Field(
        default=60.0, gt=0, description="Seconds between delivery runs of pending alerts."
    )

    # --- product -------------------------------------------------------------------------------
    partner_name: str = "Hunter Partner"

    # --- feature flags (integrations; all off by default) --------------------------------------
    enrichment_enabled: bool = False
    partner_center_enabled: bool = False
    d365_enabled: bool = False

    # --- IP enrichment (HUNTER_ENRICHMENT_ENABLED); every database is optional ------------------
    geoip_city_path: Path | None = Field(default=None, description="GeoLite2 / GeoIP2 City .mmdb file.")
    geoip_country_path: Path | None = Field(default=None, description="GeoLite2 / GeoIP2 Country .mmdb.")
    geoip_asn_path: Path | None = Field(default=None, description="GeoLite2 ASN .mmdb file.")
    ip2location_path: Path | None = Field(default=None, description="IP2Location DBn .BIN file.")
    ip2proxy_path: Path | None = Field(default=None, description="IP2Proxy PXn .BIN file.")
    enrichment_cache_size: int = Field(
        default=100_000, ge=0, description="IP facts kept in memory per process; 0 turns the cache off."
    )
    enrichment_cache_ttl: float = Field(
        default=7 * 86400, gt=0, description="Seconds IP facts stay fresh (memory and the ip_facts table)."
    )

    @field_validator(
        "geoip_city_path",
        "geoip_country_path",
        "geoip_asn_path",
        "ip2location_path",
        "ip2proxy_path",
        mode="before",
    )
    @classmethod
    def _empty_path_is_none(cls, value: Any) -> Any:
        # Path("") would be the working directory, not "no file".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "database_url", "redis_url", "rdap_ca_bundle", "smtp_host", "smtp_username", mode="before"
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'hunter.db'}"


SECRET_FIELDS = frozenset({"secret_key", "database_url", "redis_url"})


def mask_secret(name: str, value: Any) -> Any:
    """Hide passwords and keys; keep enough of a URL that an operator can recognise it."""
    if isinstance(value, SecretStr):
        raw = value.get_secret_value()
        return "" if not raw else "****"
    if name in ("database_url", "redis_url") and isinstance(value, str):
        from sqlalchemy.engine import make_url

        try:
            return make_url(value).render_as_string(hide_password=True)
        except Exception:
            return "****"
    return value


def settings_report(settings: Settings) -> dict[str, Any]:
    """The effective settings, secrets masked, for ``hunter config``."""
    report: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        value = mask_secret(name, value)
        report[name] = str(value) if isinstance(value, Path) else value
    report["effective_database_url"] = mask_secret("database_url", settings.effective_database_url)
    return report


def _dotenv_keys(path: Path) -> list[str]:
    if not path.is_file():
        return []
    keys = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key = line.split("=", 1)[0].strip()
        keys.append(key.removeprefix("export ").strip())
    return keys


def configuration_warnings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> list[str]:
    """Warnings about variables that look meant for Hunter but will be ignored."""
    env = os.environ if environ is None else environ
    names = list(env.keys()) + (_dotenv_keys(dotenv) if dotenv else [])
    known = {f"{ENV_PREFIX}{field}".upper() for field in Settings.model_fields}
    warnings: list[str] = []
    for name in sorted(set(names)):
        upper = name.upper()
        if upper.startswith(ENV_PREFIX) and upper not in known:
            warnings.append(f"Unknown setting {name} is ignored (see .env.example for valid names).")
        elif upper in UNPREFIXED_LOOKALIKES:
            warnings.append(f"{name} is ignored; did you mean {ENV_PREFIX}{upper}?")
    return warnings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
