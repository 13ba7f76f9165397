-- Outbound provisioning (issue 6): jobs (settings + engine state as JSON), what was sent for
-- each object, the provisioning log, and the directory change log.

CREATE TABLE provisioning_jobs (
    app_id TEXT NOT NULL PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE provisioned_objects (
    app_id TEXT NOT NULL REFERENCES provisioning_jobs (app_id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    source_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    sent TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    updated_ns INTEGER NOT NULL,
    PRIMARY KEY (app_id, kind, source_id)
);

CREATE TABLE provisioning_log (
    id TEXT NOT NULL PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES provisioning_jobs (app_id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    cycle_id TEXT,
    source_id TEXT NOT NULL,
    result TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX provisioning_log_app_idx ON provisioning_log (app_id, id);

-- Written by triggers in the transaction of each change; SQLite's single writer makes the
-- AUTOINCREMENT order the commit order. No foreign key: a tenant's deletion writes entries
-- for its cascaded rows, and `delete_tenant` removes them afterwards.
CREATE TABLE directory_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL
);
CREATE INDEX directory_changes_tenant_idx ON directory_changes (tenant_id, seq);

CREATE TRIGGER users_changed_ins AFTER INSERT ON users BEGIN
    INSERT INTO directory_changes (tenant_id, kind, object_id) VALUES (NEW.tenant_id, 'user', NEW.id);
END;
CREATE TRIGGER users_changed_upd AFTER UPDATE ON users BEGIN
    INSERT INTO directory_changes (tenant_id, kind, object_id) VALUES (NEW.tenant_id, 'user', NEW.id);
END;
CREATE TRIGGER users_changed_del AFTER DELETE ON users BEGIN
    INSERT INTO directory_changes (tenant_id, kind, object_id) VALUES (OLD.tenant_id, 'user', OLD.id);
END;
CREATE TRIGGER groups_changed_ins AFTER INSERT ON groups BEGIN
    INSERT INTO directory_changes (tenant_id, kind, object_id) VALUES (NEW.tenant_id, 'group', NEW.id);
END;
CREATE TRIGGER groups_changed_upd AFTER UPDATE ON groups BEGIN
    INSERT INTO directory_changes (tenant_id, kind, object_id) VALUES (NEW.tenant_id, 'group', NEW.id);
END;
CREATE TRIGGER groups_changed_del AFTER DELETE ON groups BEGIN
    INSERT INTO directory_changes (tenant_id, kind, object_id) VALUES (OLD.tenant_id, 'group', OLD.id);
END;
CREATE TRIGGER members_changed_ins AFTER INSERT ON group_members BEGIN
    INSERT INTO directory_changes (tenant_id, kind, object_id)
        VALUES (NEW.tenant_id, 'user', NEW.user_id), (NEW.tenant_id, 'group', NEW.group_id);
END;
CREATE TRIGGER members_changed_del AFTER DELETE ON group_members BEGIN
    INSERT INTO directory_changes (tenant_id, kind, object_id)
        VALUES (OLD.tenant_id, 'user', OLD.user_id), (OLD.tenant_id, 'group', OLD.group_id);
END;
CREATE TRIGGER assignments_changed_ins AFTER INSERT ON assignments BEGIN
    INSERT INTO directory_changes (tenant_id, kind, object_id)
        SELECT NEW.tenant_id, CASE WHEN NEW.user_id IS NULL THEN 'group' ELSE 'user' END,
               COALESCE(NEW.user_id, NEW.group_id);
END;
CREATE TRIGGER assignments_changed_upd AFTER UPDATE ON assignments BEGIN
    INSERT INTO directory_changes (tenant_id, kind, object_id)
        SELECT NEW.tenant_id, CASE WHEN NEW.user_id IS NULL THEN 'group' ELSE 'user' END,
               COALESCE(NEW.user_id, NEW.group_id);
END;
CREATE TRIGGER assignments_changed_del AFTER DELETE ON assignments BEGIN
    INSERT INTO directory_changes (tenant_id, kind, object_id)
        SELECT OLD.tenant_id, CASE WHEN OLD.user_id IS NULL THEN 'group' ELSE 'user' END,
               COALESCE(OLD.user_id, OLD.group_id);
END;
