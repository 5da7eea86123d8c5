-- +goose Up
-- sort_key orders siblings as their owning package defines (gallery image
-- versions by Major.Minor.Patch), so that the highest can be read without
-- reading the others.
ALTER TABLE resources ADD COLUMN sort_key TEXT NOT NULL DEFAULT '';
CREATE INDEX resources_by_parent_sort ON resources (parent_key, type_key, sort_key);

-- +goose Down
DROP INDEX resources_by_parent_sort;
ALTER TABLE resources DROP COLUMN sort_key;
