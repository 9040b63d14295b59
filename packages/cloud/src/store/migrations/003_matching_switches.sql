-- Per-tenant switches for matching synced objects onto cloud objects (packages/cloud/src/sync/matching.ts):
-- soft match by UPN or primary SMTP address, and hard-match takeover of cloud-managed objects that carry an immutable id.
ALTER TABLE tenants ADD COLUMN block_soft_match boolean NOT NULL DEFAULT false;
ALTER TABLE tenants ADD COLUMN block_hard_match_takeover boolean NOT NULL DEFAULT false;
