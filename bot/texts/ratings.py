"""The citizen's rating of an answer in words: was it solved, how satisfied they are, the
comments that fit that answer, and the rating message's text at each step."""

from __future__ import annotations

from bot.i18n import SOURCE, Translator
from storage.models import RatingSatisfaction

SATISFIED = RatingSatisfaction.SATISFIED
BASIC = RatingSatisfaction.BASIC
UNSATISFIED = RatingSatisfaction.UNSATISFIED

# The suggested comments offered after each rating, by code (the code travels in the button):
# praise after "satisfied", complaints after "unsatisfied", some of each after "basically".
COMMENTS_FOR: dict[RatingSatisfaction, tuple[str, ...]] = {
    SATISFIED: ("quick", "clear", "polite"),
    BASIC: ("quick", "unclear", "slow"),
    UNSATISFIED: ("still", "unclear", "slow"),
}


def solved_labels(t: Translator) -> dict[str, str]:
    return {
        "solved": t.gettext("Solved"),
        "partly": t.gettext("Partly"),
        "not_solved": t.gettext("Not solved"),
    }


def satisfaction_labels(t: Translator) -> dict[str, str]:
    return {
        "satisfied": t.gettext("Satisfied"),
        "basic": t.gettext("Basically satisfied"),
        "unsatisfied": t.gettext("Unsatisfied"),
    }


def comment_labels(t: Translator) -> dict[str, str]:
    """Every suggested comment by code; the source-language label is what is stored."""
    return {
        "quick": t.gettext("Quick and helpful"),
        "clear": t.gettext("A clear answer"),
        "polite": t.gettext("Polite and attentive"),
        "unclear": t.gettext("The answer was unclear"),
        "slow": t.gettext("It took too long"),
        "still": t.gettext("The problem is still there"),
    }


def comments_fitting(code: str) -> frozenset[RatingSatisfaction]:
    """The ratings after which the comment `code` is offered."""
    return frozenset(rating for rating, codes in COMMENTS_FOR.items() if code in codes)


def rating_line(
    t: Translator, solved: str, satisfaction: str | None = None, comment: str | None = None
) -> str:
    """ "Your rating: Solved · Satisfied · “Quick and helpful”", as far as it was given
    (codes; the comment as stored, in the source language, is shown in the reader's)."""
    said = solved_labels(t).get(solved, solved)
    if satisfaction is None:
        return t.gettext("Your rating: {solved}", solved=said)
    felt = satisfaction_labels(t).get(satisfaction, satisfaction)
    if comment is None:
        return t.gettext("Your rating: {solved} · {satisfaction}", solved=said, satisfaction=felt)
    return t.gettext(
        "Your rating: {solved} · {satisfaction} · “{comment}”",
        solved=said,
        satisfaction=felt,
        comment=shown_comment(t, comment),
    )


def shown_comment(t: Translator, comment: str) -> str:
    """A stored comment in the reader's language, if it is one of the suggested ones."""
    codes = {label: code for code, label in comment_labels(SOURCE).items()}
    return comment_labels(t)[codes[comment]] if comment in codes else comment


def ask_satisfaction(t: Translator) -> str:
    return t.gettext("How satisfied are you with how your request was handled?")


def ask_comment(t: Translator, satisfaction: RatingSatisfaction, *, can_reopen: bool) -> str:
    """The third step: a comment that fits the rating, and Reopen after "unsatisfied"."""
    if satisfaction is not UNSATISFIED:
        return t.gettext("Thank you! Would you like to add a comment? Choose one, or press Skip.")
    sorry = t.gettext(
        "We are sorry the answer did not help. What went wrong? Choose one, or press Skip."
    )
    return f"{sorry}\n{offer_reopen(t)}" if can_reopen else sorry


def offer_reopen(t: Translator) -> str:
    return t.gettext("To have the department work on it again, press “Reopen this request”.")


def thanks(t: Translator) -> str:
    return t.gettext("Thank you for your feedback.")


def ask_reason(t: Translator) -> str:
    return t.gettext(
        "Why should the department work on it again? Send the reason in one message. "
        "To keep the request as it is, press Cancel or send /cancel."
    )


def reopened_with(t: Translator, reason: str) -> str:
    return t.gettext(
        "You reopened this request. The department will work on it again. Your reason: “{reason}”",
        reason=reason,
    )
