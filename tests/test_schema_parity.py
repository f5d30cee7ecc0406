"""Both backends' migrations build the same schema: tables, columns, keys and constraints.

SQLite's schema comes from bot/db/migrations, PostgreSQL's from bot/db/migrations_pg,
numbered alike. Only the full-text search structures differ by design (FTS5 virtual
tables on SQLite; a generated tsvector column, a GIN index and `section_cjk` on
PostgreSQL), and PostgreSQL keeps its schema version in a table where SQLite has
PRAGMA user_version. Runs on the PostgreSQL pass (TEST_DATABASE_URL).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.db.connection import connect_sync, load_migrations
from tests import pg

pytestmark = pytest.mark.skipif(not pg.enabled(), reason="needs PostgreSQL (TEST_DATABASE_URL)")

# Search structures, different on purpose (see the module's docstring).
SQLITE_ONLY_TABLES = re.compile(r"^(section_fts|story_title_fts|section_cjk_fts)(_\w+)?$")
PG_ONLY_TABLES = {"section_cjk", "storyshelf_schema"}
PG_ONLY_COLUMNS = {("sections", "search")}
PG_ONLY_INDEXES = {"stories_title_words", "sections_search", "section_cjk_grams"}


@dataclass
class Table:
    columns: dict[str, bool] = field(default_factory=dict)  # name -> NOT NULL
    primary_key: tuple[str, ...] = ()
    unique: set[tuple[tuple[str, ...], bool]] = field(default_factory=set)  # (cols, partial)
    foreign_keys: set[tuple[str, str, str, str]] = field(default_factory=set)
    indexes: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    checks: int = 0


def sqlite_schema(path: Path) -> dict[str, Table]:
    conn = connect_sync(path)
    try:
        return _sqlite_tables(conn)
    finally:
        conn.close()


def _sqlite_tables(conn: sqlite3.Connection) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall():
        if SQLITE_ONLY_TABLES.match(name):
            continue
        table = tables[name] = Table()
        info = conn.execute(f"PRAGMA table_info({name})").fetchall()
        pk = sorted((row[5], row[1]) for row in info if row[5])
        table.primary_key = tuple(column for _, column in pk)
        for _, column, _, notnull, _, in_pk in info:
            table.columns[column] = bool(notnull or in_pk)
        for row in conn.execute(f"PRAGMA foreign_key_list({name})").fetchall():
            table.foreign_keys.add((row[3], row[2], row[4], row[6].upper()))
        for _, index, unique, origin, partial in conn.execute(
            f"PRAGMA index_list({name})"
        ).fetchall():
            columns = tuple(r[2] for r in conn.execute(f"PRAGMA index_info({index})").fetchall())
            if origin == "pk":
                continue
            if unique:
                table.unique.add((columns, bool(partial)))
            else:
                table.indexes.add((index, columns))
        table.checks = (sql or "").upper().count("CHECK (")
    return tables


def pg_schema(url: str) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    names = pg.query(
        url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", ()
    )
    for (name,) in names:
        if name in PG_ONLY_TABLES:
            continue
        table = tables[name] = Table()
        for column, nullable in pg.query(
            url,
            "SELECT column_name, is_nullable FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = ?",
            (name,),
        ):
            if (name, column) not in PG_ONLY_COLUMNS:
                table.columns[column] = nullable == "NO"
        for kind, columns, ref_table, ref_columns, on_delete in pg.query(
            url,
            "SELECT c.contype::text,"
            " array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)"
            "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),"
            " c.confrelid::regclass::text,"
            " array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)"
            "  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i),"
            " c.confdeltype::text"
            " FROM pg_constraint c WHERE c.conrelid = ?::regclass",
            (name,),
        ):
            if kind == "p":
                table.primary_key = tuple(columns)
            elif kind == "u":
                table.unique.add((tuple(columns), False))
            elif kind == "c":
                table.checks += 1
            elif kind == "f":
                action = {"a": "NO ACTION", "c": "CASCADE", "n": "SET NULL", "r": "RESTRICT"}
                table.foreign_keys.add(
                    (columns[0], ref_table, ref_columns[0], action.get(on_delete, on_delete))
                )
        for index, unique, primary, constraint, partial, columns in pg.query(
            url,
            "SELECT i.relname, x.indisunique, x.indisprimary,"
            " EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid),"
            " x.indpred IS NOT NULL,"
            " array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, i)"
            "  JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.i)"
            " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE x.indrelid = ?::regclass",
            (name,),
        ):
            if primary or constraint or index in PG_ONLY_INDEXES:
                continue
            if unique:
                table.unique.add((tuple(columns), partial))
            else:
                table.indexes.add((index, tuple(columns)))
    return tables


def test_both_backends_have_the_same_migrations():
    sqlite = [(m.version, m.name) for m in load_migrations("migrations")]
    postgres = [(m.version, m.name) for m in load_migrations("migrations_pg")]
    assert sqlite == postgres


def test_both_schemas_hold_the_same_tables_and_constraints(tmp_path, database_url):
    sqlite = sqlite_schema(tmp_path / "parity.db")
    postgres = pg_schema(database_url)

    assert sorted(sqlite) == sorted(postgres)
    for name in sqlite:
        assert sqlite[name] == postgres[name], name
    # The comparison sees what it should: a sample of what both must have.
    assert sqlite["reactions"].primary_key == ("message_id", "emoji", "user_id")
    assert ("story_id", "stories", "id", "CASCADE") in postgres["sections"].foreign_keys
    assert (("channel_id", "story_id"), True) in postgres["reading_clubs"].unique
    assert postgres["stories"].checks == 1 and postgres["reading_clubs"].checks == 5
