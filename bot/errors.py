"""Errors a user caused or can act on: shown to them as a short ephemeral message."""

from __future__ import annotations

from discord import app_commands

__all__ = ("UserFacingError",)


class UserFacingError(app_commands.AppCommandError):
    """Expected failure (unknown story, not allowed here, bad file).

    Its message is written for the reader and shown as is.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
