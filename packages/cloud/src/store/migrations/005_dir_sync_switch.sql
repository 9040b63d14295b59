-- Directory synchronization turned off by an administrator: agents get no lease until it is turned on again.
ALTER TABLE tenants ADD COLUMN dir_sync_blocked boolean NOT NULL DEFAULT false;
