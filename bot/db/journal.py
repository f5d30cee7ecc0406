"""Feedback kept in a file beside the database when the database could not take it in time.

At shutdown the feedback writer has a budget; when another process holds the
write lock for all of it, what is still unwritten (excerpt posts and reaction
events, in order) goes into a journal file beside the database, and the next
start writes it before taking new events, then removes the file.

Each shutdown writes its own file, `<database>.<time>-<pid>.journal`, complete
or not at all (written under a temporary name, flushed to disk, then renamed),
so two processes sharing one database never write into the same file and a
crash mid-write leaves nothing half-read. The file is one JSON document,
`{"version": 1, "posts": [[...], ...], "events": [[op, message id, emoji, user
id, snapshot], ...]}` (posts as an ExcerptPost's fields; events in the order they
happened): one encoder call for all of it, since shutdown is when time is short.
Replaying a journal twice gives what replaying it once gives: every event sets
a state (present, absent, as Discord has it), none adds to a count.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, field
from pathlib import Path

from bot.db.excerpts import ExcerptPost

__all__ = ("Journal", "JournalContents", "JournalEvent")

log = logging.getLogger(__name__)

SUFFIX = ".journal"
VERSION = 1

_OPS = frozenset({"add", "remove", "clear", "clear_emoji", "sync"})

# (op, message id, emoji, user id, snapshot): a FeedbackEvent as plain values.
JournalEvent = tuple[str, int, str, int, str]


@dataclass(slots=True)
class JournalContents:
    posts: list[ExcerptPost] = field(default_factory=list)
    events: list[JournalEvent] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Journal:
    """The journal files of one database."""

    database: Path

    def files(self) -> list[Path]:
        """Every complete journal beside the database, oldest first."""
        folder, prefix = self.database.parent, self.database.name + "."
        try:
            names = [
                entry.name
                for entry in os.scandir(folder)
                if entry.name.startswith(prefix) and entry.name.endswith(SUFFIX)
            ]
        except FileNotFoundError:
            return []
        return [folder / name for name in sorted(names)]

    def read(self) -> JournalContents:
        """What every readable journal holds, oldest first.

        A file that is not a journal we wrote is left where it is and reported,
        never half-applied and never removed.
        """
        contents = JournalContents()
        for path in self.files():
            try:
                posts, events = _parse(path)
            except (OSError, ValueError, TypeError, KeyError) as error:
                log.error(
                    "feedback journal %s cannot be read (%s); it was left in place", path, error
                )
                continue
            contents.posts.extend(posts)
            contents.events.extend(events)
            contents.files.append(path)
        return contents

    def write(self, posts: Sequence[ExcerptPost], events: Sequence[JournalEvent]) -> Path:
        """Keep posts and events in a new journal file, on disk before this returns."""
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        name = f"{self.database.name}.{stamp}.{time.time_ns() % 10**9:09d}-{os.getpid()}{SUFFIX}"
        path = self.database.parent / name
        temporary = path.with_name(path.name + ".tmp")
        document = {
            "version": VERSION,
            "posts": [astuple(post) for post in posts],
            "events": list(events),
        }
        data = json.dumps(document, ensure_ascii=False).encode("utf-8")
        try:
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        _sync_folder(path.parent)
        return path

    @staticmethod
    def remove(files: Iterable[Path]) -> None:
        """Remove journals whose contents are in the database now."""
        removed = False
        for path in files:
            # Another process sharing the database may have replayed it too.
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed = True
        if removed:
            for folder in {path.parent for path in files}:
                _sync_folder(folder)


def _post(fields: list[object]) -> ExcerptPost:
    message_id, guild_id, channel_id, story_id, position, posted_by = fields
    return ExcerptPost(
        int(str(message_id)),
        int(str(guild_id)),
        int(str(channel_id)),
        int(str(story_id)),
        int(str(position)),
        None if posted_by is None else int(str(posted_by)),
    )


def _parse(path: Path) -> tuple[list[ExcerptPost], list[JournalEvent]]:
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise ValueError("not a feedback journal of this version")
    posts = [_post(fields) for fields in document["posts"]]
    events: list[JournalEvent] = []
    for op, message_id, emoji, user_id, snapshot in document["events"]:
        if op not in _OPS:
            raise ValueError(f"unknown operation {op!r}")
        events.append((op, int(message_id), str(emoji), int(user_id), str(snapshot)))
    return posts, events


def _sync_folder(folder: Path) -> None:
    # The rename (or removal) itself is on disk only once the folder is.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
