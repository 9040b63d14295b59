-- Skybridge Cloud schema, version 1.
-- Every tenant-owned row carries tenant_id, and every query filters on it.

CREATE TABLE tenants (
  id              uuid PRIMARY KEY,
  name            text NOT NULL,
  initial_domain  text NOT NULL UNIQUE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- per-tenant change counter: every write takes the next values under the
  -- row lock, so the change feed is gapless and in commit order.
  change_seq      bigint NOT NULL DEFAULT 0,
  object_count    integer NOT NULL DEFAULT 0,
  quotas          jsonb NOT NULL DEFAULT '{}'::jsonb,
  dir_sync_enabled boolean NOT NULL DEFAULT false
);

CREATE TABLE domains (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name        text NOT NULL,
  is_initial  boolean NOT NULL DEFAULT false,
  is_default  boolean NOT NULL DEFAULT false,
  verified    boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);
-- a verified domain belongs to exactly one tenant
CREATE UNIQUE INDEX domains_verified_name ON domains (name) WHERE verified;

-- Users, groups and contacts share one table: one immutable-id space, one change feed.
CREATE TABLE directory_objects (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  object_type      text NOT NULL CHECK (object_type IN ('user', 'group', 'contact')),
  immutable_id     text,
  display_name     text,
  upn              text,
  mail             text,
  attributes       jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- source: 'cloud' objects are managed here; 'onprem' objects by the sync agent
  source           text NOT NULL CHECK (source IN ('cloud', 'onprem')),
  on_prem_dn       text,
  on_prem_sid      text,
  last_sync_at     timestamptz,
  usage_location   text,
  account_enabled  boolean NOT NULL DEFAULT true,
  password_hash    text,
  password_must_change boolean NOT NULL DEFAULT false,
  version          integer NOT NULL DEFAULT 1,
  change_seq       bigint NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  deleted_at       timestamptz
);
CREATE UNIQUE INDEX directory_objects_immutable_id ON directory_objects (tenant_id, immutable_id) WHERE immutable_id IS NOT NULL;
-- a deleted object gives its UPN up (upn is set to NULL; its attributes keep it for restoration)
CREATE UNIQUE INDEX directory_objects_upn ON directory_objects (tenant_id, lower(upn)) WHERE upn IS NOT NULL;
CREATE INDEX directory_objects_change_seq ON directory_objects (tenant_id, change_seq);
CREATE INDEX directory_objects_list ON directory_objects (tenant_id, object_type, id) WHERE deleted_at IS NULL;

CREATE TABLE memberships (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  group_id    uuid NOT NULL REFERENCES directory_objects(id) ON DELETE CASCADE,
  member_id   uuid NOT NULL REFERENCES directory_objects(id) ON DELETE CASCADE,
  removed     boolean NOT NULL DEFAULT false,
  change_seq  bigint NOT NULL,
  PRIMARY KEY (group_id, member_id)
);
CREATE INDEX memberships_member ON memberships (member_id) WHERE NOT removed;
CREATE INDEX memberships_change_seq ON memberships (tenant_id, change_seq);

-- OAuth clients of the tenant's OIDC provider: API clients, agents, applications.
CREATE TABLE oidc_clients (
  client_id    text PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('api', 'agent', 'app')),
  display_name text NOT NULL,
  -- oidc-provider client metadata; a client_secret here is a hash, never the secret
  metadata     jsonb NOT NULL,
  disabled     boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oidc_clients_tenant ON oidc_clients (tenant_id);

-- Short-lived artifacts of the OIDC provider (replay detection, grants, sessions…).
CREATE TABLE oidc_payloads (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  model       text NOT NULL,
  id          text NOT NULL,
  payload     jsonb NOT NULL,
  grant_id    text,
  user_code   text,
  uid         text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (tenant_id, model, id)
);
CREATE INDEX oidc_payloads_expires ON oidc_payloads (expires_at);
CREATE INDEX oidc_payloads_grant ON oidc_payloads (tenant_id, grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_payloads_uid ON oidc_payloads (tenant_id, uid) WHERE uid IS NOT NULL;

-- The tenant's token-signing keys (private JWKs).
CREATE TABLE signing_keys (
  kid         text PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  private_jwk jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  retired_at  timestamptz
);
CREATE INDEX signing_keys_tenant ON signing_keys (tenant_id);

CREATE TABLE role_assignments (
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  principal_type  text NOT NULL CHECK (principal_type IN ('user', 'client')),
  principal_id    text NOT NULL,
  role            text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, principal_type, principal_id, role)
);

CREATE TABLE agents (
  id             uuid PRIMARY KEY,
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id      text NOT NULL REFERENCES oidc_clients(client_id) ON DELETE CASCADE,
  hostname       text NOT NULL,
  version        text NOT NULL,
  public_jwk     jsonb NOT NULL,
  registered_at  timestamptz NOT NULL DEFAULT now(),
  last_heartbeat_at timestamptz,
  health         jsonb
);
CREATE INDEX agents_tenant ON agents (tenant_id);

CREATE TABLE registration_tokens (
  token_hash  text PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  agent_id    uuid
);

CREATE TABLE sync_leases (
  tenant_id        uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  holder_agent_id  uuid NOT NULL,
  epoch            bigint NOT NULL,
  expires_at       timestamptz NOT NULL
);

-- Idempotency: the result of every applied batch, kept so that a replay returns it unchanged.
CREATE TABLE sync_batches (
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  idempotency_key  text NOT NULL,
  batch_id         uuid NOT NULL,
  request_hash     text NOT NULL,
  agent_id         uuid NOT NULL,
  epoch            bigint NOT NULL,
  results          jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, idempotency_key)
);

-- Deployment-level operator credentials (tenant creation); only hashes are kept.
CREATE TABLE operator_tokens (
  token_hash  text PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Deployment-wide secrets shared by every cloud instance (cookie signing keys).
CREATE TABLE deployment_secrets (
  name        text PRIMARY KEY,
  value       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Deployment settings recorded by the running cloud (its public URL), read by offline CLI commands.
CREATE TABLE deployment_settings (
  name        text PRIMARY KEY,
  value       text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
