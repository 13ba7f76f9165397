-- SCIM server bearer tokens (issue 6): one tenant each, stored as SHA-256 digests.
CREATE TABLE scim_tokens (
    id TEXT COLLATE "C" NOT NULL CONSTRAINT scim_tokens_pkey PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    digest TEXT COLLATE "C" NOT NULL,
    created_ns BIGINT NOT NULL,
    expires_ns BIGINT
);
CREATE UNIQUE INDEX scim_tokens_digest_key ON scim_tokens (digest);
CREATE INDEX scim_tokens_tenant_idx ON scim_tokens (tenant_id);

-- SCIM data of groups with no directory column (externalId, members' display), as JSON.
CREATE TABLE scim_group_attributes (
    group_id TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    tenant_id TEXT COLLATE "C" NOT NULL,
    data TEXT NOT NULL
);
