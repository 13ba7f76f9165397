-- Outbound provisioning (issue 6): jobs (settings + engine state as JSON), what was sent for
-- each object, the provisioning log, and the directory change log.

CREATE TABLE provisioning_jobs (
    app_id TEXT COLLATE "C" NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    tenant_id TEXT COLLATE "C" NOT NULL,
    data TEXT NOT NULL,
    CONSTRAINT provisioning_jobs_pkey PRIMARY KEY (app_id)
);

CREATE TABLE provisioned_objects (
    app_id TEXT COLLATE "C" NOT NULL REFERENCES provisioning_jobs (app_id) ON DELETE CASCADE,
    tenant_id TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    source_id TEXT COLLATE "C" NOT NULL,
    target_id TEXT NOT NULL,
    sent TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    updated_ns BIGINT NOT NULL,
    CONSTRAINT provisioned_objects_pkey PRIMARY KEY (app_id, kind, source_id)
);

CREATE TABLE provisioning_log (
    id TEXT COLLATE "C" NOT NULL,
    app_id TEXT COLLATE "C" NOT NULL REFERENCES provisioning_jobs (app_id) ON DELETE CASCADE,
    tenant_id TEXT COLLATE "C" NOT NULL,
    cycle_id TEXT COLLATE "C",
    source_id TEXT COLLATE "C" NOT NULL,
    result TEXT NOT NULL,
    data TEXT NOT NULL,
    CONSTRAINT provisioning_log_pkey PRIMARY KEY (id)
);
CREATE INDEX provisioning_log_app_idx ON provisioning_log (app_id, id);

-- Written by a trigger in the transaction of each change. No foreign key: a tenant's deletion
-- writes entries for its cascaded rows, and `delete_tenant` removes them afterwards.
CREATE TABLE directory_changes (
    seq BIGSERIAL PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    object_id TEXT COLLATE "C" NOT NULL
);
CREATE INDEX directory_changes_tenant_idx ON directory_changes (tenant_id, seq);

CREATE FUNCTION record_directory_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
BEGIN
    -- Writers of the change log take turns until they commit, so sequence numbers are
    -- handed out in commit order: a reader that saw N never later finds a smaller one.
    PERFORM pg_advisory_xact_lock(7161501);
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF TG_TABLE_NAME = 'users' THEN
        INSERT INTO directory_changes (tenant_id, kind, object_id) VALUES (r.tenant_id, 'user', r.id);
    ELSIF TG_TABLE_NAME = 'groups' THEN
        INSERT INTO directory_changes (tenant_id, kind, object_id) VALUES (r.tenant_id, 'group', r.id);
    ELSIF TG_TABLE_NAME = 'group_members' THEN
        INSERT INTO directory_changes (tenant_id, kind, object_id)
            VALUES (r.tenant_id, 'user', r.user_id), (r.tenant_id, 'group', r.group_id);
    ELSIF TG_TABLE_NAME = 'assignments' THEN
        IF r.user_id IS NOT NULL THEN
            INSERT INTO directory_changes (tenant_id, kind, object_id) VALUES (r.tenant_id, 'user', r.user_id);
        ELSE
            INSERT INTO directory_changes (tenant_id, kind, object_id) VALUES (r.tenant_id, 'group', r.group_id);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION record_directory_change();
CREATE TRIGGER groups_changed AFTER INSERT OR UPDATE OR DELETE ON groups
    FOR EACH ROW EXECUTE FUNCTION record_directory_change();
CREATE TRIGGER members_changed AFTER INSERT OR DELETE ON group_members
    FOR EACH ROW EXECUTE FUNCTION record_directory_change();
CREATE TRIGGER assignments_changed AFTER INSERT OR UPDATE OR DELETE ON assignments
    FOR EACH ROW EXECUTE FUNCTION record_directory_change();
