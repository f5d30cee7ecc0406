"""The PostgreSQL pass: with TEST_DATABASE_URL set, every test gets a database of its own.

`TEST_DATABASE_URL` names a server and a database the tests may connect to as a
user who may create databases (e.g. postgresql://postgres@127.0.0.1:54329/postgres).
A template database is migrated once per run; each test's database is a copy of it
(CREATE DATABASE … TEMPLATE, a file copy), dropped afterwards. Without the variable
the suite runs on SQLite alone.

Tests read and arrange the database synchronously (`tests.support.query`,
`shelve`): psycopg for reads, and the bot's own asyncpg code run on a loop of
its own in a worker thread for stories, so the rows are written exactly as the
bot writes them.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

T = TypeVar("T")

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None
# One template per test run (runs side by side must not drop each other's).
TEMPLATE = f"storyshelf_test_template_{os.getpid()}"


def enabled() -> bool:
    return TEST_DATABASE_URL is not None


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _admin():
    import psycopg

    assert TEST_DATABASE_URL is not None
    return psycopg.connect(TEST_DATABASE_URL, autocommit=True)


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to the end on a loop of its own in a worker thread (the test's
    own loop may be running, and asyncpg connections belong to one loop)."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(factory()))
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def prepare_template() -> None:
    """The migrated database every test's database is copied from (once per run)."""
    from bot.db.pg import open_pg

    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{TEMPLATE}"')

    async def migrate() -> None:
        db = await open_pg(with_database(TEST_DATABASE_URL or "", TEMPLATE))
        await db.close()

    run_async(migrate)


def drop_template() -> None:
    drop_database(TEMPLATE)


def create_database() -> str:
    name = "storyshelf_test_" + uuid.uuid4().hex[:16]
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    return name


def drop_database(name: str) -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_PLACEHOLDER = re.compile(r"\?(\d*)")


def query(url: str, sql: str, params: tuple[object, ...]) -> list[tuple]:
    """A test's look at the database, with SQLite's placeholders."""
    import psycopg

    counter = 0

    def number(match: re.Match[str]) -> str:
        nonlocal counter
        counter += 1
        return "%s"

    assert not re.search(r"\?\d", sql), "numbered placeholders: write them as ? each"
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(_PLACEHOLDER.sub(number, sql.replace("%", "%%")), params)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
