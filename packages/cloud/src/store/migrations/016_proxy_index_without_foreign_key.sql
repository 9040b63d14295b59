-- The proxy address index (object_proxy_addresses) loses its foreign key to
-- directory_objects. Its rows are written only by the triggers of
-- directory_objects, from the rows being inserted or updated, so the key could
-- never fail; yet PostgreSQL checked it once per address, each check a probe
-- of directory_objects' primary key and a row lock (FOR KEY SHARE). A sync
-- batch of 500 users with three addresses each paid 1,500 of them: on
-- PostgreSQL 15, 150–164 µs a created user without the key against 175–211
-- µs with it (100 batches of 500, the bulk INSERT as the sync sends it).
--
-- What the key did on delete (ON DELETE CASCADE) a statement trigger does
-- now: deleting objects, directly or through their tenant, deletes their
-- addresses in the same statement.
ALTER TABLE object_proxy_addresses DROP CONSTRAINT object_proxy_addresses_object_id_fkey;

CREATE FUNCTION skybridge_unindex_deleted_proxy_addresses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM object_proxy_addresses p USING deleted_objects d WHERE p.object_id = d.id;
  RETURN NULL;
END $$;

CREATE TRIGGER directory_objects_proxy_delete AFTER DELETE ON directory_objects
  REFERENCING OLD TABLE AS deleted_objects
  FOR EACH STATEMENT EXECUTE FUNCTION skybridge_unindex_deleted_proxy_addresses();
