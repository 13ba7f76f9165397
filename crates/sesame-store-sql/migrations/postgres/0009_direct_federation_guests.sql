-- Direct federation with partners' IdPs for B2B guests (issue 5, DIR-4 and SAML-SP-5): the
-- partner domain is NOT a domain of the tenant (no foreign key to domains), settings as JSON like
-- domain_federations; guest invitations, bound to the guest's IdP identity on first sign-in.
CREATE TABLE direct_federations (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    domain TEXT COLLATE "C" NOT NULL,
    data TEXT NOT NULL,
    CONSTRAINT direct_federations_pkey PRIMARY KEY (tenant_id, domain)
);

CREATE TABLE guest_invitations (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    domain TEXT COLLATE "C" NOT NULL,
    invited_ns BIGINT NOT NULL,
    redeemed_ns BIGINT,
    issuer TEXT COLLATE "C",
    name_id TEXT COLLATE "C",
    CONSTRAINT guest_invitations_pkey PRIMARY KEY (tenant_id, email)
);
