-- Per-object synchronization errors as the cloud reported them to the agent, readable through
-- GET /api/v1/sync/errors; an object's row goes when a later batch applies it.
CREATE TABLE sync_errors (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  immutable_id   text NOT NULL,
  object_type    text NOT NULL,
  category       text NOT NULL,
  code           text NOT NULL,
  message        text NOT NULL,
  attribute      text,
  dn             text,
  first_seen_at  timestamptz NOT NULL DEFAULT now(),
  last_seen_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, immutable_id)
);
