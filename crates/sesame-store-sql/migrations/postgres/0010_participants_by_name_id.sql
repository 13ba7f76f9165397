-- A LogoutRequest names the principal by NameID (and SessionIndex): its sessions are found
-- through this index, without the browser's cookie (which a cross-site POST does not carry).
CREATE INDEX session_participants_by_name_id
    ON session_participants (tenant_id, app_id, name_id);
