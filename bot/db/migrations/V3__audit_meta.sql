-- Who changed what on a shelf, and the bot's own bookkeeping.

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER,
    action      TEXT NOT NULL,
    story_id    INTEGER,
    story_title TEXT,
    detail      TEXT,
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX audit_log_guild ON audit_log (guild_id, id);
CREATE INDEX audit_log_story ON audit_log (story_id);

CREATE TABLE bot_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
