-- Applications' metadata (Auth0's client_metadata): a JSON object of string values.
ALTER TABLE clients ADD COLUMN client_metadata TEXT NOT NULL DEFAULT '{}';
