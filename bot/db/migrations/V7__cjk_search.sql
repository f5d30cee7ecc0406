-- Search for Chinese, Japanese and Korean words: each section's CJK text as bigrams
-- (see bot/cjk.py), written by the application beside the section; only sections
-- that have CJK text get a row.
CREATE VIRTUAL TABLE section_cjk_fts USING fts5 (
    grams,
    tokenize = 'unicode61'
);

CREATE TRIGGER sections_cjk_delete AFTER DELETE ON sections BEGIN
    DELETE FROM section_cjk_fts WHERE rowid = old.id;
END;

-- Sections stored before this version: the application fills in their rows.
INSERT INTO section_cjk_fts (rowid, grams)
    SELECT id, storyshelf_cjk_grams(body) FROM sections WHERE storyshelf_has_cjk(body);
