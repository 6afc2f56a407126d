"""Intake, the details: description, photos, place and contact — each with its bad-input answer.

An album arrives as several messages sharing a media_group_id; it is one step: the first of
them is answered, the rest are taken (or refused) silently. The draft remembers the album.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update

from bot.context import MinshengContext
from bot.i18n import Translator
from handlers.attachments import attachment_of
from handlers.common import send, user_of, who
from handlers.intake_choose import not_a_button, reask
from handlers.intake_data import after_details, data, message_of, save
from handlers.intake_files import take_file
from handlers.intake_prompts import (
    MAX_PHOTOS,
    anonymous_label,
    ask,
    emergency_text,
    go,
    inline,
    skip_label,
)
from handlers.kb_offer import offer_at_intake
from storage.cases import ADDRESS_MAX, DESCRIPTION_MAX, DESCRIPTION_MIN
from storage.catalog import emergency_info, matches_emergency, service_area
from storage.drafts import DraftView, Step

# A typed address shorter than this is a slip, not a place; other channels send no typed address.
ADDRESS_MIN = 3


def _photo(message: Message) -> str | None:
    return message.photo[-1].file_id if message.photo else None


def _same_album(message: Message, draft: DraftView) -> bool:
    album = message.media_group_id
    return album is not None and album == draft.data.get("album")


async def on_description_input(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """The description: text, or a photo with a caption; checked, and diverted if urgent."""
    message = message_of(update)
    _, t = await who(update, context)
    if _same_album(message, draft):
        return  # the album's first photo was answered already
    text, photo = message.text or message.caption, _photo(message)
    problem = description_problem(t, message, text)
    if problem or text is None:
        await send(update, context, problem or "")
        if message.media_group_id:
            await save(context, draft, draft.step, album=message.media_group_id)
        return
    if matches_emergency(text, await emergency_info()):
        await divert(update, context, t, draft, text, photo, message.media_group_id)
        return
    await take_description(update, context, t, draft, text, photo, message.media_group_id)


def description_problem(t: Translator, message: Message, text: str | None) -> str | None:
    if message.forward_origin is not None:
        return t.gettext("Please type the description yourself instead of forwarding a message.")
    if text is None and message.photo:
        return t.gettext(
            "Please send the photo again with the description as its caption, or "
            "send the description as text first."
        )
    if attachment_of(message) is not None:  # even with a caption: the file would be lost here
        return t.gettext(
            "Please type a few words about the problem first; you can send voice messages, "
            "videos and documents at the next step."
        )
    if text is None:
        return t.gettext(
            "That is not what I need here; please send the description as text "
            "(a photo with the description as its caption is fine too)."
        )
    length = len(text)
    if length < DESCRIPTION_MIN:
        return t.ngettext(
            "That is too short ({length} character); please write at least {min}.",
            "That is too short ({length} characters); please write at least {min}.",
            length,
            length=length,
            min=DESCRIPTION_MIN,
        )
    if length > DESCRIPTION_MAX:
        return t.ngettext(
            "That is too long ({length} character); the limit is {max}.",
            "That is too long ({length} characters); the limit is {max}.",
            length,
            length=length,
            max=DESCRIPTION_MAX,
        )
    return None


async def divert(
    update: Update,
    context: MinshengContext,
    t: Translator,
    draft: DraftView,
    text: str,
    photo: str | None,
    album: str | None,
) -> None:
    """An emergency: the numbers at once; the text waits in case it is not one after all."""
    await send(update, context, emergency_text(t, await emergency_info()))
    note = t.gettext(
        "If this is not an emergency, press the button below and I will take the "
        "description as it is, or send a different one."
    )
    markup = inline([[(t.gettext("It is not an emergency: continue"), data("notem"))]])
    await send(update, context, note, markup=markup)
    await save(context, draft, Step.DESCRIPTION, pending=text, pending_photo=photo, album=album)


async def not_an_emergency(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    text = draft.data.get("pending")
    if not isinstance(text, str):
        return t.gettext("This button has expired.")
    photo = draft.data.get("pending_photo")
    album = draft.data.get("album")
    await take_description(
        update,
        context,
        t,
        draft,
        text,
        photo if isinstance(photo, str) else None,
        album if isinstance(album, str) else None,
    )
    return ""


async def take_description(
    update: Update,
    context: MinshengContext,
    t: Translator,
    draft: DraftView,
    text: str,
    photo: str | None,
    album: str | None,
) -> None:
    photos = list(draft.data.get("photos") or [])
    if photo and len(photos) < MAX_PHOTOS:
        photos.append(photo)
    changes = {
        "description": text,
        "photos": photos,
        "album": album,
        "pending": None,
        "pending_photo": None,
    }
    # Not sure of the category: the categories it reads as come next (handlers.intake_suggest).
    natural = Step.SUGGEST if draft.data.get("guess") else Step.PHOTOS
    if await offer_at_intake(update, context, t, draft, text, changes, natural=natural):
        return  # articles that may answer it first (handlers.kb_offer)
    await go(update, context, t, draft, after_details(draft, natural), **changes)


async def on_photos_input(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """Photos, up to the limit; an album counts as one message to answer."""
    message = message_of(update)
    photo = _photo(message)
    attachment = attachment_of(message) if photo is None else None
    if attachment is not None:
        await take_file(update, context, draft, attachment)
        return
    if photo is None:
        await not_a_photo(update, context, draft)
        return
    _, t = await who(update, context)
    photos = list(draft.data.get("photos") or [])
    silent = _same_album(message, draft)
    if len(photos) >= MAX_PHOTOS:
        if not (silent and draft.data.get("album_full") == message.media_group_id):
            refusal = t.gettext(
                "You can add at most {limit} photos; this one was not added.", limit=MAX_PHOTOS
            )
            await send(update, context, refusal, markup=done_keyboard(t))
        await save(
            context,
            draft,
            Step.PHOTOS,
            album_full=message.media_group_id,
            album=message.media_group_id,
        )
        return
    photos.append(photo)
    await save(context, draft, Step.PHOTOS, photos=photos, album=message.media_group_id)
    if silent:
        return
    if message.media_group_id:
        note = t.gettext(
            "Photos received. Send more (up to {limit} in all) or press Done.", limit=MAX_PHOTOS
        )
    else:
        note = t.gettext(
            "Photo {n} of {limit} received. Send more or press Done.",
            n=len(photos),
            limit=MAX_PHOTOS,
        )
    await send(update, context, note, markup=done_keyboard(t))


def done_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return inline([[(t.gettext("Done"), data("done"))]])


async def not_a_photo(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """Anything but a photo at the photos step: say so and ask again."""
    await reask(
        update,
        context,
        draft,
        lambda t: t.gettext(
            "That is not what I need here; please send a photo, a voice message, a video or "
            "a document, or press Done."
        ),
    )


async def photos_done(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, arg: str
) -> str:
    await go(
        update, context, t, draft, after_details(draft, Step.LOCATION), album=None, album_full=None
    )
    return ""


async def on_location_input(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """A shared location, a typed address, or Skip (unless the category needs a place)."""
    message = message_of(update)
    _, t = await who(update, context)
    if message.location is not None:
        await take_location(update, context, t, draft, message)
        return
    text = (message.text or "").strip()
    if not text or message.forward_origin is not None:
        await not_a_place(update, context, t, draft)
        return
    if text == skip_label(t) and not draft.data.get("location_required"):
        await go(update, context, t, draft, after_details(draft, Step.CONTACT), location=None)
        return
    if not ADDRESS_MIN <= len(text) <= ADDRESS_MAX or text == skip_label(t):
        hint = t.gettext(
            "Please type an address of {min} to {max} characters (yours has "
            "{length}), or share your location with the button.",
            min=ADDRESS_MIN,
            max=ADDRESS_MAX,
            length=len(text),
        )
        await send(update, context, hint)
        return
    place = {"address": text}
    await go(update, context, t, draft, after_details(draft, Step.CONTACT), location=place)


async def take_location(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView, message: Message
) -> None:
    point = message.location
    if point is None:
        return
    area = await service_area()
    if area is not None and not area.contains(point.latitude, point.longitude):
        refusal = t.gettext(
            "Sorry, that place is outside the area this desk serves. Please "
            "share a place in the city, or type the address."
        )
        await send(update, context, refusal)
        return
    place: dict[str, object] = {"lat": point.latitude, "lon": point.longitude}
    if message.venue is not None:
        place["address"] = f"{message.venue.title}, {message.venue.address}"[:ADDRESS_MAX]
    await go(update, context, t, draft, after_details(draft, Step.CONTACT), location=place)


async def not_a_place(
    update: Update, context: MinshengContext, t: Translator, draft: DraftView
) -> None:
    hint = t.gettext(
        "That is not what I need here; please share your location with the "
        "button below, or type the address."
    )
    await send(update, context, hint)
    await ask(update, context, t, draft)


async def on_contact_input(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """The citizen's own phone number, shared with the button, or "Stay anonymous"."""
    message = message_of(update)
    _, t = await who(update, context)
    contact = message.contact
    if contact is not None and contact.user_id == user_of(update).id:
        phone = contact.phone_number[:32]
        await go(update, context, t, draft, Step.SUMMARY, phone=phone, anonymous=False)
        return
    if contact is None and (message.text or "").strip() == anonymous_label(t):
        await go(update, context, t, draft, Step.SUMMARY, phone=None, anonymous=True)
        return
    if contact is not None:  # someone else's card: nothing of it is kept
        hint = t.gettext(
            "Please share your own phone number with the button below; I did not "
            "keep the one you sent."
        )
    else:
        hint = t.gettext("That is not what I need here; please press one of the buttons below.")
    await send(update, context, hint)
    await ask(update, context, t, draft)


async def on_summary_input(update: Update, context: MinshengContext, draft: DraftView) -> None:
    """Anything typed at the summary: the buttons are what it takes."""
    await not_a_button(update, context, draft)
