"""The summary a citizen checks before Submit: what the draft holds, as plain text (it holds
what they typed, so it is sent without parse_mode and stays data), and the words of its
"Publish without my name" toggle."""

from __future__ import annotations

from bot.i18n import Translator
from bot.texts.cases import answer_line, answer_shown
from storage.catalog import category
from storage.drafts import DraftView

SUMMARY_LIMIT = 4000  # Telegram takes 4,096 characters a message


def kind_name(t: Translator, kind: str) -> str:
    names = {
        "complaint": t.gettext("Complaint"),
        "report": t.gettext("Report"),
        "inquiry": t.gettext("Inquiry"),
        "suggestion": t.gettext("Suggestion"),
    }
    return names.get(kind, kind)


async def summary_text(t: Translator, d: DraftView) -> str:
    cat = await category(str(d.data.get("category")))
    area = await category(str(cat.domain_code)) if cat.domain_code else cat
    path = f"{area.name(t.language)} › {cat.name(t.language)}"
    lines = [
        t.gettext("Please check your request:"),
        "",
        t.gettext("Kind: {kind}", kind=kind_name(t, str(d.data.get("kind")))),
        t.gettext("Category: {category}", category=path),
    ]
    answers = d.data.get("answers") or {}
    for question in cat.questions:
        if question.code in answers:
            shown = answer_shown(question, answers[question.code], t.language)
            lines.append(answer_line(t, question.label(t.language), shown))
    description = str(d.data.get("description", ""))
    lines.append(t.gettext("Description: {text}", text=description))
    photos = len(d.data.get("photos") or [])
    lines.append(t.gettext("Photos: {n}", n=photos))
    files = len(d.data.get("attachments") or [])
    if files:
        lines.append(t.gettext("Files (voice, video, documents): {n}", n=files))
    lines.append(t.gettext("Place: {place}", place=place_text(t, d.data.get("location"))))
    phone = d.data.get("phone")
    contact = phone if phone else t.gettext("anonymous")
    lines.append(t.gettext("Contact: {contact}", contact=contact))
    text = "\n".join(lines)
    if len(text) > SUMMARY_LIMIT:  # long answers on top of a long description: shorten it
        keep = max(0, len(description) - (len(text) - SUMMARY_LIMIT) - 1)
        text = text.replace(description, description[:keep] + "…", 1)
    return text


def place_text(t: Translator, location: object) -> str:
    if not isinstance(location, dict):
        return t.gettext("not given")
    if location.get("address"):
        return str(location["address"])
    return f"{float(location['lat']):.5f}, {float(location['lon']):.5f}"


def publish_label(t: Translator, consent: bool) -> str:
    if consent:
        return t.gettext("Publish without my name: Yes")
    return t.gettext("Publish without my name: No")


def publish_explained(t: Translator) -> str:
    return t.gettext(
        "Publish without my name: if you choose Yes, staff may publish your request, its answer "
        "and how satisfied you were with it on the public board, in a text they check for "
        "names, phone numbers and addresses. You can change this later under My requests."
    )
