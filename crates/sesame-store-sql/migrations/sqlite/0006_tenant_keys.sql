-- The tenant's own signing certificate (tenant-wide IdP metadata, SP metadata).
CREATE TABLE tenant_certificates (
    tenant_id TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    certificate TEXT NOT NULL,
    thumbprint TEXT NOT NULL,
    sealed_private_key BLOB NOT NULL,
    not_before_ns INTEGER NOT NULL,
    not_after_ns INTEGER NOT NULL,
    created_ns INTEGER NOT NULL
);
