"""Reading a story file from disk for the command-line importer (and benchmarks)."""

from __future__ import annotations

from pathlib import Path

from bot.parsing import parse_story
from bot.story import ParsedStory, StoryFileError

__all__ = ("read_story_file",)


def read_story_file(path: Path, *, max_bytes: int) -> ParsedStory:
    """Parse a file from disk, refusing an oversized one before reading it."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise StoryFileError(f"{path.name}: cannot read the file ({error.strerror}).") from None
    if size > max_bytes:
        raise StoryFileError(
            f"{path.name} is {size / 1_048_576:.1f} MB; the limit is "
            f"{max_bytes / 1_048_576:.1f} MB."
        )
    return parse_story(path.read_bytes(), path.name, max_bytes=max_bytes)
