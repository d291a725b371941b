-- Users' given and family names (Auth0's given_name and family_name), each absent until set.
ALTER TABLE users ADD COLUMN given_name TEXT;
ALTER TABLE users ADD COLUMN family_name TEXT;
