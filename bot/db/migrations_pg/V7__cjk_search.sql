-- Search for Chinese, Japanese and Korean words: each section's CJK text as bigrams
-- (bot/cjk.py), written by the application beside the section; only sections that
-- have CJK text get a row.
CREATE TABLE section_cjk (
    section_id BIGINT PRIMARY KEY REFERENCES sections (id) ON DELETE CASCADE,
    grams      tsvector NOT NULL
);
CREATE INDEX section_cjk_grams ON section_cjk USING gin (grams);
