"""One stable key per emoji, for storing reactions (no Discord import: duck-typed)."""

from __future__ import annotations

from typing import Protocol

__all__ = ("EmojiLike", "emoji_key")


class EmojiLike(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def animated(self) -> bool: ...


def emoji_key(emoji: EmojiLike | str) -> str:
    """The character(s) for a unicode emoji, the id for a custom one.

    A custom emoji's name can change; its id cannot. The stored form still
    renders in Discord (`<:e:123>`), since clients draw custom emoji by id.
    """
    if isinstance(emoji, str):
        return emoji
    if emoji.id is None:
        return emoji.name or ""
    return f"<{'a' if emoji.animated else ''}:e:{emoji.id}>"
