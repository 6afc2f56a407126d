"""Settings of the sandbox: its limits and timing, and the faults it injects."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

# Methods that send, edit or answer: the ones faults apply to unless FaultConfig.methods says
# otherwise. Polling, webhook and identity methods are never faulted by the random rate.
FAULTABLE_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendVideo",
        "sendAudio",
        "sendMediaGroup",
        "sendLocation",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
    }
)
# Methods whose calls count against Telegram's sending limits.
LIMITED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendVideo",
        "sendAudio",
        "sendMediaGroup",
        "sendLocation",
        "copyMessage",
        "forwardMessage",
    }
)


@dataclass
class SandboxConfig:
    """How the stand-in behaves; every field may be changed while it runs."""

    token: str = "123456:SANDBOX"  # noqa: S105 - a public, fixed token for the stand-in
    time_scale: float = 1.0
    rtt_ms: float = 0.0
    enforce_limits: bool = False
    overall_per_second: int = 30
    group_per_minute: int = 20
    chat_burst: int = 3
    chat_per_second: float = 1.0
    limits_enabled: bool = True
    staff_group_id: int = -1001000000001
    staff_forum: bool = False  # the staff group has topics turned on (a forum)
    # The desk's time zone, in which the web chat shows message times (the bot's default).
    time_zone: str = "Asia/Shanghai"
    bot_user_id: int = 123456
    # Share of each limit window forgiven, so that a sender pacing exactly at the limit is not
    # flagged because of a millisecond of network jitter.
    limit_slack: float = 0.02

    def update(self, values: dict[str, Any]) -> None:
        """Apply the runtime-adjustable fields present in ``values``."""
        for name in ("time_scale", "rtt_ms", "limit_slack"):
            if name in values:
                setattr(self, name, float(values[name]))
        for name in ("enforce_limits", "limits_enabled"):
            if name in values:
                setattr(self, name, bool(values[name]))
        for name in ("overall_per_second", "group_per_minute", "chat_burst"):
            if name in values:
                setattr(self, name, int(values[name]))
        if "chat_per_second" in values:
            self.chat_per_second = float(values["chat_per_second"])
        if self.time_scale <= 0:
            raise ValueError("time_scale must be positive")

    def public(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class FaultConfig:
    """Faults answered instead of (or, for "timeout", after) carrying out a call."""

    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "500", "timeout")
    retry_after: int = 1
    methods: frozenset[str] | None = None
    timeout_seconds: float = 15.0
    blocked_users: set[int] = field(default_factory=set)
    deactivated_users: set[int] = field(default_factory=set)
    migrated_chats: dict[int, int] = field(default_factory=dict)
    getupdates_conflict: bool = False
    seed: int | None = None

    def applies_to(self, method: str) -> bool:
        if self.methods is None:
            return method in FAULTABLE_METHODS
        return method in self.methods

    def to_json(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "retry_after": self.retry_after,
            "methods": None if self.methods is None else sorted(self.methods),
            "timeout_seconds": self.timeout_seconds,
            "blocked_users": sorted(self.blocked_users),
            "deactivated_users": sorted(self.deactivated_users),
            "migrated_chats": {str(k): v for k, v in self.migrated_chats.items()},
            "getupdates_conflict": self.getupdates_conflict,
            "seed": self.seed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultConfig:
        """Build from the control API's JSON shape (sets as lists, dict keys as strings)."""
        config = cls()
        if "rate" in data:
            config.rate = float(data["rate"])
        if "kinds" in data:
            config.kinds = tuple(str(kind) for kind in data["kinds"])
        if "retry_after" in data:
            config.retry_after = int(data["retry_after"])
        if data.get("methods") is not None:
            config.methods = frozenset(str(m) for m in data["methods"])
        if "timeout_seconds" in data:
            config.timeout_seconds = float(data["timeout_seconds"])
        config.blocked_users = {int(u) for u in data.get("blocked_users", ())}
        config.deactivated_users = {int(u) for u in data.get("deactivated_users", ())}
        migrated = data.get("migrated_chats") or {}
        config.migrated_chats = {int(k): int(v) for k, v in migrated.items()}
        config.getupdates_conflict = bool(data.get("getupdates_conflict", False))
        if data.get("seed") is not None:
            config.seed = int(data["seed"])
        return config
