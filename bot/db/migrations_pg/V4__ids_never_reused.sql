-- Story ids are never reused (see migrations/V4): every insert names its id as one
-- past the highest ever issued.
CREATE TABLE story_id_high_water (last BIGINT NOT NULL);
INSERT INTO story_id_high_water (last) SELECT coalesce(max(id), 0) FROM stories;

CREATE FUNCTION storyshelf_story_id_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF new.id IS NULL OR new.id <= (SELECT last FROM story_id_high_water) THEN
        RAISE EXCEPTION 'story ids are never reused';
    END IF;
    UPDATE story_id_high_water SET last = new.id;
    RETURN new;
END
$$;
CREATE TRIGGER stories_id_never_reused BEFORE INSERT ON stories
    FOR EACH ROW EXECUTE FUNCTION storyshelf_story_id_check();

ALTER TABLE stories ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;

ALTER TABLE sections ADD COLUMN notes TEXT NOT NULL DEFAULT '';
