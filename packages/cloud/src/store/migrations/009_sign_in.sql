-- Sign-in: the per-tenant sign-in log and smart lockout counters.

-- Every interactive sign-in and every single sign-on, successful or not:
-- who (as typed, even when it matched no user), when, to which app, how,
-- the result, from where, and through which agent. No credential is kept.
CREATE TABLE sign_in_events (
  id                   bigserial PRIMARY KEY,
  tenant_id            uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  at                   timestamptz NOT NULL DEFAULT clock_timestamp(),
  user_id              uuid,
  user_principal_name  text,
  client_id            text,
  app_name             text,
  method               text NOT NULL,
  result               text NOT NULL CHECK (result IN ('success', 'failure')),
  error_code           text,
  source_ip            text,
  user_agent           text,
  agent_id             uuid
);
CREATE INDEX sign_in_events_tenant ON sign_in_events (tenant_id, id);
CREATE INDEX sign_in_events_user ON sign_in_events (tenant_id, user_id, id);

-- Smart lockout: failures counted per user name and source address, so that
-- someone guessing from one place locks only that place out, never the user
-- signing in from elsewhere.
CREATE TABLE sign_in_lockouts (
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_key      text NOT NULL,
  source        text NOT NULL,
  failures      integer NOT NULL DEFAULT 0,
  lockouts      integer NOT NULL DEFAULT 0,
  locked_until  timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_key, source)
);

-- Pass-through authentication: synchronized users of managed domains sign in
-- with their Active Directory password, checked by the tenant's agents.
ALTER TABLE tenants ADD COLUMN pass_through_auth boolean NOT NULL DEFAULT false;

-- Sign-ins handed to a federated domain's identity provider, waiting for its
-- answer: each state is used once, and only before it expires.
CREATE TABLE federation_states (
  state            text PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  interaction_uid  text NOT NULL,
  domain           text NOT NULL,
  nonce            text NOT NULL,
  code_verifier    text NOT NULL,
  expires_at       timestamptz NOT NULL
);
CREATE INDEX federation_states_expires ON federation_states (expires_at);
