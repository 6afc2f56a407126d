"""Settings: read once at start-up from the environment or `.env`, then passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LANGUAGES = ("en", "zh_Hans", "zh_Hant", "ru")
DEFAULT_DATABASE_URL = "sqlite://var/minsheng.sqlite3"


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
    staff_chat_id: int | None = None
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    timezone: str = "Asia/Shanghai"
    default_language: str = "en"

    # The catalogue of departments and categories loaded at first start (default: the sample).
    catalog_file: Path | None = None
    # Citizens: new cases a day, and the message flood that gets a polite slow-down.
    cases_per_day: int = Field(default=5, ge=1)
    flood_messages: int = Field(default=20, ge=2)
    flood_seconds: float = Field(default=10.0, gt=0)

    # Outbox sender limits (Telegram's FAQ: ~30/s overall, 20/min per group, ~1/s per chat).
    rate_limits: bool = True
    rate_overall_per_second: float = Field(default=30.0, gt=0)
    rate_chat_per_second: float = Field(default=1.0, gt=0)
    rate_chat_burst: int = Field(default=3, ge=1)
    rate_group_per_minute: float = Field(default=20.0, gt=0)
    # Shortens every window: lets tests against the sandbox run Telegram's limits in less time.
    rate_time_scale: float = Field(default=1.0, gt=0)
    send_concurrency: int = Field(default=64, ge=1, le=1000)
    dispatch_lanes: int = Field(default=4, ge=1, le=64)
    sweep_interval: float = Field(default=60.0, gt=0)
    request_timeout: float = Field(default=10.0, gt=0)
    poll_timeout: int = Field(default=25, ge=0, le=50)
    # Seconds without a successful getUpdates before the watchdog alerts (log and staff chat).
    poll_alert_after: float = Field(default=300.0, gt=0)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
        if isinstance(value, int):
            return (value,)
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
