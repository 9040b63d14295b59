-- Password hash synchronization (issue 6): the tenant's switch, and each
-- synchronized user's hash as the cloud keeps it (signin/synced-password.ts:
-- the agent's v1 hash under a keyed layer; never a password or an NT hash).
ALTER TABLE tenants ADD COLUMN password_hash_sync boolean NOT NULL DEFAULT false;
ALTER TABLE directory_objects ADD COLUMN synced_password_hash text;
ALTER TABLE directory_objects ADD COLUMN synced_password_at timestamptz;
