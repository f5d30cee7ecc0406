-- Excerpt posts (a Discord message showing one section) and the reactions on them.

CREATE TABLE excerpt_posts (
    message_id       BIGINT PRIMARY KEY,
    guild_id         BIGINT NOT NULL,
    channel_id       BIGINT NOT NULL,
    story_id         BIGINT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    section_position INTEGER NOT NULL,
    posted_by        BIGINT,
    posted_at        TEXT NOT NULL DEFAULT storyshelf_now()
);
CREATE INDEX excerpt_posts_story ON excerpt_posts (story_id, section_position);
CREATE INDEX excerpt_posts_posted_at ON excerpt_posts (posted_at);

CREATE TABLE reactions (
    message_id BIGINT NOT NULL REFERENCES excerpt_posts (message_id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL,
    user_id    BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);
