-- Where each reader stopped in each story, per server: the last section and page read.
CREATE TABLE reading_progress (
    guild_id         BIGINT NOT NULL,
    user_id          BIGINT NOT NULL,
    story_id         BIGINT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    section_position INTEGER NOT NULL,
    page             INTEGER NOT NULL,
    read_at          BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id, story_id)
);
CREATE INDEX reading_progress_recent ON reading_progress (guild_id, user_id, read_at);
CREATE INDEX reading_progress_story ON reading_progress (story_id);
