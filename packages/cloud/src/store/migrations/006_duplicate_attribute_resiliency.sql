-- Duplicate attribute resiliency: a synchronized object whose userPrincipalName
-- or proxy address another object already holds still syncs; the colliding
-- value is held back (quarantined) and given back when the other object lets
-- it go.

-- Every live object's proxy addresses, lower-cased with their type prefix
-- ("smtp:alice@contoso.com"), kept by triggers whoever writes the object
-- (sync, SCIM, admin API), so a collision is one index probe.
CREATE TABLE object_proxy_addresses (
  tenant_id  uuid NOT NULL,
  address    text NOT NULL,
  object_id  uuid NOT NULL REFERENCES directory_objects(id) ON DELETE CASCADE,
  PRIMARY KEY (tenant_id, address, object_id)
);
CREATE INDEX object_proxy_addresses_object ON object_proxy_addresses (object_id);

CREATE FUNCTION skybridge_index_proxy_addresses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM object_proxy_addresses WHERE object_id = NEW.id;
  END IF;
  IF NEW.deleted_at IS NULL AND jsonb_typeof(NEW.attributes->'proxyAddresses') = 'array' THEN
    INSERT INTO object_proxy_addresses (tenant_id, address, object_id)
    SELECT DISTINCT NEW.tenant_id, lower(v), NEW.id FROM jsonb_array_elements_text(NEW.attributes->'proxyAddresses') AS v
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER directory_objects_proxy_insert AFTER INSERT ON directory_objects
  FOR EACH ROW WHEN (jsonb_typeof(NEW.attributes->'proxyAddresses') = 'array')
  EXECUTE FUNCTION skybridge_index_proxy_addresses();
CREATE TRIGGER directory_objects_proxy_update AFTER UPDATE OF attributes, deleted_at ON directory_objects
  FOR EACH ROW WHEN (OLD.attributes->'proxyAddresses' IS DISTINCT FROM NEW.attributes->'proxyAddresses' OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
  EXECUTE FUNCTION skybridge_index_proxy_addresses();

INSERT INTO object_proxy_addresses (tenant_id, address, object_id)
SELECT DISTINCT o.tenant_id, lower(v), o.id
  FROM directory_objects o, jsonb_array_elements_text(o.attributes->'proxyAddresses') AS v
 WHERE o.deleted_at IS NULL AND jsonb_typeof(o.attributes->'proxyAddresses') = 'array'
ON CONFLICT DO NOTHING;

-- Values held back from a synchronized object. For a userPrincipalName the
-- object meanwhile carries a placeholder on the tenant's initial domain.
CREATE TABLE quarantined_values (
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  object_id     uuid NOT NULL REFERENCES directory_objects(id) ON DELETE CASCADE,
  attribute     text NOT NULL CHECK (attribute IN ('userPrincipalName', 'proxyAddresses')),
  value         text NOT NULL,
  value_key     text NOT NULL,
  placeholder   text,
  held_by       uuid,
  since         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (object_id, attribute, value_key)
);
CREATE INDEX quarantined_values_tenant ON quarantined_values (tenant_id, since);
