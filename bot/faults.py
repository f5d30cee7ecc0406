"""What to tell a reader when Discord refuses or fails a post, in words they understand."""

from __future__ import annotations

import discord

__all__ = ("POST_PERMISSIONS", "edit_failure", "missing_permissions", "post_failure")

# What an excerpt post needs from the bot in its channel, in the order worth naming.
POST_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("read_message_history", "Read Message History"),
    ("add_reactions", "Add Reactions"),
)

MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
UNKNOWN_CHANNEL = 10003


def missing_permissions(permissions: discord.Permissions | None) -> list[str]:
    """The names of the permissions an excerpt post needs that `permissions` lacks."""
    if permissions is None:
        return []
    return [name for attr, name in POST_PERMISSIONS if not getattr(permissions, attr)]


def post_failure(
    error: discord.HTTPException,
    *,
    channel: str,
    permissions: discord.Permissions | None,
    nothing: str = "Nothing was posted.",
) -> str:
    """A reader-facing message for a failed excerpt post; nothing was posted or recorded."""
    if error.code == MISSING_ACCESS:
        return (
            f"I can't post in {channel}: I don't have access to it (Missing Access). "
            f"A moderator can give me the View Channel permission there. {nothing}"
        )
    if error.code == MISSING_PERMISSIONS or error.status == 403:
        missing = missing_permissions(permissions) or ["Send Messages"]
        names = " and ".join(f"**{name}**" for name in missing)
        plural = "s" if len(missing) > 1 else ""
        return (
            f"I can't post in {channel}: I'm missing the {names} permission{plural} there. "
            f"A moderator can grant {'them' if plural else 'it'} in the channel settings. "
            f"{nothing}"
        )
    if error.code == UNKNOWN_CHANNEL or error.status == 404:
        return (
            "Discord says this channel no longer exists (or I can no longer see it), "
            f"so I couldn't post there. {nothing}"
        )
    if error.status >= 500:
        return (
            f"Discord had a problem on its side (error {error.status}) and didn't take the "
            f"post. {nothing} Please try again in a moment."
        )
    return (
        f"Discord refused the post (error {error.status}: {error.text or 'no detail'}). {nothing}"
    )


def edit_failure(
    error: discord.HTTPException, *, channel: str, permissions: discord.Permissions | None
) -> str:
    """A reader-facing message for a page turn Discord refused: the post is unchanged."""
    return (
        post_failure(
            error,
            channel=channel,
            permissions=permissions,
            nothing="The page was not turned; the post is as it was.",
        )
        .replace("I can't post in", "I can't change the post in")
        .replace("didn't take the post", "didn't take the page turn")
    )
