-- Per-server shelves: stories, their sections, and full-text indexes.

CREATE TABLE guild_settings (
    guild_id        INTEGER PRIMARY KEY,
    -- Highest rating posted outside age-restricted channels.
    max_rating      TEXT NOT NULL DEFAULT 'teen'
                    CHECK (max_rating IN ('general', 'teen', 'mature')),
    -- JSON list of emoji added to every excerpt; NULL means the default set.
    feedback_emoji  TEXT,
    moderator_notes TEXT
);

CREATE TABLE stories (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    title         TEXT NOT NULL,
    -- casefolded title: uniqueness per shelf and exact look-ups
    title_key     TEXT NOT NULL,
    author        TEXT,
    rating_label  TEXT NOT NULL,
    rating_level  TEXT NOT NULL
                  CHECK (rating_level IN ('general', 'teen', 'mature', 'explicit', 'not_rated')),
    pairing       TEXT,
    fandom        TEXT,
    warnings      TEXT,
    summary       TEXT,
    disclaimer    TEXT,
    notes         TEXT,
    -- every other header field, as a JSON object keyed by lower-case name
    extra_json    TEXT NOT NULL DEFAULT '{}',
    source_format TEXT NOT NULL DEFAULT 'text',
    section_count INTEGER NOT NULL,
    word_count    INTEGER NOT NULL,
    added_by      INTEGER,
    added_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at    TEXT,
    UNIQUE (guild_id, title_key)
);

CREATE TABLE sections (
    id         INTEGER PRIMARY KEY,
    story_id   INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,  -- 1-based, story order
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    word_count INTEGER NOT NULL,
    UNIQUE (story_id, position)
);

-- Full-text search over section text (external content: the text lives once).
CREATE VIRTUAL TABLE section_fts USING fts5 (
    body,
    content = 'sections',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER sections_fts_insert AFTER INSERT ON sections BEGIN
    INSERT INTO section_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER sections_fts_delete AFTER DELETE ON sections BEGIN
    INSERT INTO section_fts (section_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER sections_fts_update AFTER UPDATE OF body ON sections BEGIN
    INSERT INTO section_fts (section_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO section_fts (rowid, body) VALUES (new.id, new.body);
END;

-- Title word-prefix index for autocomplete and /stories queries.
CREATE VIRTUAL TABLE story_title_fts USING fts5 (
    title,
    content = 'stories',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);

CREATE TRIGGER stories_title_insert AFTER INSERT ON stories BEGIN
    INSERT INTO story_title_fts (rowid, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER stories_title_delete AFTER DELETE ON stories BEGIN
    INSERT INTO story_title_fts (story_title_fts, rowid, title) VALUES ('delete', old.id, old.title);
END;
CREATE TRIGGER stories_title_update AFTER UPDATE OF title ON stories BEGIN
    INSERT INTO story_title_fts (story_title_fts, rowid, title) VALUES ('delete', old.id, old.title);
    INSERT INTO story_title_fts (rowid, title) VALUES (new.id, new.title);
END;
