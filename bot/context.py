"""What handlers are given: the services of the running bot, through a typed context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.i18n import Catalogs
from bot.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    catalogs: Catalogs
    clock: Clock


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
