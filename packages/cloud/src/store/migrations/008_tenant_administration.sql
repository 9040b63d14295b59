-- Tenant administration: domains with DNS verification, licences, the audit log.

-- Domains: the proof an administrator puts in DNS, how users of the domain
-- sign in, and what the last check found.
ALTER TABLE domains ADD COLUMN verification_code text;
ALTER TABLE domains ADD COLUMN authentication text NOT NULL DEFAULT 'managed' CHECK (authentication IN ('managed', 'federated'));
ALTER TABLE domains ADD COLUMN federation jsonb;
ALTER TABLE domains ADD COLUMN verified_at timestamptz;
ALTER TABLE domains ADD COLUMN last_check jsonb;

-- A userPrincipalName is held back for two reasons: another object holds it
-- (collision), or its domain is not a verified domain of the tenant; then the
-- user syncs with the same name on the initial domain until it is verified.
ALTER TABLE quarantined_values ADD COLUMN reason text NOT NULL DEFAULT 'collision' CHECK (reason IN ('collision', 'unverified_domain'));

-- Subscriptions the tenant holds: a SKU of the catalogue, its service plans and seats.
CREATE TABLE subscriptions (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  sku_id         text NOT NULL,
  seats          integer NOT NULL CHECK (seats >= 0),
  -- live users holding the SKU (one per user, whatever the paths): kept by the triggers below
  consumed       integer NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, sku_id)
);

-- Licences held by users: directly (via_group_id NULL) or through a group.
-- A user holding a SKU by several paths takes one seat.
CREATE TABLE user_licences (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id        uuid NOT NULL REFERENCES directory_objects(id) ON DELETE CASCADE,
  sku_id         text NOT NULL,
  via_group_id   uuid REFERENCES directory_objects(id) ON DELETE CASCADE,
  assigned_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX user_licences_direct ON user_licences (user_id, sku_id) WHERE via_group_id IS NULL;
CREATE UNIQUE INDEX user_licences_group ON user_licences (user_id, sku_id, via_group_id) WHERE via_group_id IS NOT NULL;
CREATE INDEX user_licences_holder ON user_licences (user_id, sku_id);
CREATE INDEX user_licences_sku ON user_licences (tenant_id, sku_id, user_id);
CREATE INDEX user_licences_via ON user_licences (via_group_id) WHERE via_group_id IS NOT NULL;

-- The seats used, kept exact by set-based triggers, so that no assignment
-- counts a SKU's holders (a million-member group would make every sync batch
-- do so). A user starts using a seat with the first row of a SKU while live,
-- and stops with the last row, or when deleted (and uses it again if restored).
CREATE FUNCTION skybridge_licences_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- EXECUTE: planned for this statement's sizes, never a plan cached while the table was small
  EXECUTE $q$
  UPDATE subscriptions s SET consumed = s.consumed + n.added
    FROM (SELECT i.tenant_id, i.sku_id, count(*) AS added
            FROM (SELECT tenant_id, sku_id, user_id, count(*) AS n FROM added_rows GROUP BY tenant_id, sku_id, user_id) i
            JOIN directory_objects u ON u.id = i.user_id AND u.deleted_at IS NULL
           -- every row the user now has for the SKU is new: it did not hold it before this statement
           WHERE (SELECT count(*) FROM user_licences h WHERE h.user_id = i.user_id AND h.sku_id = i.sku_id) = i.n
           GROUP BY i.tenant_id, i.sku_id) n
   WHERE s.tenant_id = n.tenant_id AND s.sku_id = n.sku_id
  $q$;
  RETURN NULL;
END $$;
CREATE TRIGGER user_licences_added AFTER INSERT ON user_licences
  REFERENCING NEW TABLE AS added_rows FOR EACH STATEMENT EXECUTE FUNCTION skybridge_licences_added();

CREATE FUNCTION skybridge_licences_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE $q$
  UPDATE subscriptions s SET consumed = s.consumed - n.removed
    FROM (SELECT r.tenant_id, r.sku_id, count(*) AS removed
            FROM (SELECT DISTINCT tenant_id, sku_id, user_id FROM removed_rows) r
            JOIN directory_objects u ON u.id = r.user_id AND u.deleted_at IS NULL
           WHERE NOT EXISTS (SELECT 1 FROM user_licences h WHERE h.user_id = r.user_id AND h.sku_id = r.sku_id)
           GROUP BY r.tenant_id, r.sku_id) n
   WHERE s.tenant_id = n.tenant_id AND s.sku_id = n.sku_id
  $q$;
  RETURN NULL;
END $$;
CREATE TRIGGER user_licences_removed AFTER DELETE ON user_licences
  REFERENCING OLD TABLE AS removed_rows FOR EACH STATEMENT EXECUTE FUNCTION skybridge_licences_removed();

CREATE FUNCTION skybridge_licensed_user_lifecycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE subscriptions s SET consumed = s.consumed + CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END
    FROM (SELECT DISTINCT sku_id FROM user_licences WHERE user_id = NEW.id) h
   WHERE s.tenant_id = NEW.tenant_id AND s.sku_id = h.sku_id;
  RETURN NULL;
END $$;
CREATE TRIGGER directory_objects_licensed_lifecycle AFTER UPDATE OF deleted_at ON directory_objects
  FOR EACH ROW WHEN (NEW.object_type = 'user' AND (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
  EXECUTE FUNCTION skybridge_licensed_user_lifecycle();

-- Licences assigned to groups: every user member holds them while a member.
CREATE TABLE group_licences (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  group_id       uuid NOT NULL REFERENCES directory_objects(id) ON DELETE CASCADE,
  sku_id         text NOT NULL,
  assigned_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, sku_id)
);
CREATE INDEX group_licences_tenant ON group_licences (tenant_id);

-- Group-based assignments that could not be made, per user: no seat left, no usage location.
CREATE TABLE licence_errors (
  tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id        uuid NOT NULL REFERENCES directory_objects(id) ON DELETE CASCADE,
  sku_id         text NOT NULL,
  group_id       uuid NOT NULL REFERENCES directory_objects(id) ON DELETE CASCADE,
  code           text NOT NULL,
  since          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, sku_id, group_id)
);
CREATE INDEX licence_errors_group ON licence_errors (group_id, sku_id);
CREATE INDEX licence_errors_tenant ON licence_errors (tenant_id, sku_id);

-- Applications may require a service plan: sign-in to them is refused to users without it.
ALTER TABLE oidc_clients ADD COLUMN required_service_plans text[] NOT NULL DEFAULT '{}';

-- Every administrative action: who, when, what, before and after. Rows are
-- only ever inserted; the trigger refuses any change or removal, and the
-- table has no foreign key so that nothing cascades into it.
CREATE TABLE audit_log (
  id             bigserial PRIMARY KEY,
  tenant_id      uuid NOT NULL,
  at             timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor_type     text NOT NULL,
  actor_id       text NOT NULL,
  actor_name     text,
  action         text NOT NULL,
  target_type    text NOT NULL,
  target_id      text,
  target_name    text,
  before         jsonb,
  after          jsonb
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
CREATE INDEX audit_log_action ON audit_log (tenant_id, action, id);
CREATE INDEX audit_log_target ON audit_log (tenant_id, target_id, id);

CREATE FUNCTION skybridge_audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: entries are never changed or removed' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION skybridge_audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION skybridge_audit_log_is_append_only();
