-- Prefix searches on display names (SCIM `displayName sw "…"`, issue 6): the folded display
-- name in an indexed column. Rows written before this migration are folded by SQLite's
-- lower() (ASCII only); every later write stores Rust's full Unicode fold. The backfill runs
-- without the change-log trigger: it changes no user.
ALTER TABLE users ADD COLUMN display_name_lower TEXT;
DROP TRIGGER users_changed_upd;
UPDATE users SET display_name_lower = lower(json_extract(data, '$.displayName'));
CREATE TRIGGER users_changed_upd AFTER UPDATE ON users BEGIN
    INSERT INTO directory_changes (tenant_id, kind, object_id) VALUES (NEW.tenant_id, 'user', NEW.id);
END;
CREATE INDEX users_display_name_idx ON users (tenant_id, display_name_lower);
