-- Foundation schema (issue 2): directory, credentials, sessions, sign-in log, admin tokens.
-- Ids are UUID strings (v7, so text order is creation order); times are Unix nanoseconds (exact).
-- Constraint names mirror the PostgreSQL schema; SQLite reports violations by column list, which
-- `error.rs` maps to the same sentinels.

CREATE TABLE tenants (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    initial_domain TEXT NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE UNIQUE INDEX tenants_initial_domain_key ON tenants (initial_domain);

CREATE TABLE domains (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    verification_token TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    verified_ns INTEGER,
    PRIMARY KEY (tenant_id, name)
);
-- A name is verified (or federated) in at most one tenant.
CREATE UNIQUE INDEX domains_verified_name_key ON domains (name) WHERE status <> 'unverified';

CREATE TABLE users (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    upn_lower TEXT NOT NULL,
    immutable_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE UNIQUE INDEX users_upn_key ON users (tenant_id, upn_lower);
CREATE UNIQUE INDEX users_immutable_id_key ON users (tenant_id, immutable_id);
CREATE INDEX users_tenant_id_idx ON users (tenant_id, id);

CREATE TABLE passwords (
    user_id TEXT NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    hash TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL,
    locked_until_ns INTEGER,
    updated_ns INTEGER NOT NULL
);

CREATE TABLE groups (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    description TEXT,
    version INTEGER NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE UNIQUE INDEX groups_display_name_key ON groups (tenant_id, name_lower);
CREATE INDEX groups_tenant_id_idx ON groups (tenant_id, id);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_idx ON group_members (user_id);

CREATE TABLE apps (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    version INTEGER NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE INDEX apps_tenant_id_idx ON apps (tenant_id, id);

-- Exactly one of user_id / group_id is set; both reference their principal so deletes cascade.
CREATE TABLE assignments (
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    group_id TEXT REFERENCES groups (id) ON DELETE CASCADE,
    app_role TEXT,
    created_ns INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX assignments_user_key ON assignments (app_id, user_id);
CREATE UNIQUE INDEX assignments_group_key ON assignments (app_id, group_id);
CREATE INDEX assignments_user_idx ON assignments (user_id);
CREATE INDEX assignments_group_idx ON assignments (group_id);

CREATE TABLE sessions (
    id_digest TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    authenticated_ns INTEGER NOT NULL,
    expires_ns INTEGER NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_ns);

-- The log outlives the users it names, but not its tenant.
CREATE TABLE sign_ins (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    at_ns INTEGER NOT NULL,
    user_id TEXT,
    user_principal_name TEXT NOT NULL,
    app_id TEXT,
    protocol TEXT NOT NULL,
    result TEXT NOT NULL,
    reason TEXT,
    ip TEXT,
    correlation_id TEXT NOT NULL
);
CREATE INDEX sign_ins_tenant_idx ON sign_ins (tenant_id, id);
CREATE INDEX sign_ins_user_idx ON sign_ins (tenant_id, user_id, id);
CREATE INDEX sign_ins_correlation_idx ON sign_ins (tenant_id, correlation_id);

CREATE TABLE admin_tokens (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE UNIQUE INDEX admin_tokens_digest_key ON admin_tokens (digest);
CREATE INDEX admin_tokens_tenant_idx ON admin_tokens (tenant_id);
