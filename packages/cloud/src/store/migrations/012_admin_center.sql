-- The admin center: lists ordered by display name (keyset paging on the
-- lower-cased name, then the id), and the history of sync cycles the agents report.
CREATE INDEX directory_objects_by_name ON directory_objects (tenant_id, object_type, lower(coalesce(display_name, '')), id) WHERE deleted_at IS NULL;

CREATE TABLE sync_cycles (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  agent_id     uuid NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('full', 'delta')),
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  adds         integer NOT NULL,
  updates      integer NOT NULL,
  deletes      integer NOT NULL,
  errors       integer NOT NULL,
  PRIMARY KEY (tenant_id, agent_id, started_at)
);
CREATE INDEX sync_cycles_recent ON sync_cycles (tenant_id, started_at DESC);
