-- Indexes for SCIM filters and sorting (packages/cloud/src/scim/filter/to-sql.ts).
-- text_pattern_ops serves both equality and prefix matches (sw) on lower(...),
-- whatever the database's collation.
CREATE INDEX directory_objects_upn_pattern ON directory_objects (tenant_id, lower(upn) text_pattern_ops) WHERE upn IS NOT NULL;
CREATE INDEX directory_objects_display_name ON directory_objects (tenant_id, object_type, lower(display_name) text_pattern_ops) WHERE deleted_at IS NULL;
CREATE INDEX directory_objects_mail ON directory_objects (tenant_id, lower(mail) text_pattern_ops) WHERE mail IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX directory_objects_updated ON directory_objects (tenant_id, object_type, updated_at) WHERE deleted_at IS NULL;
-- a user's groups: the member side of the membership links, in group order (replaces memberships_member)
CREATE INDEX memberships_member_group ON memberships (member_id, group_id) WHERE NOT removed;
DROP INDEX memberships_member;
