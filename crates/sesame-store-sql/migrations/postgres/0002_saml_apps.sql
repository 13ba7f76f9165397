-- SAML settings of applications (JSON, shaped by sesame_model::SamlAppSettings) and their
-- signing certificates with sealed private keys.
ALTER TABLE apps ADD COLUMN saml_json TEXT;

CREATE TABLE app_certificates (
    id TEXT COLLATE "C" NOT NULL CONSTRAINT app_certificates_pkey PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL,
    app_id TEXT COLLATE "C" NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    certificate TEXT NOT NULL,
    thumbprint TEXT NOT NULL,
    sealed_private_key BYTEA NOT NULL,
    active BOOLEAN NOT NULL,
    not_before_ns BIGINT NOT NULL,
    not_after_ns BIGINT NOT NULL,
    created_ns BIGINT NOT NULL
);
CREATE INDEX app_certificates_app_idx ON app_certificates (tenant_id, app_id, created_ns);
