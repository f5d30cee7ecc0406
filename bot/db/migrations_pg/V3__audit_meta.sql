-- Who changed what on a shelf, and the bot's own bookkeeping.

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    guild_id    BIGINT NOT NULL,
    user_id     BIGINT,
    action      TEXT NOT NULL,
    story_id    BIGINT,
    story_title TEXT,
    detail      TEXT,
    at          TEXT NOT NULL DEFAULT storyshelf_now()
);
CREATE INDEX audit_log_guild ON audit_log (guild_id, id);
CREATE INDEX audit_log_story ON audit_log (story_id);

CREATE TABLE bot_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
