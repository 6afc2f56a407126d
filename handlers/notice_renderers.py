"""Notice renderers: the text and buttons of every message that a storage operation sends.

Each kind maps to a function that turns the notice's facts into one Bot API call, in the
recipient's language. The sender calls `render_notice` just before it sends the row.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.texts.maps import MapService
from handlers import (
    case_card_notices,
    deadline_notices,
    flood,
    follower_notices,
    intake_notices,
    privacy,
    rating,
    reachability,
    routing_notices,
    staff_cases,
    staff_disputes,
    staff_handlers,
    staff_reports,
    topic_notices,
)
from handlers.rendered import Rendered, Renderer, rendering_in


class NoticeUnknown(Exception):
    """A notice kind that no renderer knows: a programming error, reported, not retried."""


# Every notice kind and its renderer, in one place.
RENDERERS: dict[str, Renderer] = {
    # Following requests: the staff chat's cards, and the citizen gate's notices.
    "staff_new_case": case_card_notices.render_staff_new_case,
    "staff_case_photos": case_card_notices.render_staff_case_photos,
    "staff_case_attachment": case_card_notices.render_staff_case_attachment,
    "staff_case_addition": case_card_notices.render_staff_case_addition,
    "staff_buttons_retired": case_card_notices.render_staff_buttons_retired,
    "citizen_slow_down": flood.render_slow_down,
    "citizen_blocked": flood.render_blocked,
    # Filing a request: the draft sweeps' notices.
    "draft_reminder": intake_notices.render_draft_reminder,
    "draft_discarded": intake_notices.render_draft_discarded,
    # The staff desk: what the citizen is told when staff act on their case.
    "case_accepted": staff_cases.render_case_accepted,
    "case_rejected": staff_cases.render_case_rejected,
    # The answer and the callback (回访), and the case's other moves.
    "case_answered": rating.render_case_answered,
    "rating_reminder": rating.render_rating_reminder,
    "case_closed": rating.render_case_closed,
    "case_reopened": rating.render_case_reopened,
    "case_merged": rating.render_case_merged,
    "case_question": rating.render_case_question,
    "staff_case_reopened": rating.render_staff_case_reopened,
    # Disputes of unsatisfied ratings (差评复核): the card with Grant · Refuse, the decision.
    "staff_dispute_filed": staff_disputes.render_staff_dispute_filed,
    "staff_dispute_decided": staff_disputes.render_staff_dispute_decided,
    # Duplicates: joining a similar request, and its moves as its followers hear of them.
    "case_joined": follower_notices.render_case_joined,
    "followed_case_accepted": follower_notices.render_followed_case_accepted,
    "followed_case_answered": follower_notices.render_followed_case_answered,
    "followed_case_rejected": follower_notices.render_followed_case_rejected,
    "followed_case_closed": follower_notices.render_followed_case_closed,
    "followed_case_reopened": follower_notices.render_followed_case_reopened,
    "followed_case_merged": follower_notices.render_followed_case_merged,
    # Routing like a hotline: routed (sign for), sent back (退单), co-handling, by hand.
    "staff_case_routed": routing_notices.render_staff_case_routed,
    "staff_case_sent_back": routing_notices.render_staff_case_sent_back,
    "staff_case_co_handling": routing_notices.render_staff_case_co_handling,
    "staff_case_route_by_hand": routing_notices.render_staff_case_route_by_hand,
    # Time limits: the new due date, extensions (延期), reminders, escalation (督办).
    "case_due_changed": deadline_notices.render_case_due_changed,
    "staff_extension_requested": deadline_notices.render_staff_extension_requested,
    "staff_extension_granted": deadline_notices.render_staff_extension_granted,
    "staff_extension_refused": deadline_notices.render_staff_extension_refused,
    "staff_due_reminder": deadline_notices.render_staff_due_reminder,
    "staff_case_escalated": deadline_notices.render_staff_case_escalated,
    "staff_accept_overdue": deadline_notices.render_staff_accept_overdue,
    "staff_overdue_list": deadline_notices.render_staff_overdue_list,
    # A case's handler (承办人), privately: given a case, its reminder, its escalation.
    "staff_handler_given": staff_handlers.render_staff_handler_given,
    "staff_handler_reminder": staff_handlers.render_staff_handler_reminder,
    "staff_handler_escalated": staff_handlers.render_staff_handler_escalated,
    # Reports: the charts and the CSV file, made at send time; the weekly digest.
    "stats_charts": staff_reports.render_stats_charts,
    "stats_export": staff_reports.render_stats_export,
    "weekly_digest": staff_reports.render_weekly_digest,
    # Privacy: /mydata's file, made at send time.
    "citizen_data_export": privacy.render_data_export,
    # Operations: a citizen the bot can no longer reach (storage.reachability).
    "staff_citizen_unreachable": reachability.render_citizen_unreachable,
    # A department's topic in the staff forum closed or deleted (storage.forum_topics).
    "staff_topic_closed": topic_notices.render_topic_closed,
    "staff_topic_deleted": topic_notices.render_topic_deleted,
    # A department's own chat the bot can no longer write to (storage.forum_topics).
    "staff_department_chat_lost": topic_notices.render_chat_lost,
}


async def render_notice(
    kind: str,
    params: dict[str, Any],
    t: Translator,
    *,
    zone: ZoneInfo | None = None,
    maps: MapService = "osm",
    default: str = "en",
) -> Rendered:
    renderer = RENDERERS.get(kind)
    if renderer is None:
        raise NoticeUnknown(kind)
    with rendering_in(zone or ZoneInfo("UTC"), maps, default):
        return await renderer(params, t)
