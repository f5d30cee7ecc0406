"""Rating gates: which stories may be posted in which channel."""

from __future__ import annotations

from collections.abc import Sequence

from bot.story import Rating, RatingLevel

__all__ = ("MAX_RATING_CHOICES", "allowed_levels", "is_allowed", "refusal")

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


def is_allowed(rating: Rating, *, nsfw: bool, max_rating: RatingLevel) -> bool:
    return rating.level in allowed_levels(nsfw=nsfw, max_rating=max_rating)


def refusal(
    title: str, rating: Rating, *, max_rating: RatingLevel, nsfw_channels: Sequence[str]
) -> str:
    """Why a story cannot be posted here, and where it can be read."""
    label = rating.level.display
    if rating.label and rating.label.casefold() != label.casefold():
        label += f" ({rating.label})"
    if rating.level in (RatingLevel.EXPLICIT, RatingLevel.NOT_RATED):
        why = "Explicit and unrated stories are only posted in age-restricted channels."
    else:
        why = (
            f"This server posts stories up to {max_rating.display} outside age-restricted channels."
        )
    where = (
        "Read it in " + ", ".join(nsfw_channels) + "."
        if nsfw_channels
        else "Read it in an age-restricted (NSFW) channel; ask a moderator if there is none."
    )
    return f"“{title}” is rated {label}. {why} {where}"
