"""Turning a notice row into the Bot API call it stands for, in the recipient's language."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.context import Services
from handlers.notice_renderers import render_notice
from storage.citizens import citizen_language
from storage.outbox import Outgoing

log = logging.getLogger(__name__)


class NoticeRenderer:
    """Called by the sender for rows whose method is `notice`."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def __call__(self, item: Outgoing) -> Outgoing:
        default = self._services.settings.default_language
        language = default
        if item.chat_id is not None and item.chat_id > 0:
            language = await citizen_language(item.chat_id, default)
        payload = item.payload
        rendered = await render_notice(
            str(payload.get("kind")),
            dict(payload.get("params") or {}),
            self._services.catalogs.get(language),
            zone=self._services.settings.zone,
            maps=self._services.settings.map_links,
            default=default,
        )
        params = rendered.params
        thread = payload.get("thread")  # a department's topic (storage.staff_destinations)
        if thread is not None and self._services.settings.staff_topics:
            params = {**params, "message_thread_id": thread}
        return replace(item, method=rendered.method, payload=params)
