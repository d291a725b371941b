-- The blocked-account email's unblock ticket names the client address (its throttling group)
-- whose brute-force block it lifts; the other kinds of ticket leave it NULL.
ALTER TABLE tickets ADD COLUMN address TEXT;
