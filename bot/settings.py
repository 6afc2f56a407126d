"""Settings: read once at start-up from the environment or `.env`, then passed down."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.texts.maps import MapService
from storage.config import on_postgres
from storage.digest import parse_schedule
from storage.dispute_reasons import load_reasons
from storage.due_dates import parse_working_hours
from storage.work_calendar import SHIPPED_CALENDAR, CalendarInvalid, WorkCalendar, load_calendar

LANGUAGES = ("en", "zh_Hans", "zh_Hant", "ru")
DEFAULT_DATABASE_URL = "sqlite://var/minsheng.sqlite3"
DEFAULT_POSTGRES_LANES = 4
# Stock brush-offs that mark a reply as perfunctory for its reviewer (a setting's default).
PERFUNCTORY_PHRASES = (
    "please ask another department",
    "not our responsibility",
    "请咨询其他部门",
    "不属于我单位职责",
    "請諮詢其他部門",
    "не по адресу",
)


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


class Settings(BaseSettings):
    """Every knob an operator may turn. Names are the interface of deployment scripts."""

    model_config = SettingsConfigDict(
        env_prefix="MINSHENG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    bot_api_url: str = "https://api.telegram.org/bot"
    bot_file_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1:8080"
    # Share the webhook's port with the other processes of `minsheng webhook --workers N`
    # (SO_REUSEPORT); that command sets it for the processes it starts.
    reuse_port: bool = False
    staff_chat_id: int | None = None
    # The staff chat is a forum: each department's cards go to a topic of its own, which the
    # bot creates (storage.staff_destinations; bot/staff_topics.py). Off: one chat, as before.
    staff_topics: bool = False
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    timezone: str = "Asia/Shanghai"
    default_language: str = "en"
    # Where the staff card's map links open: OpenStreetMap, or for mainland desks (where Google
    # Maps is blocked) Amap or Baidu, with the point converted to their datum.
    map_links: MapService = "osm"
    # The staff dashboard (/web): its public base URL, where sign-in links point (default: the
    # web server's own listen address), and the key that signs its cookies (default: a random
    # key at each start, so a restart signs everyone out).
    web_url: str | None = None
    web_secret: SecretStr | None = None
    # Where `minsheng run` (polling) serves Open311 and the dashboard, HOST:PORT (empty: not
    # served); `minsheng webhook` serves them beside the webhook on MINSHENG_WEBHOOK_LISTEN.
    web_listen: str | None = None
    # Open311 reads a client may make a minute: by its address without a key, else by its key.
    open311_reads_per_minute: int = Field(default=60, ge=1)
    # Public board pages (and photos) a visitor may read a minute, counted by their address.
    board_reads_per_minute: int = Field(default=120, ge=1)

    # The catalogue of departments and categories loaded at first start (default: the sample).
    catalog_file: Path | None = None
    # Citizens: new cases a day, and the message flood that gets a polite slow-down.
    cases_per_day: int = Field(default=5, ge=1)
    flood_messages: int = Field(default=20, ge=2)
    flood_seconds: float = Field(default=10.0, gt=0)
    # Duplicates: an open case is offered to join (and shown to staff) only if both places, when
    # both requests have one, are at most this many metres apart.
    duplicate_distance_m: float = Field(default=300.0, gt=0)
    # Routing: hours (elapsed) a lead department has to sign for a case routed to it (签收).
    sign_limit_hours: float = Field(default=2.0, gt=0)
    # The review gate marks a reply as perfunctory (敷衍) for the reviewer when it is shorter than
    # this many characters or contains one of these phrases (any case; a JSON list of strings).
    perfunctory_min_chars: int = Field(default=20, ge=0)
    perfunctory_phrases: Annotated[tuple[str, ...], NoDecode] = PERFUNCTORY_PHRASES

    # Outbox sender limits (Telegram's FAQ: ~30/s overall, 20/min per group, ~1/s per chat).
    rate_limits: bool = True
    rate_overall_per_second: float = Field(default=30.0, gt=0)
    rate_chat_per_second: float = Field(default=1.0, gt=0)
    rate_chat_burst: int = Field(default=3, ge=1)
    rate_group_per_minute: float = Field(default=20.0, gt=0)
    # Shortens every window: lets tests against the sandbox run Telegram's limits in less time.
    rate_time_scale: float = Field(default=1.0, gt=0)
    send_concurrency: int = Field(default=64, ge=1, le=1000)
    # On SQLite, `run` and `webhook` send from a second process (bot.sender_child): a second
    # core for a busy desk. Off: one process does everything.
    sender_process: bool = True
    # Unset: one lane on SQLite, four on PostgreSQL (Settings.lanes).
    dispatch_lanes: int | None = Field(default=None, ge=1, le=64)
    sweep_interval: float = Field(default=60.0, gt=0)
    # Several processes on PostgreSQL: how often a standby tries to take the lead (and the
    # leader checks that it still holds it), in seconds; a dead leader is replaced this fast.
    leader_retry: float = Field(default=5.0, gt=0, le=60)
    request_timeout: float = Field(default=10.0, gt=0)
    poll_timeout: int = Field(default=25, ge=0, le=50)
    # Seconds without a successful getUpdates before the watchdog alerts (log and staff chat).
    poll_alert_after: float = Field(default=300.0, gt=0)
    # Operations: where `minsheng run` and `minsheng webhook` serve /healthz and /metrics
    # (HOST:PORT; none if empty; never beside the webhook), how long the probe's database query
    # may take, and how long a worker may go without turning its loop before it counts as stuck.
    health_listen: str | None = None
    health_db_timeout: float = Field(default=2.0, gt=0)
    health_stale_after: float = Field(default=60.0, gt=0)

    # Privacy: days after which the raw payloads of handled updates and sent messages, failed
    # lookups and redeemed claim codes are purged (storage.retention; spent sessions and
    # sign-in links go at once); and whether /forget keeps the
    # words of a citizen's cases because the desk must keep case records by law (/privacy says).
    retention_days: int = Field(default=30, ge=1)
    keep_case_records: bool = False

    # Time limits: the working calendar (holidays, make-up days; default: the shipped file for
    # mainland China), the working hours the acceptance limit counts, and the overdue list.
    calendar_file: Path | None = None
    working_hours: str = "09:00-12:00,13:00-18:00"
    accept_limit_hours: float = Field(default=2.0, gt=0)
    overdue_list_at: str = "09:00"  # local time of the daily overdue list to the staff chat
    # The weekly digest (民声摘报) to the staff chat: a weekday and local time, or "off".
    digest_at: str = "MON 09:00"
    # The reasons a department may dispute a rating with (差评复核): a TOML file (default: the
    # shipped storage/dispute_reasons.toml), checked at start-up.
    dispute_reasons_file: Path | None = None

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
        if isinstance(value, int):
            return (value,)
        return value

    @field_validator("perfunctory_phrases", mode="before")
    @classmethod
    def _json_phrases(cls, value: object) -> object:
        """A JSON list of strings from the environment; empty means the defaults."""
        if not isinstance(value, str):
            return value
        if not value.strip():
            return PERFUNCTORY_PHRASES
        try:
            phrases = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"must be a JSON list of strings: {exc}") from exc
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            raise ValueError('must be a JSON list of strings, e.g. ["not our job"]')
        return tuple(p for p in phrases if p.strip())

    @field_validator("calendar_file", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("dispute_reasons_file", mode="before")
    @classmethod
    def _reasons_file(cls, value: object) -> object:
        path = None if value in ("", None) else Path(str(value))
        load_reasons(path)  # DisputeReasonsInvalid (a ValueError) names the file and the entry
        return path

    @field_validator("working_hours")
    @classmethod
    def _working_hours(cls, value: str) -> str:
        parse_working_hours(value)  # ValueError names the bad span
        return value

    @field_validator("overdue_list_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ValueError("must be HH:MM, e.g. 09:00") from None
        return value

    @field_validator("digest_at")
    @classmethod
    def _weekly_slot(cls, value: str) -> str:
        parse_schedule(value)  # raises ValueError with what is expected
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:8080")
        return value

    @field_validator("health_listen", "web_listen")
    @classmethod
    def _optional_host_port(cls, value: str | None) -> str | None:
        if not value:
            return None
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:9090, or empty")
        return value

    @field_validator("bot_api_url", "webhook_url", "bot_file_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) URL")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def file_url(self) -> str:
        if self.bot_file_url:
            return self.bot_file_url
        base = self.bot_api_url.rstrip("/")
        head, _, tail = base.rpartition("/")
        return f"{head}/file/{tail}"

    @property
    def listen_host(self) -> str:
        return self.webhook_listen.rpartition(":")[0]

    @property
    def listen_port(self) -> int:
        return int(self.webhook_listen.rpartition(":")[2])

    @property
    def webhook_path(self) -> str:
        return urlsplit(self.webhook_url).path or "/" if self.webhook_url else "/webhook"

    @property
    def overdue_list_time(self) -> time:
        return time.fromisoformat(self.overdue_list_at)

    def calendar(self) -> WorkCalendar:
        """The working calendar, read from its file, or a SettingsError naming the variable."""
        path = self.calendar_file or SHIPPED_CALENDAR
        try:
            return load_calendar(
                path, zone=self.zone, periods=parse_working_hours(self.working_hours)
            )
        except CalendarInvalid as exc:
            raise SettingsError(f"MINSHENG_CALENDAR_FILE is malformed: {exc}") from None

    def lanes(self) -> int:
        """The dispatcher's lanes, as set; else one on SQLite and four on PostgreSQL.

        SQLite's one connection runs one transaction at a time, so lanes side by side only
        queued for it, each paying its own BEGIN, claim, done-mark and COMMIT with its fsync
        (an intake of 20 citizens: 36 requests/s with four lanes, 44 with one). On PostgreSQL
        each lane has a connection of its own, and they truly run at once."""
        if self.dispatch_lanes is not None:
            return self.dispatch_lanes
        return DEFAULT_POSTGRES_LANES if on_postgres(self.database_url) else 1

    def token(self) -> str:
        """The bot token, or a SettingsError naming the variable."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise SettingsError("MINSHENG_BOT_TOKEN is not set: the bot cannot talk to Telegram")
        return self.bot_token.get_secret_value().strip()

    def secret(self) -> str:
        """The webhook secret, or a SettingsError naming the variable."""
        value = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if not value:
            raise SettingsError("MINSHENG_WEBHOOK_SECRET is not set: the webhook would be open")
        return value


def load_settings(env_file: Path | str | None = ".env", **overrides: object) -> Settings:
    """Build the settings, turning validation errors into one line that names the variable."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg, arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "MINSHENG_" + str(first["loc"][0]).upper() if first["loc"] else "MINSHENG_*"
        raise SettingsError(f"{name} is malformed: {first['msg']}") from None
