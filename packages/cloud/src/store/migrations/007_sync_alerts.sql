-- What a tenant's administrators must look at about directory synchronization,
-- one row per kind of alert: the delete threshold stopping an export now;
-- stopped syncs, silent agents and stale password hash sync later.
CREATE TABLE sync_alerts (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  code         text NOT NULL,
  details      jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- delete_threshold: how many deletions an administrator allowed, by whom, when
  allowed      integer NOT NULL DEFAULT 0,
  allowed_by   text,
  allowed_at   timestamptz,
  raised_at    timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, code)
);
