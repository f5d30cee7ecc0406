-- Excerpt posts (a Discord message showing one section) and the reactions on them.

CREATE TABLE excerpt_posts (
    message_id       INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL,
    channel_id       INTEGER NOT NULL,
    story_id         INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    -- the section's position, not its row: feedback outlives a /library replace
    section_position INTEGER NOT NULL,
    posted_by        INTEGER,
    posted_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX excerpt_posts_story ON excerpt_posts (story_id, section_position);
CREATE INDEX excerpt_posts_posted_at ON excerpt_posts (posted_at);

-- One row per reader per emoji per excerpt message.
CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES excerpt_posts (message_id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL,
    user_id    INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) WITHOUT ROWID;
