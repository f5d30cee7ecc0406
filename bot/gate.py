"""Rating gates: which stories may be posted in which channel, and what to say when not."""

from __future__ import annotations

from collections.abc import Sequence

from bot.render import escape_inline, rating_text, truncate
from bot.story import Rating, RatingLevel

__all__ = ("MAX_RATING_CHOICES", "allowed_levels", "refusal")

# What a server may allow outside age-restricted channels; Explicit never.
MAX_RATING_CHOICES = (RatingLevel.GENERAL, RatingLevel.TEEN, RatingLevel.MATURE)


def allowed_levels(*, nsfw: bool, max_rating: RatingLevel) -> frozenset[RatingLevel]:
    """Rating levels that may be posted in a channel."""
    if nsfw:
        return frozenset(RatingLevel)
    ceiling = min(max_rating.rank, RatingLevel.MATURE.rank)
    return frozenset(
        level
        for level in RatingLevel
        if level.rank <= ceiling and level not in (RatingLevel.EXPLICIT, RatingLevel.NOT_RATED)
    )


def refusal(
    title: str, rating: Rating, *, max_rating: RatingLevel, nsfw_channels: Sequence[str]
) -> str:
    """Why a story cannot be posted here, and where it can be read (under 2,000 characters)."""
    if rating.level in (RatingLevel.EXPLICIT, RatingLevel.NOT_RATED):
        why = "Explicit and unrated stories are only posted in age-restricted channels."
    else:
        why = (
            f"This server posts stories up to {max_rating.display} outside age-restricted channels."
        )
    where = (
        "Read it in " + ", ".join(nsfw_channels[:5]) + "."
        if nsfw_channels
        else "Read it in an age-restricted (NSFW) channel; ask a moderator if there is none."
    )
    shown = escape_inline(truncate(" ".join(title.split()), 100))
    return f"“{shown}” is rated {rating_text(rating, cap=40)}. {why} {where}"
