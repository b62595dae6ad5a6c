"""The ``hunter`` command line. Every command that reports results takes ``--json``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from hunter.config import Settings, configuration_warnings, get_settings, settings_report
from hunter.logs import configure_logging, get_logger

app = typer.Typer(
    help="Hunter: lead intelligence for Microsoft cloud partners.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
rdap_app = typer.Typer(help="Registration data (RDAP / WHOIS).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(rdap_app, name="rdap")
users_app = typer.Typer(help="User accounts and roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
ip_app = typer.Typer(help="IP enrichment databases.", no_args_is_help=True)
app.add_typer(ip_app, name="ip")

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, *, as_json: bool = False, code: int = 1, **extra: Any) -> typer.Exit:
    if as_json:
        emit_json({"error": message, **extra})
    else:
        typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


@app.callback()
def _startup(ctx: typer.Context) -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    log = get_logger("hunter")
    for warning in configuration_warnings():
        log.warning(warning)


def _database(settings: Settings, *, upgrade: bool = True) -> Any:
    from hunter.store.db import Database

    db = Database(settings.effective_database_url)
    if upgrade:
        db.upgrade()
    return db


# --- config ------------------------------------------------------------------------------------


@app.command("config")
def config_command(as_json: JsonOption = False) -> None:
    """Print the effective settings (secrets masked) and configuration warnings."""
    settings = get_settings()
    report = settings_report(settings)
    warnings = configuration_warnings()
    if as_json:
        emit_json({"settings": report, "warnings": warnings})
        return
    width = max(len(k) for k in report)
    for key, value in report.items():
        typer.echo(f"{key.ljust(width)}  {value}")
    for warning in warnings:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)


# --- db ----------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOption = False) -> None:
    """Create or migrate the schema to the newest revision."""
    from hunter.store.db import current_revision

    settings = get_settings()
    db = _database(settings, upgrade=False)
    before = current_revision(db.engine)
    db.upgrade()
    after = current_revision(db.engine)
    url = settings_report(settings)["effective_database_url"]
    if as_json:
        emit_json({"database": url, "from": before, "to": after})
    else:
        typer.echo(f"{url}: {before or 'empty'} → {after}")


@db_app.command("current")
def db_current(as_json: JsonOption = False) -> None:
    """Show the schema revision of the database and of this release."""
    from hunter.store.db import current_revision, head_revision

    db = _database(get_settings(), upgrade=False)
    doc = {"current": current_revision(db.engine), "head": head_revision()}
    doc["up_to_date"] = doc["current"] == doc["head"]
    emit_json(doc) if as_json else typer.echo(f"current {doc['current']} · head {doc['head']}")


# --- import ------------------------------------------------------------------------------------


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX or XLS company list.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be imported; write nothing.")
    ] = False,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="Override a column's role: 'WEB SİTESİ=website' (repeatable)."),
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="Worksheet name (XLSX/XLS).")] = None,
    scan: Annotated[bool, typer.Option("--scan/--no-scan", help="Scan the imported domains.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Import a company list: detect the header and columns, normalise and dedupe domains."""
    from hunter.imports import ImportFileError, read_file
    from hunter.services.imports import import_file, parse_mapping

    settings = get_settings()
    if not file.is_file():
        raise fail(f"{file} does not exist or is not a file", as_json=as_json)
    try:
        roles = parse_mapping(mapping)
    except ValueError as exc:
        raise fail(str(exc), as_json=as_json) from None
    try:
        if dry_run:
            result = read_file(file, mapping=roles, sheet=sheet, max_rows=settings.import_max_rows)
            if as_json:
                emit_json(result.to_dry_run_json())
            else:
                _print_import_summary(result, written=None)
            return
        outcome = import_file(_database(settings), file, mapping=roles, sheet=sheet, settings=settings)
    except ImportFileError as exc:
        raise fail(str(exc), as_json=as_json, code=2, reason=exc.code) from None
    if as_json:
        emit_json({**outcome.result.to_dry_run_json(), "written": outcome.to_json()})
    else:
        _print_import_summary(outcome.result, written=outcome.to_json())
    if scan:
        domains = [c.domain for c in outcome.result.companies]
        _run_scan(settings, domains, as_json=as_json)


def _print_import_summary(result: Any, written: dict[str, Any] | None) -> None:
    typer.echo(
        f"format {result.format}, header row {result.mapping.header_row}, {result.total_rows} data rows"
    )
    for column, role in result.mapping.roles.items():
        typer.echo(f"  {column!s:30} → {role}")
    typer.echo(
        f"{len(result.companies)} unique domains, {len(result.rejected)} rejected rows, "
        f"{len(result.duplicates)} duplicated domains"
    )
    for rejected in result.rejected[:50]:
        typer.echo(f"  row {rejected.row}: {rejected.value!r} — {rejected.message}")
    if len(result.rejected) > 50:
        typer.echo(f"  … and {len(result.rejected) - 50} more (use --json for all)")
    if written:
        typer.echo(
            f"written: {written['created']} new, {written['updated']} updated, "
            f"{written['unchanged']} unchanged"
        )


# --- scan --------------------------------------------------------------------------------------


@app.command("scan")
def scan_command(
    targets: Annotated[list[str], typer.Argument(help="Domains, or a CSV/XLSX/XLS file of companies.")],
    store: Annotated[bool, typer.Option("--store/--no-store", help="Save scans to the database.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Scan domains (DNS evidence, registration data, platform classification)."""
    from hunter.core.domains import DomainError, try_normalise_domain

    settings = get_settings()
    domains: list[str] = []
    for target in targets:
        path = Path(target)
        if path.is_file():
            from hunter.imports import ImportFileError, read_file

            try:
                result = read_file(path, max_rows=settings.import_max_rows)
            except ImportFileError as exc:
                raise fail(str(exc), as_json=as_json, code=2, reason=exc.code) from None
            domains.extend(c.domain for c in result.companies)
            continue
        normalised = try_normalise_domain(target)
        if isinstance(normalised, DomainError):
            raise fail(f"{target!r}: {normalised}", as_json=as_json, code=2, reason=normalised.reason)
        domains.append(normalised.ascii)
    _run_scan(settings, list(dict.fromkeys(domains)), as_json=as_json, store=store)


def _run_scan(settings: Settings, domains: list[str], *, as_json: bool, store: bool = True) -> None:
    from hunter.services.scanning import ScanReport, scan_domains

    db = _database(settings) if store else None

    def report(item: ScanReport) -> None:
        if as_json:
            emit_json(item.to_json())
        else:
            typer.echo(item.to_line())

    summary = asyncio.run(scan_domains(settings, domains, db=db, on_result=report))
    if not as_json:
        typer.echo(summary.to_line())


# --- intelligence --------------------------------------------------------------------------------


@app.command("reevaluate")
def reevaluate_command(as_json: JsonOption = False) -> None:
    """Re-score every company from its stored evidence (no rescan), e.g. after a rules change."""
    from hunter.services.evaluation import reevaluate
    from hunter.store.types import utcnow

    summary = reevaluate(_database(get_settings()), utcnow())
    if as_json:
        emit_json(summary.to_json())
        return
    typer.echo(
        f"{summary.companies} companies re-evaluated with rules {summary.rules_version} "
        f"({summary.rate:,.0f}/s, commit {summary.commit_s:.2f}s); "
        f"{summary.changed_priority} changed priority"
    )


@app.command("brief")
def brief_command(
    domain: Annotated[str, typer.Argument(help="A scanned company's domain.")],
    lang: Annotated[str, typer.Option("--lang", help="tr or en.")] = "tr",
    as_json: JsonOption = False,
) -> None:
    """Print the sales brief of a scanned lead."""
    from hunter.core.domains import DomainError, normalise_domain
    from hunter.services.briefs import LeadNotFound, LeadNotScanned, brief_for

    if lang not in ("tr", "en"):
        raise fail("--lang must be tr or en", as_json=as_json)
    try:
        normalised = normalise_domain(domain).ascii
        brief = brief_for(_database(get_settings()), get_settings(), normalised, lang)
    except (DomainError, LeadNotFound, LeadNotScanned) as exc:
        raise fail(str(exc), as_json=as_json) from None
    emit_json(brief.to_dict()) if as_json else typer.echo(brief.to_text())


# --- ip enrichment -----------------------------------------------------------------------------


@ip_app.command("lookup")
def ip_lookup_command(
    ips: Annotated[list[str], typer.Argument(help="IPv4 / IPv6 addresses.")],
    as_json: JsonOption = False,
) -> None:
    """Look addresses up in the configured IP databases: combined facts and each source's answer.

    Uses the HUNTER_GEOIP_* / HUNTER_IP2* paths even while HUNTER_ENRICHMENT_ENABLED is off, so
    the files can be checked before scans use them.
    """
    from hunter.collect.ipintel import IpIntel
    from hunter.services.enrichment import SOURCE_LABELS, enrichment_config, ip_report

    settings = get_settings()
    intel = IpIntel(enrichment_config(settings, enabled=True), check_interval=None)
    problems = [s for s in intel.status() if s.state == "error"]
    for status in problems:
        typer.secho(f"warning: {status.source}: {status.error}", fg=typer.colors.YELLOW, err=True)
    if not any(s.loaded for s in intel.status()):
        typer.secho("warning: no IP database is loaded (see .env.example)", fg=typer.colors.YELLOW, err=True)
    failed = False
    try:
        for ip in ips:
            try:
                doc = ip_report(intel, ip)
            except ValueError:
                failed = True
                if as_json:
                    emit_json({"ip": ip, "error": "not an IP address"})
                else:
                    typer.secho(f"{ip}: not an IP address", fg=typer.colors.RED, err=True)
                continue
            doc.pop("in_process_cache", None)
            doc["enabled"] = settings.enrichment_enabled
            if as_json:
                emit_json(doc)
                continue
            facts = doc["facts"]
            typer.echo(doc["ip"])
            for key in ("country", "region", "city", "asn", "asn_org", "isp", "usage_type"):
                if facts.get(key) is not None:
                    origin = ", ".join(facts["sources"].get(key, []))
                    typer.echo(f"  {key:11} {facts[key]}  [{origin}]")
            if facts.get("is_proxy") is not None:  # IP2Proxy's listing, stated as a fact
                typer.echo(f"  {'ip2proxy':11} is_proxy={facts['is_proxy']} type={facts.get('proxy_type')}")
            if doc["kind"]:
                typer.echo(f"  {'kind':11} {doc['kind']}")
            for source, answer in doc["sources"].items():
                state = "found" if answer.get("found") else "no record"
                if not answer.get("loaded"):
                    state = "not loaded"
                if answer.get("error"):
                    state += f" ({answer['error']})"
                typer.echo(f"  {SOURCE_LABELS[source]:17} {state}")
    finally:
        intel.close()
    if failed:
        raise typer.Exit(2)


# --- rdap --------------------------------------------------------------------------------------


@rdap_app.command("refresh-bootstrap")
def rdap_refresh(
    url: Annotated[
        str, typer.Option(help="IANA RDAP bootstrap document.")
    ] = "https://data.iana.org/rdap/dns.json",
    as_json: JsonOption = False,
) -> None:
    """Download the IANA RDAP bootstrap and keep it in the data dir (overrides the shipped copy)."""
    from hunter.collect.rdap import refresh_bootstrap

    settings = get_settings()
    dest = settings.data_dir / "rdap_bootstrap.json"
    try:
        count = asyncio.run(refresh_bootstrap(url, dest))
    except Exception as exc:
        raise fail(f"could not refresh the RDAP bootstrap from {url}: {exc}", as_json=as_json) from None
    emit_json({"services": count, "path": str(dest)}) if as_json else typer.echo(f"{count} services → {dest}")


# --- users / tokens ----------------------------------------------------------------------------

RoleOption = Annotated[str, typer.Option("--role", help="admin, sales or viewer.")]
UsernameOption = Annotated[str, typer.Option("--username", help="Username (stored lower-case).")]


def _password_input(password: str | None, from_stdin: bool, *, as_json: bool) -> str:
    if from_stdin:
        if password is not None:
            raise fail("give --password or --password-stdin, not both", as_json=as_json, code=2)
        # One line; the trailing newline that `echo` or a pipe adds is not part of the password.
        return sys.stdin.readline().rstrip("\r\n")
    if password is None:
        raise fail("give --password or --password-stdin", as_json=as_json, code=2)
    return password


def _user_json(user: Any) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "active": user.active,
        "created_at": user.created_at.isoformat(),
    }


@users_app.command("create")
def users_create(
    username: UsernameOption,
    role: RoleOption = "viewer",
    password: Annotated[
        str | None,
        typer.Option(help="At least 10 characters. Prefer --password-stdin (not in shell history)."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a user (e.g. the first admin)."""
    from hunter.auth.users import UserError, UserExists, create_user

    secret = _password_input(password, password_stdin, as_json=as_json)
    try:
        with _database(get_settings()).session() as session:
            user = create_user(session, username, secret, role)
            doc = _user_json(user)
    except UserExists as exc:
        raise fail(str(exc), as_json=as_json, code=1, reason="exists") from None
    except (UserError, ValueError) as exc:  # weak password, bad username or role
        raise fail(str(exc), as_json=as_json, code=2, reason="invalid") from None
    emit_json(doc) if as_json else typer.echo(f"created {doc['username']} ({doc['role']})")


@users_app.command("list")
def users_list(as_json: JsonOption = False) -> None:
    """List users with their roles."""
    from hunter.auth.users import list_users

    with _database(get_settings()).session() as session:
        docs = [_user_json(u) for u in list_users(session)]
    if as_json:
        emit_json(docs)
        return
    for doc in docs:
        state = "" if doc["active"] else "  (inactive)"
        typer.echo(f"{doc['id']:>5}  {doc['username']:30} {doc['role']}{state}")


def _update_user(username: str, as_json: bool, **changes: Any) -> None:
    from hunter.auth.users import UserError, require_user, update_user

    try:
        with _database(get_settings()).session() as session:
            user = require_user(session, username)
            changed = update_user(session, user, **changes)
            doc = {**_user_json(user), "changed": changed}
    except (UserError, ValueError) as exc:
        raise fail(str(exc), as_json=as_json, code=2) from None
    emit_json(doc) if as_json else typer.echo(f"{doc['username']}: {', '.join(changed) or 'no change'}")


@users_app.command("set-role")
def users_set_role(username: UsernameOption, role: RoleOption, as_json: JsonOption = False) -> None:
    """Change a user's role (takes effect on their next request)."""
    _update_user(username, as_json, role=role)


@users_app.command("set-password")
def users_set_password(
    username: UsernameOption,
    password: Annotated[str | None, typer.Option(help="At least 10 characters.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Set a new password; the user's web sessions end."""
    _update_user(username, as_json, password=_password_input(password, password_stdin, as_json=as_json))


@users_app.command("deactivate")
def users_deactivate(username: UsernameOption, as_json: JsonOption = False) -> None:
    """Block a user's sign-in and every token of theirs; their web sessions end."""
    _update_user(username, as_json, active=False)


@users_app.command("activate")
def users_activate(username: UsernameOption, as_json: JsonOption = False) -> None:
    """Allow a deactivated user to sign in again (their tokens work again unless revoked)."""
    _update_user(username, as_json, active=True)


@tokens_app.command("create")
def tokens_create(
    username: UsernameOption,
    name: Annotated[str, typer.Option("--name", help="What the token is for; shown in token lists.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="read, write or admin (repeatable). Default: the role's."),
    ] = None,
    expires_days: Annotated[int | None, typer.Option(min=1, max=3650, help="Days until it expires.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token and print it; it is shown this once and only its hash is kept."""
    from datetime import timedelta

    from hunter.auth.roles import parse_scopes
    from hunter.auth.tokens import create_api_token
    from hunter.auth.users import UserError, require_user
    from hunter.store.types import utcnow

    now = utcnow()
    try:
        with _database(get_settings()).session() as session:
            user = require_user(session, username)
            scopes = parse_scopes(scope, user.role)
            expires_at = now + timedelta(days=expires_days) if expires_days else None
            new = create_api_token(session, user, name, scopes, now=now, expires_at=expires_at)
            doc = {
                "token": new.token,
                "id": new.row.id,
                "prefix": new.row.prefix,
                "username": user.username,
                "name": new.row.name,
                "scopes": new.row.scopes,
                "expires_at": expires_at.isoformat() if expires_at else None,
            }
    except (UserError, ValueError, PermissionError) as exc:
        raise fail(str(exc), as_json=as_json, code=2) from None
    if as_json:
        emit_json(doc)
        return
    typer.echo(doc["token"])
    typer.secho("This token is shown once; store it now.", fg=typer.colors.YELLOW, err=True)


@tokens_app.command("list")
def tokens_list(
    username: Annotated[str | None, typer.Option("--username", help="Only this user's tokens.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List API tokens (never the secrets)."""
    from hunter.auth.tokens import list_api_tokens
    from hunter.auth.users import UserError, require_user

    try:
        with _database(get_settings()).session() as session:
            owner = require_user(session, username).id if username else None
            docs = [
                {
                    "id": row.id,
                    "prefix": row.prefix,
                    "username": name,
                    "name": row.name,
                    "scopes": row.scopes,
                    "created_at": row.created_at.isoformat(),
                    "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
                    "expires_at": row.expires_at.isoformat() if row.expires_at else None,
                    "revoked": row.revoked_at is not None,
                }
                for row, name in list_api_tokens(session, owner)
            ]
    except UserError as exc:
        raise fail(str(exc), as_json=as_json, code=2) from None
    if as_json:
        emit_json(docs)
        return
    for doc in docs:
        state = "revoked" if doc["revoked"] else f"expires {doc['expires_at'] or 'never'}"
        typer.echo(f"{doc['id']:>5}  hnt_{doc['prefix']}_…  {doc['username']:20} {doc['name']:20} {state}")


@tokens_app.command("revoke")
def tokens_revoke(
    token: Annotated[str, typer.Argument(help="Token prefix or id (or the token itself).")],
    as_json: JsonOption = False,
) -> None:
    """Revoke an API token; requests with it get 401 from now on."""
    from hunter.auth.tokens import find_api_token, revoke_api_token
    from hunter.store.types import utcnow

    with _database(get_settings()).session() as session:
        row = find_api_token(session, token)
        if row is None:
            raise fail(f"no API token {token!r}", as_json=as_json, code=2)
        revoked = revoke_api_token(session, row, now=utcnow(), actor_id=None)
        doc = {"id": row.id, "prefix": row.prefix, "revoked": True, "already": not revoked}
    emit_json(doc) if as_json else typer.echo(f"revoked hnt_{doc['prefix']}_…")


# --- jobs and workers ----------------------------------------------------------------------------

jobs_app = typer.Typer(
    help="Background jobs: bulk scans, rescans, imports, re-evaluation.", no_args_is_help=True
)
app.add_typer(jobs_app, name="jobs")


def _job_line(doc: dict[str, Any]) -> str:
    outcome = f" ({doc['outcome']})" if doc["outcome"] not in (None, doc["state"]) else ""
    who = f"  by {doc['created_by_username']}" if doc.get("created_by_username") else ""
    return (
        f"{doc['id']:>6}  {doc['kind']:11} {doc['state']:9}{outcome:10} {doc['progress']:5.1f}%  "
        f"done {doc['done']} failed {doc['failed']} skipped {doc['skipped']} of {doc['total']}  "
        f"{doc['created_at']}{who}"
    )


@jobs_app.command("list")
def jobs_list(
    state: Annotated[
        list[str] | None, typer.Option("--state", help="queued, running, done, ... (repeatable)")
    ] = None,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="bulk_scan, rescan, ... (repeatable)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """List jobs, newest first."""
    from hunter.jobs.service import list_jobs

    total, docs = list_jobs(_database(get_settings()), state=state, kind=kind, limit=limit)
    if as_json:
        emit_json({"total": total, "items": docs})
        return
    for doc in docs:
        typer.echo(_job_line(doc))
    typer.echo(f"{len(docs)} of {total} jobs")


@jobs_app.command("show")
def jobs_show(job_id: Annotated[int, typer.Argument(help="Job id.")], as_json: JsonOption = False) -> None:
    """A job's counters, chunks, error samples and progress."""
    from hunter.jobs.service import JobNotFound, job_progress

    try:
        doc = job_progress(_database(get_settings()), job_id)
    except JobNotFound as exc:
        raise fail(str(exc), as_json=as_json, code=2) from None
    if as_json:
        emit_json(doc)
        return
    typer.echo(_job_line(doc))
    chunks = doc["chunks"]
    typer.echo("chunks: " + ", ".join(f"{k} {v}" for k, v in chunks.items() if v))
    for running in doc["running"]:
        typer.echo(f"  chunk {running['seq']} on {running['worker']} (attempt {running['attempts']})")
    for error in doc["errors"][:20]:
        typer.echo(f"  {error.get('item') or '-'}: {error['error']}")


@jobs_app.command("cancel")
def jobs_cancel(job_id: Annotated[int, typer.Argument(help="Job id.")], as_json: JsonOption = False) -> None:
    """Cancel a job: queued chunks are dropped, running ones stop between domains."""
    from hunter.jobs.service import JobNotFound, cancel_job, job_progress

    db = _database(get_settings())
    try:
        requested = cancel_job(db, job_id)
        doc = job_progress(db, job_id)
    except JobNotFound as exc:
        raise fail(str(exc), as_json=as_json, code=2) from None
    doc["cancel_accepted"] = requested
    if as_json:
        emit_json(doc)
    elif requested:
        typer.echo(f"job {job_id}: cancel requested ({doc['state']})")
    else:
        typer.echo(f"job {job_id} had already ended ({doc['state']})")


def _celery_database_ready(settings: Settings) -> None:
    from hunter.store.db import Database, is_up_to_date

    db = Database(settings.effective_database_url)
    try:
        # Many workers may start at once; migrating is `hunter db upgrade`'s job, not theirs.
        if not is_up_to_date(db.engine):
            raise fail("the database schema is out of date; run `hunter db upgrade` first")
    finally:
        db.dispose()


@app.command("worker")
def worker_command(
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-c", min=1, help="Chunks at once (default: CPUs).")
    ] = None,
    pool: Annotated[str, typer.Option(help="prefork, solo or threads.")] = "prefork",
    hostname: Annotated[
        str | None, typer.Option("--hostname", "-n", help="Worker name, e.g. w1@%h (unique per worker).")
    ] = None,
    loglevel: Annotated[
        str | None, typer.Option(help="Celery log level (default: HUNTER_LOG_LEVEL).")
    ] = None,
) -> None:
    """Run a Celery worker for job chunks (HUNTER_BROKER_URL: Redis or RabbitMQ)."""
    settings = get_settings()
    if pool not in ("prefork", "solo", "threads"):
        raise fail("--pool must be prefork, solo or threads", code=2)
    _celery_database_ready(settings)
    if settings.job_runner != "celery":
        get_logger("hunter").warning(
            "HUNTER_JOB_RUNNER is not celery: `hunter serve` also runs chunks inline"
        )
    from hunter.jobs.celery_app import app as celery_app

    argv = ["worker", "--pool", pool, "--loglevel", (loglevel or settings.log_level).upper()]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    if hostname:
        argv += ["--hostname", hostname]
    celery_app.worker_main(argv)


@app.command("beat")
def beat_command(
    schedule_file: Annotated[
        Path | None, typer.Option(help="Where beat keeps its last-run times (default: the data dir).")
    ] = None,
    loglevel: Annotated[
        str | None, typer.Option(help="Celery log level (default: HUNTER_LOG_LEVEL).")
    ] = None,
) -> None:
    """Run the Celery beat scheduler: stale-chunk sweeps, scheduled rescans, alert retries.

    Run exactly one beat per deployment.
    """
    settings = get_settings()
    _celery_database_ready(settings)
    from hunter.jobs.celery_app import app as celery_app

    path = schedule_file or settings.data_dir / "celerybeat-schedule"
    path.parent.mkdir(parents=True, exist_ok=True)
    celery_app.start(
        ["beat", "--schedule", str(path), "--loglevel", (loglevel or settings.log_level).upper()]
    )


# --- sandbox / serve / demo ----------------------------------------------------------------------


@app.command("sandbox")
def sandbox_command(
    dns_port: Annotated[int, typer.Option(help="DNS port (UDP+TCP) on 127.0.0.1.")] = 5354,
    rdap_port: Annotated[int, typer.Option(help="RDAP HTTP port.")] = 8054,
    whois_port: Annotated[int, typer.Option(help="WHOIS TCP port.")] = 4343,
    companies: Annotated[int, typer.Option(help="Synthetic companies besides the sample list.")] = 500,
    seed: Annotated[int, typer.Option(help="World seed (same seed, same world).")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Run the sandbox: authoritative DNS for a synthetic world, RDAP and WHOIS emulators."""
    from hunter.sandbox.runner import Sandbox, sample_world

    world = sample_world(extra=companies, seed=seed)
    sandbox = Sandbox(world, dns_port=dns_port, rdap_port=rdap_port, whois_port=whois_port)
    with sandbox.running() as info:
        if as_json:
            emit_json(info.to_json())
        else:
            typer.echo(info.describe())
            typer.echo("Ctrl+C stops the sandbox.")
        with contextlib.suppress(KeyboardInterrupt):
            sandbox.wait()


@app.command("serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
) -> None:
    """Serve the web UI and the JSON API."""
    import uvicorn

    from hunter.api.app import create_app

    settings = get_settings()
    _database(settings).dispose()
    uvicorn.run(
        create_app(settings, run_jobs=True),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
    )


@app.command("demo")
def demo_command(
    port: Annotated[int, typer.Option(help="Web port.")] = 8000,
    companies: Annotated[int, typer.Option(help="Synthetic companies besides the sample list.")] = 200,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Keep serving the UI afterwards.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Start the sandbox, import the sample list, scan it, and serve the UI on an embedded SQLite."""
    from hunter.services.demo import run_demo

    run_demo(get_settings(), port=port, extra_companies=companies, serve=serve, as_json=as_json)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
