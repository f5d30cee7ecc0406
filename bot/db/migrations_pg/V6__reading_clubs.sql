-- Reading clubs: a story posted section by section on a schedule, one thread per section.

CREATE TABLE reading_clubs (
    id               BIGSERIAL PRIMARY KEY,
    guild_id         BIGINT NOT NULL,
    channel_id       BIGINT NOT NULL,
    story_id         BIGINT REFERENCES stories (id) ON DELETE SET NULL,
    story_title      TEXT NOT NULL,
    period_days      INTEGER NOT NULL CHECK (period_days BETWEEN 1 AND 366),
    weekday          INTEGER CHECK (weekday BETWEEN 0 AND 6),
    at_minute        INTEGER NOT NULL CHECK (at_minute BETWEEN 0 AND 1439),
    timezone         TEXT NOT NULL DEFAULT 'UTC',
    anchor_date      TEXT NOT NULL,
    role_id          BIGINT,
    next_section     INTEGER NOT NULL DEFAULT 1 CHECK (next_section >= 1),
    next_run_at      BIGINT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'active'
                     CHECK (state IN ('active', 'paused', 'finished', 'stopped')),
    state_reason     TEXT,
    first_message_id BIGINT,
    started_by       BIGINT,
    started_at       TEXT NOT NULL DEFAULT storyshelf_now()
);
CREATE INDEX reading_clubs_due ON reading_clubs (state, next_run_at);
CREATE INDEX reading_clubs_guild ON reading_clubs (guild_id, state);
CREATE INDEX reading_clubs_story ON reading_clubs (story_id);
-- A removed story's active clubs become due at once (see migrations/V6).
CREATE FUNCTION storyshelf_club_story_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF new.story_id IS NULL AND old.story_id IS NOT NULL AND new.state = 'active' THEN
        new.next_run_at := 0;
    END IF;
    RETURN new;
END
$$;
CREATE TRIGGER reading_clubs_story_removed BEFORE UPDATE OF story_id ON reading_clubs
    FOR EACH ROW EXECUTE FUNCTION storyshelf_club_story_removed();
CREATE UNIQUE INDEX reading_clubs_running ON reading_clubs (channel_id, story_id)
    WHERE state IN ('active', 'paused');

CREATE TABLE club_posts (
    club_id    BIGINT NOT NULL REFERENCES reading_clubs (id) ON DELETE CASCADE,
    section    INTEGER NOT NULL,
    claimed_at BIGINT NOT NULL,
    message_id BIGINT,
    thread_id  BIGINT,
    PRIMARY KEY (club_id, section)
);
