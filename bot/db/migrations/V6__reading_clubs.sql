-- Reading clubs: a story posted section by section on a schedule, one thread per section.

CREATE TABLE reading_clubs (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL,
    channel_id       INTEGER NOT NULL,
    -- NULL once the story is removed: the scheduler then stops the club, saying so
    story_id         INTEGER REFERENCES stories (id) ON DELETE SET NULL,
    -- kept for saying which story a club was reading after it is gone
    story_title      TEXT NOT NULL,
    -- every `period_days` days from `anchor_date` (a local date), at `at_minute` local time
    period_days      INTEGER NOT NULL CHECK (period_days BETWEEN 1 AND 366),
    weekday          INTEGER CHECK (weekday BETWEEN 0 AND 6),
    at_minute        INTEGER NOT NULL CHECK (at_minute BETWEEN 0 AND 1439),
    timezone         TEXT NOT NULL DEFAULT 'UTC',
    anchor_date      TEXT NOT NULL,
    role_id          INTEGER,
    next_section     INTEGER NOT NULL DEFAULT 1 CHECK (next_section >= 1),
    -- unix seconds (UTC) of the next scheduled post
    next_run_at      INTEGER NOT NULL,
    state            TEXT NOT NULL DEFAULT 'active'
                     CHECK (state IN ('active', 'paused', 'finished', 'stopped')),
    state_reason     TEXT,
    -- the club's first post, which carries the role's join/leave button
    first_message_id INTEGER,
    started_by       INTEGER,
    started_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX reading_clubs_due ON reading_clubs (state, next_run_at);
CREATE INDEX reading_clubs_guild ON reading_clubs (guild_id, state);
CREATE INDEX reading_clubs_story ON reading_clubs (story_id);
-- A removed story's active clubs become due at once: the scheduler stops them, saying so
-- (the due look stays one index range, with no scan for clubs without a story).
CREATE TRIGGER reading_clubs_story_removed AFTER UPDATE OF story_id ON reading_clubs
WHEN new.story_id IS NULL AND old.story_id IS NOT NULL AND new.state = 'active'
BEGIN
    UPDATE reading_clubs SET next_run_at = 0 WHERE id = new.id;
END;
-- One running club per story per channel, whichever process starts it.
CREATE UNIQUE INDEX reading_clubs_running ON reading_clubs (channel_id, story_id)
    WHERE state IN ('active', 'paused');

-- A section a club has claimed (before sending) and, once Discord took it, where it is.
-- The primary key is the claim: two processes can never both post one section.
CREATE TABLE club_posts (
    club_id    INTEGER NOT NULL REFERENCES reading_clubs (id) ON DELETE CASCADE,
    section    INTEGER NOT NULL,
    claimed_at INTEGER NOT NULL,
    message_id INTEGER,
    thread_id  INTEGER,
    PRIMARY KEY (club_id, section)
) WITHOUT ROWID;
