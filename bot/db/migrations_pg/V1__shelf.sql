-- Per-server shelves: stories, their sections, and full-text search (PostgreSQL).
-- The same tables, columns and constraints as migrations/V1__shelf.sql; ids are
-- BIGINT (Discord snowflakes), times are ISO-8601 text as on SQLite, and search
-- uses a tsvector per section (never per story: a tsvector must stay under 1 MB).

CREATE EXTENSION IF NOT EXISTS unaccent;

-- Words as SQLite's `unicode61 remove_diacritics 2` tokenizer sees them: lower case,
-- accents folded, no stemming and no stop words.
CREATE TEXT SEARCH CONFIGURATION storyshelf (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION storyshelf
    ALTER MAPPING FOR word, hword, hword_part, numword, numhword, hword_numpart
    WITH unaccent, simple;

CREATE FUNCTION storyshelf_now() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- The text as words, as FTS5's unicode61 splits it: every ASCII punctuation mark
-- separates words. PostgreSQL's own parser would otherwise read `Allen._`, `A.D` or
-- `Crowley.You` (a missing space) as one "file" or "host" token, and the bare word
-- would never be found. The character ranges are code points, whatever the locale.
CREATE FUNCTION storyshelf_words(body text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(body, '[!-/:-@[-`{-~]+', ' ', 'g')
$$;

-- A section's search vector. A tsvector is limited to 1 MB; a section that long (a
-- whole novel without headings) is indexed in pieces without word positions, so it
-- stays searchable (ranked by which words it holds, not how close they stand).
CREATE FUNCTION storyshelf_tsvector(body text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    result tsvector := ''::tsvector;
    piece  integer := 100000;
BEGIN
    RETURN to_tsvector('storyshelf', storyshelf_words(body));
EXCEPTION WHEN program_limit_exceeded THEN
    FOR i IN 0 .. length(body) / piece LOOP
        result := result || strip(
            to_tsvector('storyshelf', storyshelf_words(substr(body, i * piece + 1, piece)))
        );
    END LOOP;
    RETURN result;
END
$$;

CREATE TABLE guild_settings (
    guild_id        BIGINT PRIMARY KEY,
    max_rating      TEXT NOT NULL DEFAULT 'teen'
                    CHECK (max_rating IN ('general', 'teen', 'mature')),
    feedback_emoji  TEXT,
    moderator_notes TEXT
);

CREATE TABLE stories (
    id            BIGINT PRIMARY KEY,
    guild_id      BIGINT NOT NULL,
    title         TEXT NOT NULL,
    -- compared by code point, as SQLite compares text (prefix look-ups by range)
    title_key     TEXT COLLATE "C" NOT NULL,
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
    extra_json    TEXT NOT NULL DEFAULT '{}',
    source_format TEXT NOT NULL DEFAULT 'text',
    section_count INTEGER NOT NULL,
    word_count    INTEGER NOT NULL,
    added_by      BIGINT,
    added_at      TEXT NOT NULL DEFAULT storyshelf_now(),
    updated_at    TEXT,
    UNIQUE (guild_id, title_key)
);
-- Title word prefixes for autocomplete and /stories queries.
CREATE INDEX stories_title_words ON stories
    USING gin (to_tsvector('storyshelf', storyshelf_words(title)));

CREATE TABLE sections (
    id         BIGSERIAL PRIMARY KEY,
    story_id   BIGINT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    word_count INTEGER NOT NULL,
    search     tsvector NOT NULL GENERATED ALWAYS AS (storyshelf_tsvector(body)) STORED,
    UNIQUE (story_id, position)
);
CREATE INDEX sections_search ON sections USING gin (search);
