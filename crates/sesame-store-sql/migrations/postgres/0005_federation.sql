-- Federation with external SAML IdPs (issue 5): settings per federated domain (as JSON), the
-- replay cache of accepted assertions, and the AuthnRequests awaiting their Response.
CREATE TABLE domain_federations (
    tenant_id TEXT COLLATE "C" NOT NULL,
    domain TEXT COLLATE "C" NOT NULL,
    data TEXT NOT NULL,
    CONSTRAINT domain_federations_pkey PRIMARY KEY (tenant_id, domain),
    FOREIGN KEY (tenant_id, domain) REFERENCES domains (tenant_id, name) ON DELETE CASCADE
);

CREATE TABLE saml_replay_cache (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    issuer TEXT COLLATE "C" NOT NULL,
    assertion_id TEXT COLLATE "C" NOT NULL,
    keep_until_ns BIGINT NOT NULL,
    CONSTRAINT saml_replay_cache_pkey PRIMARY KEY (tenant_id, issuer, assertion_id)
);
CREATE INDEX saml_replay_cache_keep_idx ON saml_replay_cache (keep_until_ns);

CREATE TABLE saml_authn_requests (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT COLLATE "C" NOT NULL,
    domain TEXT COLLATE "C" NOT NULL,
    continue_to TEXT,
    expires_ns BIGINT NOT NULL,
    CONSTRAINT saml_authn_requests_pkey PRIMARY KEY (tenant_id, id)
);
CREATE INDEX saml_authn_requests_expires_idx ON saml_authn_requests (expires_ns);
