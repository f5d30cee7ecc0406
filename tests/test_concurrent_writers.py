"""Writers in several processes at once on one shelf (the SQLite file, or PostgreSQL on
that pass): story ids and titles stay unique however the writes interleave.

Each writer is a connection of its own on its own thread, as another shard group or
an `import` on another machine would be.
"""

from __future__ import annotations

import threading

from bot.db.stories import DuplicateTitleError
from tests.support import make_story, query, shelve

WRITERS = 6


def _at_once(settings, titles: list[str]) -> tuple[list[int], list[BaseException]]:
    start = threading.Barrier(len(titles))
    ids: list[int] = []
    errors: list[BaseException] = []

    def write(title: str) -> None:
        start.wait()
        try:
            ids.append(shelve(settings, 9, make_story(title)).id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(title,)) for title in titles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return ids, errors


def test_the_same_title_added_at_once_is_stored_once(settings):
    ids, errors = _at_once(settings, ["Tea at Five"] * WRITERS)

    assert len(ids) == 1
    assert len(errors) == WRITERS - 1
    assert all(isinstance(error, DuplicateTitleError) for error in errors), errors
    assert query(settings, "SELECT count(*) FROM stories") == [(1,)]
    assert query(settings, "SELECT count(*) FROM sections") == [(2,)]


def test_stories_added_at_once_get_ids_of_their_own(settings):
    ids, errors = _at_once(settings, [f"Story {n}" for n in range(WRITERS)])

    assert errors == []
    assert sorted(ids) == list(range(1, WRITERS + 1))
    rows = query(settings, "SELECT story_id, count(*) FROM sections GROUP BY story_id")
    assert sorted(rows) == [(n, 2) for n in range(1, WRITERS + 1)]
