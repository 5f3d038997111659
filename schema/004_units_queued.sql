-- Databases created before units had the 'queued' state gain it here. Adding
-- a value to an Enum8 changes only metadata, on 18.16 and current releases.
-- Applied only to a units table that existed before this start.
ALTER TABLE units MODIFY COLUMN state Enum8('done' = 1, 'failed' = 2, 'queued' = 3)
