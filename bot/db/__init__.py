"""Storage: every SQL statement of the bot, grouped by what it is about.

`connection.py` opens the database (WAL, foreign keys, busy timeout) and applies the
numbered migrations in `migrations/`; `stories.py` (stories: look-ups, listing,
autocomplete, adding, replacing, editing, removing), `sections.py`, `search.py`
(full-text search), `excerpts.py` and `feedback.py` (posts and the reactions on them),
`progress.py` (where readers stopped), `guild_settings.py`, `audit.py`, `meta.py`
(the bot's own bookkeeping), `versions.py` (per-server counters that tell a process
whether what it keeps in memory was changed by another), `quick.py` (reads on the loop).
Parameters are always bound; callers pass a connection.
"""
