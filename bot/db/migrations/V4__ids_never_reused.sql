-- Story ids are never reused: a removed story's buttons, cached pages and excerpt
-- rows must never start pointing at a story added later (in any server).
-- Every insert names its id as one past the highest ever issued.
CREATE TABLE story_id_high_water (last INTEGER NOT NULL);
INSERT INTO story_id_high_water (last) SELECT coalesce(max(id), 0) FROM stories;

CREATE TRIGGER stories_id_never_reused BEFORE INSERT ON stories
WHEN new.id IS NULL OR new.id <= (SELECT last FROM story_id_high_water)
BEGIN
    SELECT RAISE(ABORT, 'story ids are never reused');
END;
CREATE TRIGGER stories_id_high_water AFTER INSERT ON stories BEGIN
    UPDATE story_id_high_water SET last = new.id;
END;

-- Bumped by every change to a story, so cached pages are keyed by exactly what they show.
ALTER TABLE stories ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;

-- What the author says about a section (AO3 chapter summary and notes): shown with
-- the section, never counted or searched as its text.
ALTER TABLE sections ADD COLUMN notes TEXT NOT NULL DEFAULT '';

-- Title keys are normalised by the application (NFKC, invisible characters dropped,
-- casefolded): recompute them with the function the connection registers.
UPDATE stories SET title_key = storyshelf_title_key(title);
