-- Foundation schema (issue 2): directory, credentials, sessions, sign-in log, admin tokens.
-- Ids are UUID strings (v7, so text order is creation order); times are Unix nanoseconds (exact).
-- Key columns use the C collation so text order is byte order on every locale; constraint and
-- index names are what `error.rs` maps to the store's Conflict sentinels.

CREATE TABLE tenants (
    id TEXT COLLATE "C" NOT NULL CONSTRAINT tenants_pkey PRIMARY KEY,
    name TEXT NOT NULL,
    initial_domain TEXT COLLATE "C" NOT NULL,
    created_ns BIGINT NOT NULL
);
CREATE UNIQUE INDEX tenants_initial_domain_key ON tenants (initial_domain);

CREATE TABLE domains (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,
    verification_token TEXT NOT NULL,
    created_ns BIGINT NOT NULL,
    verified_ns BIGINT,
    CONSTRAINT domains_pkey PRIMARY KEY (tenant_id, name)
);
-- A name is verified (or federated) in at most one tenant.
CREATE UNIQUE INDEX domains_verified_name_key ON domains (name) WHERE status <> 'unverified';

CREATE TABLE users (
    id TEXT COLLATE "C" NOT NULL CONSTRAINT users_pkey PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    upn_lower TEXT COLLATE "C" NOT NULL,
    immutable_id TEXT COLLATE "C" NOT NULL,
    data TEXT NOT NULL
);
CREATE UNIQUE INDEX users_upn_key ON users (tenant_id, upn_lower);
CREATE UNIQUE INDEX users_immutable_id_key ON users (tenant_id, immutable_id);
CREATE INDEX users_tenant_id_idx ON users (tenant_id, id);

CREATE TABLE passwords (
    user_id TEXT COLLATE "C" NOT NULL CONSTRAINT passwords_pkey PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tenant_id TEXT COLLATE "C" NOT NULL,
    hash TEXT NOT NULL,
    failed_attempts BIGINT NOT NULL,
    locked_until_ns BIGINT,
    updated_ns BIGINT NOT NULL
);

CREATE TABLE groups (
    id TEXT COLLATE "C" NOT NULL CONSTRAINT groups_pkey PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    description TEXT,
    version BIGINT NOT NULL,
    created_ns BIGINT NOT NULL
);
CREATE UNIQUE INDEX groups_display_name_key ON groups (tenant_id, name_lower);
CREATE INDEX groups_tenant_id_idx ON groups (tenant_id, id);

CREATE TABLE group_members (
    group_id TEXT COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id TEXT COLLATE "C" NOT NULL,
    CONSTRAINT group_members_pkey PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_idx ON group_members (user_id);

CREATE TABLE apps (
    id TEXT COLLATE "C" NOT NULL CONSTRAINT apps_pkey PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    created_ns BIGINT NOT NULL
);
CREATE INDEX apps_tenant_id_idx ON apps (tenant_id, id);

-- Exactly one of user_id / group_id is set; both reference their principal so deletes cascade.
CREATE TABLE assignments (
    app_id TEXT COLLATE "C" NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    tenant_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" REFERENCES users (id) ON DELETE CASCADE,
    group_id TEXT COLLATE "C" REFERENCES groups (id) ON DELETE CASCADE,
    app_role TEXT,
    created_ns BIGINT NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX assignments_user_key ON assignments (app_id, user_id);
CREATE UNIQUE INDEX assignments_group_key ON assignments (app_id, group_id);
CREATE INDEX assignments_user_idx ON assignments (user_id);
CREATE INDEX assignments_group_idx ON assignments (group_id);

CREATE TABLE sessions (
    id_digest TEXT COLLATE "C" NOT NULL CONSTRAINT sessions_pkey PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    authenticated_ns BIGINT NOT NULL,
    expires_ns BIGINT NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_ns);

-- The log outlives the users it names, but not its tenant.
CREATE TABLE sign_ins (
    id TEXT COLLATE "C" NOT NULL CONSTRAINT sign_ins_pkey PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    at_ns BIGINT NOT NULL,
    user_id TEXT COLLATE "C",
    user_principal_name TEXT NOT NULL,
    app_id TEXT COLLATE "C",
    protocol TEXT NOT NULL,
    result TEXT NOT NULL,
    reason TEXT,
    ip TEXT,
    correlation_id TEXT COLLATE "C" NOT NULL
);
CREATE INDEX sign_ins_tenant_idx ON sign_ins (tenant_id, id);
CREATE INDEX sign_ins_user_idx ON sign_ins (tenant_id, user_id, id);
CREATE INDEX sign_ins_correlation_idx ON sign_ins (tenant_id, correlation_id);

CREATE TABLE admin_tokens (
    id TEXT COLLATE "C" NOT NULL CONSTRAINT admin_tokens_pkey PRIMARY KEY,
    name TEXT NOT NULL,
    tenant_id TEXT COLLATE "C" REFERENCES tenants (id) ON DELETE CASCADE,
    digest TEXT COLLATE "C" NOT NULL,
    created_ns BIGINT NOT NULL
);
CREATE UNIQUE INDEX admin_tokens_digest_key ON admin_tokens (digest);
CREATE INDEX admin_tokens_tenant_idx ON admin_tokens (tenant_id);
