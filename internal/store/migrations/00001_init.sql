-- +goose Up
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE resources (
    id_key        TEXT PRIMARY KEY,
    id            TEXT NOT NULL,
    type_key      TEXT NOT NULL,
    name          TEXT NOT NULL,
    subscription  TEXT NOT NULL,
    group_key     TEXT NOT NULL,
    parent_key    TEXT NOT NULL,
    location      TEXT NOT NULL,
    body          TEXT NOT NULL,
    etag          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX resources_by_type ON resources (type_key, subscription, group_key);
CREATE INDEX resources_by_parent ON resources (parent_key);

CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    template_key     TEXT NOT NULL,
    run_state        TEXT NOT NULL,
    run_sub_state    TEXT NOT NULL,
    message          TEXT NOT NULL,
    start_time       TEXT NOT NULL,
    end_time         TEXT NOT NULL,
    pid              INTEGER NOT NULL,
    boot_id          TEXT NOT NULL,
    work_dir         TEXT NOT NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    outputs          TEXT NOT NULL
);
CREATE INDEX runs_by_template ON runs (template_key, start_time);

-- +goose Down
DROP TABLE runs;
DROP TABLE resources;
DROP TABLE meta;
