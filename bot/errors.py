"""Errors a user caused or can act on: shown to them as a short private message.

Plain exceptions: services raise them without knowing about Discord; the command
tree's error handler (`bot.tree`) turns them into replies.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.story import Rating, RatingLevel

__all__ = ("RatingRefused", "UnknownStory", "UserFacingError")


class UserFacingError(Exception):
    """Expected failure (unknown story, not allowed here, bad file).

    Its message is written for the reader and shown as is.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownStory(UserFacingError):
    """No story by that title on this shelf; `suggestions` are close titles the reader
    may read here, `elsewhere` close titles that exist but may not be shown here."""

    def __init__(
        self, message: str, *, suggestions: Sequence[str] = (), elsewhere: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.suggestions = tuple(suggestions)
        self.elsewhere = tuple(elsewhere)


class RatingRefused(UserFacingError):
    """A story whose rating may not be shown in this channel. The message says why; where
    it can be read depends on the channels the reader can see, which the Discord side adds."""

    def __init__(self, title: str, rating: Rating, max_rating: RatingLevel) -> None:
        from bot.gate import refusal

        super().__init__(refusal(title, rating, max_rating=max_rating, nsfw_channels=()))
        self.title = title
        self.rating = rating
        self.max_rating = max_rating

    def with_channels(self, nsfw_channels: Sequence[str]) -> str:
        from bot.gate import refusal

        return refusal(
            self.title, self.rating, max_rating=self.max_rating, nsfw_channels=nsfw_channels
        )
