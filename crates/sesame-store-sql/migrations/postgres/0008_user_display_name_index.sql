-- Prefix searches on display names (SCIM `displayName sw "…"`, issue 6): the folded display
-- name in an indexed column, compared bytewise (COLLATE "C") so that a range scan finds a
-- prefix. The backfill runs without the change-log trigger: it changes no user.
ALTER TABLE users ADD COLUMN display_name_lower TEXT COLLATE "C";
ALTER TABLE users DISABLE TRIGGER users_changed;
UPDATE users SET display_name_lower = lower((data::jsonb) ->> 'displayName');
ALTER TABLE users ENABLE TRIGGER users_changed;
CREATE INDEX users_display_name_idx ON users (tenant_id, display_name_lower);
