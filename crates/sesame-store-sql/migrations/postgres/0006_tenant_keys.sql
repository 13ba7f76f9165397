-- The tenant's own signing certificate (tenant-wide IdP metadata, SP metadata).
CREATE TABLE tenant_certificates (
    tenant_id TEXT COLLATE "C" NOT NULL CONSTRAINT tenant_certificates_pkey PRIMARY KEY
        REFERENCES tenants (id) ON DELETE CASCADE,
    certificate TEXT NOT NULL,
    thumbprint TEXT NOT NULL,
    sealed_private_key BYTEA NOT NULL,
    not_before_ns BIGINT NOT NULL,
    not_after_ns BIGINT NOT NULL,
    created_ns BIGINT NOT NULL
);
