-- Applications reached during an SSO session, for single logout.
CREATE TABLE session_participants (
    session_digest TEXT COLLATE "C" NOT NULL REFERENCES sessions (id_digest) ON DELETE CASCADE,
    tenant_id TEXT COLLATE "C" NOT NULL,
    app_id TEXT COLLATE "C" NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name_id TEXT NOT NULL,
    name_id_format TEXT NOT NULL,
    session_index TEXT NOT NULL,
    at_ns BIGINT NOT NULL,
    PRIMARY KEY (session_digest, app_id)
);
