-- A counter per server for each thing a process keeps in memory about it (see
-- migrations/V8), kept by triggers so no write path can forget to bump it.
CREATE TABLE guild_versions (
    guild_id BIGINT PRIMARY KEY,
    shelf    BIGINT NOT NULL DEFAULT 0,
    settings BIGINT NOT NULL DEFAULT 0
);

CREATE FUNCTION storyshelf_bump(guild BIGINT, what TEXT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF what = 'shelf' THEN
        INSERT INTO guild_versions (guild_id, shelf) VALUES (guild, 1)
            ON CONFLICT (guild_id) DO UPDATE SET shelf = guild_versions.shelf + 1;
    ELSE
        INSERT INTO guild_versions (guild_id, settings) VALUES (guild, 1)
            ON CONFLICT (guild_id) DO UPDATE SET settings = guild_versions.settings + 1;
    END IF;
END
$$;

CREATE FUNCTION storyshelf_stories_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF tg_op IN ('UPDATE', 'DELETE') THEN
        PERFORM storyshelf_bump(old.guild_id, 'shelf');
    END IF;
    IF tg_op = 'INSERT' OR (tg_op = 'UPDATE' AND new.guild_id <> old.guild_id) THEN
        PERFORM storyshelf_bump(new.guild_id, 'shelf');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER stories_shelf_version_insert AFTER INSERT ON stories
    FOR EACH ROW EXECUTE FUNCTION storyshelf_stories_changed();
CREATE TRIGGER stories_shelf_version_delete AFTER DELETE ON stories
    FOR EACH ROW EXECUTE FUNCTION storyshelf_stories_changed();
CREATE TRIGGER stories_shelf_version_update
    AFTER UPDATE OF guild_id, title, title_key, rating_label, rating_level ON stories
    FOR EACH ROW EXECUTE FUNCTION storyshelf_stories_changed();

CREATE FUNCTION storyshelf_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM storyshelf_bump(CASE WHEN tg_op = 'DELETE' THEN old.guild_id ELSE new.guild_id END,
                            'settings');
    RETURN NULL;
END
$$;
CREATE TRIGGER guild_settings_version_insert AFTER INSERT ON guild_settings
    FOR EACH ROW EXECUTE FUNCTION storyshelf_settings_changed();
CREATE TRIGGER guild_settings_version_update AFTER UPDATE ON guild_settings
    FOR EACH ROW EXECUTE FUNCTION storyshelf_settings_changed();
CREATE TRIGGER guild_settings_version_delete AFTER DELETE ON guild_settings
    FOR EACH ROW EXECUTE FUNCTION storyshelf_settings_changed();
