-- Soft-match candidates: cloud objects without an immutable id, found by primary
-- SMTP address or UPN. Every sync batch with new objects asks for them, and in
-- most tenants there are few or none: these partial indexes hold only those
-- objects, so the lookup probes small indexes instead of every object's mail
-- and UPN (at 100,000 synced users, about 45 ms a batch on PostgreSQL), and
-- synchronized objects cost nothing to index here.
CREATE INDEX directory_objects_soft_match_mail ON directory_objects (tenant_id, lower(mail))
  WHERE source = 'cloud' AND immutable_id IS NULL AND deleted_at IS NULL AND mail IS NOT NULL;
CREATE INDEX directory_objects_soft_match_upn ON directory_objects (tenant_id, lower(upn))
  WHERE source = 'cloud' AND immutable_id IS NULL AND deleted_at IS NULL AND upn IS NOT NULL;
