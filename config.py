"""Settings, read from RECTIFLOW_* environment variables with embedded defaults.

The defaults run the embedded mode: a SQLite file under ./instance, the timer scheduler in
process. Pointing RECTIFLOW_DATABASE_URL at PostgreSQL is the only change the scaled mode needs.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

MIN_AUDIT_RETENTION_DAYS = 180  # GB/T 22239 level 3: audit records are kept at least this long
# The prefix of each kind of document's number, until RECTIFLOW_DOCUMENT_PREFIX_<KIND> says otherwise.
DOCUMENT_PREFIXES = {"recommendation_letter": "光巡建", "tracking_letter": "光巡督", "report": "光巡报",
                     "talk_record": "光巡谈"}


class SettingsError(ValueError):
    """A setting is missing or out of range; the message names the variable."""


def _env(name: str, default: str) -> str:
    return os.environ.get(f"RECTIFLOW_{name}", default)


def _int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"RECTIFLOW_{name} must be an integer, got {raw!r}") from exc


def _bool(name: str, default: bool) -> bool:
    raw = _env(name, "1" if default else "0").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"RECTIFLOW_{name} must be on or off (1/0, true/false, yes/no), got {raw!r}")


def _rate(name: str, value: str) -> None:
    """A rate limit as the limits library reads it ("10 per minute", "5/minute; 100/day"); empty: none."""
    if not value.strip():
        return
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise SettingsError(f"RECTIFLOW_{name} must be a rate such as '10 per minute' (or empty for none), "
                            f"got {value!r}") from None


def _key(instance_dir: Path, name: str) -> str:
    """An explicit RECTIFLOW_<NAME> wins; otherwise the file `rectiflow init-db` wrote into the
    instance folder. The secret key signs sessions; the audit key seals the audit log's chain and
    is never the signing key."""
    explicit = os.environ.get(f"RECTIFLOW_{name.upper()}")
    if explicit:
        return explicit
    path = instance_dir / name
    return path.read_text().strip() if path.exists() else ""


def _write_key(instance_dir: Path, name: str) -> bool:
    path = instance_dir / name
    if os.environ.get(f"RECTIFLOW_{name.upper()}") or path.exists():
        return False
    instance_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(secrets.token_urlsafe(48))
    path.chmod(0o600)
    return True


def write_secret_key(instance_dir: Path) -> bool:
    """Generate the instance's signing key once (by `rectiflow init-db`); True when one was written."""
    return _write_key(instance_dir, "secret_key")


def write_audit_key(instance_dir: Path) -> bool:
    """Generate the audit log's key once (by `rectiflow init-db`, beside the signing key); True when
    one was written."""
    return _write_key(instance_dir, "audit_key")


@dataclass
class Settings:
    instance_dir: Path = field(default_factory=lambda: Path(_env("INSTANCE_DIR", "instance")).resolve())
    database_url: str = ""
    secret_key: str = ""
    audit_key: str = ""
    demo_password: str = field(default_factory=lambda: _env("DEMO_PASSWORD", "rectiflow-demo"))
    # The mechanism's deadlines: days to file after a list is published, and the warning points.
    deadline_days: int = field(default_factory=lambda: _int("DEADLINE_DAYS", 60))
    green_days: int = field(default_factory=lambda: _int("GREEN_DAYS", 20))
    yellow_days: int = field(default_factory=lambda: _int("YELLOW_DAYS", 10))
    # The second step of the ladder: days after the deadline when a still-late unit's head is talked to.
    talk_days: int = field(default_factory=lambda: _int("TALK_DAYS", 10))
    # Days a unit has to answer a tracking letter (督办函) when the office does not set them on the letter.
    reply_days: int = field(default_factory=lambda: _int("REPLY_DAYS", 5))
    # Days a unit has for a follow-up re-check (回头看) of a closed case.
    recheck_days: int = field(default_factory=lambda: _int("RECHECK_DAYS", 30))
    # Days before a measure's own deadline (one due after its case closed) that the unit is asked to
    # report it done with evidence.
    measure_notice_days: int = field(default_factory=lambda: _int("MEASURE_NOTICE_DAYS", 7))
    # The most days one extension request (延期申请) may ask for.
    extension_max_days: int = field(default_factory=lambda: _int("EXTENSION_MAX_DAYS", 60))
    # Days a department has to plan its special governance after a recommendation letter.
    plan_days: int = field(default_factory=lambda: _int("PLAN_DAYS", 30))
    # The documents the office issues (巡察建议书, 督办函, 整改报告, 谈话提醒记录): the issuing body at the
    # head of each, and per kind the prefix of its number (光巡建〔2026〕3号).
    document_issuer: str = field(default_factory=lambda: _env(
        "DOCUMENT_ISSUER", "中共深圳市光明区委巡察工作领导小组办公室"))
    document_prefixes: dict[str, str] = field(default_factory=lambda: {
        kind: _env(f"DOCUMENT_PREFIX_{kind.upper()}", default) for kind, default in DOCUMENT_PREFIXES.items()})
    timezone: str = field(default_factory=lambda: _env("TIMEZONE", "Asia/Shanghai"))
    token_hours: int = field(default_factory=lambda: _int("TOKEN_HOURS", 12))
    max_upload_mb: int = field(default_factory=lambda: _int("MAX_UPLOAD_MB", 20))
    max_bpmn_kb: int = field(default_factory=lambda: _int("MAX_BPMN_KB", 2048))
    timer_interval: int = field(default_factory=lambda: _int("TIMER_INTERVAL", 30))
    # Whether `rectiflow run` itself sweeps the timers and runs the background jobs (the embedded
    # mode). Off in the scaled mode when `rectiflow sweep` worker processes do it instead.
    app_sweeps: bool = field(default_factory=lambda: _bool("APP_SWEEPS", True))
    # A list's publication opens the units' cases in the background, this many units per committed
    # transaction; a job whose runner has not reported for job_stale_seconds is taken over. Each chunk
    # pays a few reads and two real SpiffWorkflow runs (the derivation's check) whatever its size, and
    # its starts share one script account (`workflows.scripting.CALL_SECONDS`), of which 500 derived
    # starts spend about a tenth; 500 rows of ~20 KB states keep a worker's memory small.
    publication_chunk: int = field(default_factory=lambda: _int("PUBLICATION_CHUNK", 500))
    job_stale_seconds: int = field(default_factory=lambda: _int("JOB_STALE_SECONDS", 300))
    # Empty: jobs run in a thread of the service (embedded mode). redis://host:6379/0: they are
    # queued for Celery workers (`celery -A service.celery_app worker`).
    broker_url: str = field(default_factory=lambda: _env("BROKER_URL", ""))
    # On start, bring the database's schema up to this release (service/schema.py). The scaled mode
    # runs `rectiflow db upgrade` once and starts its app servers and workers with this off: then a
    # process that finds the schema behind stops, naming the command, instead of changing it under
    # the others. `rectiflow init-db` and `rectiflow db upgrade` upgrade whatever it says.
    schema_upgrade: bool = field(default_factory=lambda: _bool("SCHEMA_UPGRADE", True))
    # A failing timer step is tried again after 1, 2, 4, ... minutes this many times, then waits for the office.
    timer_retries: int = field(default_factory=lambda: _int("TIMER_RETRIES", 5))
    # An instance whose open task or timer is this many hours past due is listed on the operators'
    # page as waiting longer than expected.
    stuck_hours: int = field(default_factory=lambda: _int("STUCK_HOURS", 24))
    login_attempts: int = field(default_factory=lambda: _int("LOGIN_ATTEMPTS", 5))
    lockout_minutes: int = field(default_factory=lambda: _int("LOCKOUT_MINUTES", 15))
    # Accounts holding a role in access.TOTP_REQUIRED_ROLES must enrol a second factor (a TOTP
    # authenticator) before they can do anything else.
    totp_required: bool = field(default_factory=lambda: _bool("TOTP_REQUIRED", False))
    # Rate limits (service/limits.py), each a rate such as "10 per minute" or "5/minute; 100/day",
    # empty for none. Login and token requests count per client address and per username tried;
    # password changes (and second-factor confirmations) and evidence uploads per account; requests
    # to the public (no login) endpoints per address; every API request per address.
    rate_limit_login: str = field(default_factory=lambda: _env("RATE_LIMIT_LOGIN", "10 per minute"))
    rate_limit_credential: str = field(default_factory=lambda: _env("RATE_LIMIT_CREDENTIAL", "5 per minute"))
    rate_limit_upload: str = field(default_factory=lambda: _env("RATE_LIMIT_UPLOAD", "60 per minute"))
    rate_limit_public: str = field(default_factory=lambda: _env("RATE_LIMIT_PUBLIC", "20 per minute"))
    rate_limit_api: str = field(default_factory=lambda: _env("RATE_LIMIT_API", "600 per minute"))
    # Looking up one tracking code (and rating by it), per code, whichever address asks.
    rate_limit_public_code: str = field(default_factory=lambda: _env("RATE_LIMIT_PUBLIC_CODE", "10 per minute"))
    # Residents' reports: after this many from one address within an hour, each further one needs a
    # sum worked out (a challenge made here); photos per report and the size of each.
    resident_challenge_after: int = field(default_factory=lambda: _int("RESIDENT_CHALLENGE_AFTER", 3))
    resident_photos: int = field(default_factory=lambda: _int("RESIDENT_PHOTOS", 3))
    resident_photo_mb: int = field(default_factory=lambda: _int("RESIDENT_PHOTO_MB", 8))
    # Where the counts are kept: memory:// within one process (`rectiflow run`); redis://host:6379
    # when several processes serve the same installation.
    rate_limit_storage: str = field(default_factory=lambda: _env("RATE_LIMIT_STORAGE", "memory://"))
    # How many reverse proxies (nginx) stand in front: their X-Forwarded-For and X-Forwarded-Proto
    # then name the client's address and scheme. 0: the service is reached directly.
    trusted_proxies: int = field(default_factory=lambda: _int("TRUSTED_PROXIES", 0))
    # Session cookies are Secure whenever the request came over https; 1 makes them Secure always.
    secure_cookies: bool = field(default_factory=lambda: _bool("SECURE_COOKIES", False))
    # A page session unused for this long ends; the next click goes to the login page.
    session_idle_minutes: int = field(default_factory=lambda: _int("SESSION_IDLE_MINUTES", 30))
    # Days the audit log keeps an entry before `rectiflow audit prune` may remove it (GB/T 22239: at least 180).
    audit_retention_days: int = field(default_factory=lambda: _int("AUDIT_RETENTION_DAYS", 180))
    evidence_types: tuple[str, ...] = field(default_factory=lambda: tuple(
        _env("EVIDENCE_TYPES", "pdf,jpg,jpeg,png,doc,docx,xls,xlsx,txt,zip,ofd").split(",")))

    def __post_init__(self) -> None:
        if not self.database_url:
            self.database_url = _env("DATABASE_URL", f"sqlite:///{self.instance_dir / 'rectiflow.db'}")
        if not self.secret_key:
            self.secret_key = _key(self.instance_dir, "secret_key")
        if not self.audit_key:
            self.audit_key = _key(self.instance_dir, "audit_key")
        if not 0 < self.yellow_days < self.green_days < self.deadline_days:
            raise SettingsError("need 0 < RECTIFLOW_YELLOW_DAYS < RECTIFLOW_GREEN_DAYS < RECTIFLOW_DEADLINE_DAYS")
        if self.timer_retries < 0:
            raise SettingsError("RECTIFLOW_TIMER_RETRIES must be zero or more")
        if self.stuck_hours < 1:
            raise SettingsError("RECTIFLOW_STUCK_HOURS must be positive")
        if self.talk_days < 1 or self.recheck_days < 1 or self.plan_days < 1 or self.reply_days < 1:
            raise SettingsError("RECTIFLOW_TALK_DAYS, RECTIFLOW_RECHECK_DAYS, RECTIFLOW_PLAN_DAYS and "
                                "RECTIFLOW_REPLY_DAYS must be positive")
        if self.measure_notice_days < 1 or self.extension_max_days < 1:
            raise SettingsError("RECTIFLOW_MEASURE_NOTICE_DAYS and RECTIFLOW_EXTENSION_MAX_DAYS must be positive")
        for kind, prefix in self.document_prefixes.items():
            if not prefix.strip() or len(prefix) > 20:
                raise SettingsError(f"RECTIFLOW_DOCUMENT_PREFIX_{kind.upper()} must be 1 to 20 characters, got {prefix!r}")
        if not self.document_issuer.strip():
            raise SettingsError("RECTIFLOW_DOCUMENT_ISSUER must name the issuing body")
        for name in ("login", "credential", "upload", "public", "api"):
            _rate(f"RATE_LIMIT_{name.upper()}", getattr(self, f"rate_limit_{name}"))
        if self.timer_interval < 1:
            raise SettingsError("RECTIFLOW_TIMER_INTERVAL must be at least 1 (seconds)")
        if self.publication_chunk < 1 or self.job_stale_seconds < 1:
            raise SettingsError("RECTIFLOW_PUBLICATION_CHUNK and RECTIFLOW_JOB_STALE_SECONDS must be positive")
        if self.trusted_proxies < 0:
            raise SettingsError("RECTIFLOW_TRUSTED_PROXIES must be zero or more")
        if self.session_idle_minutes < 1:
            raise SettingsError("RECTIFLOW_SESSION_IDLE_MINUTES must be at least 1")
        if self.audit_retention_days < MIN_AUDIT_RETENTION_DAYS:
            raise SettingsError(f"RECTIFLOW_AUDIT_RETENTION_DAYS must be at least {MIN_AUDIT_RETENTION_DAYS} "
                                f"(GB/T 22239 keeps audit records that long), got {self.audit_retention_days}")

    def require_secret_key(self) -> str:
        if not self.secret_key:
            raise SettingsError("no secret key: run `rectiflow init-db` once, or set RECTIFLOW_SECRET_KEY")
        return self.secret_key

    def require_audit_key(self) -> str:
        if not self.audit_key:
            raise SettingsError("no audit key: run `rectiflow init-db` once, or set RECTIFLOW_AUDIT_KEY")
        return self.audit_key
