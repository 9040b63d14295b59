-- "User must change password at next logon" for synchronized users (issue 6):
-- the agent says so with each hash; with the tenant's switch on, such a user
-- cannot sign in with the synchronized password until it is changed on-premises.
ALTER TABLE tenants ADD COLUMN force_password_change_on_logon boolean NOT NULL DEFAULT false;
ALTER TABLE directory_objects ADD COLUMN synced_password_must_change boolean NOT NULL DEFAULT false;
