-- Federation with external SAML IdPs (issue 5): settings per federated domain (as JSON), the
-- replay cache of accepted assertions, and the AuthnRequests awaiting their Response.
CREATE TABLE domain_federations (
    tenant_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, domain),
    FOREIGN KEY (tenant_id, domain) REFERENCES domains (tenant_id, name) ON DELETE CASCADE
);

CREATE TABLE saml_replay_cache (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    assertion_id TEXT NOT NULL,
    keep_until_ns INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, issuer, assertion_id)
);
CREATE INDEX saml_replay_cache_keep_idx ON saml_replay_cache (keep_until_ns);

CREATE TABLE saml_authn_requests (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    domain TEXT NOT NULL,
    continue_to TEXT,
    expires_ns INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX saml_authn_requests_expires_idx ON saml_authn_requests (expires_ns);
