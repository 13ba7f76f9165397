-- The sign-in log keyed by (tenant, id), as on SQLite: the primary key's index serves the
-- tenant's timeline, and the separate tenant index goes (one index fewer per sign-in).
ALTER TABLE sign_ins DROP CONSTRAINT sign_ins_pkey;
ALTER TABLE sign_ins ADD CONSTRAINT sign_ins_pkey PRIMARY KEY (tenant_id, id);
DROP INDEX sign_ins_tenant_idx;
