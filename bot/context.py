"""What handlers are given: the services of the running bot, through a typed context."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.i18n import Catalogs
from bot.metrics import Metrics
from bot.settings import Settings
from storage.dispute_reasons import DisputeReason, load_reasons
from storage.work_calendar import WorkCalendar


@dataclass(frozen=True)
class Services:
    settings: Settings
    catalogs: Catalogs
    clock: Clock
    # Read from its file once at start-up (Runtime.start); None: weekends only, no holidays.
    work_calendar: WorkCalendar | None = None
    metrics: Metrics = field(default_factory=Metrics)  # this runtime's own counters

    @property
    def calendar(self) -> WorkCalendar:
        """The working calendar every due date is computed on."""
        return self.work_calendar or WorkCalendar(zone=self.settings.zone)

    @cached_property
    def dispute_reasons(self) -> tuple[DisputeReason, ...]:
        """The desk's reasons for disputing a rating, read from their file once (the settings
        checked it at start-up)."""
        return load_reasons(self.settings.dispute_reasons_file)


SERVICES_KEY = "services"


_Data = dict[Any, Any]


class MinshengContext(CallbackContext[ExtBot[None], _Data, _Data, _Data]):
    """CallbackContext with the bot's services; built by the Application for every update."""

    @property
    def services(self) -> Services:
        services = self.application.bot_data.get(SERVICES_KEY)
        if not isinstance(services, Services):
            raise TypeError("the application was built without its services")
        return services


MinshengApp = Application[
    ExtBot[None], MinshengContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
