-- +goose Up
-- Directory objects: users, service principals, managed identities, groups.
CREATE TABLE principals (
    id_key       TEXT PRIMARY KEY,          -- lower-case object (principal) ID
    id           TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    type         TEXT NOT NULL,             -- User, ServicePrincipal, ManagedIdentity, Group
    display_name TEXT NOT NULL,
    name_key     TEXT NOT NULL,             -- lower-case display name, for lookups
    sign_in      TEXT NOT NULL,             -- UPN, appId or clientId; '' for groups
    sign_in_key  TEXT NOT NULL,             -- sign_in, lower-case
    resource_id  TEXT NOT NULL,             -- ARM ID of a managed identity, else ''
    resource_key TEXT NOT NULL,             -- resource_id, lower-case
    body         TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX principals_by_sign_in ON principals (type, sign_in_key) WHERE sign_in_key <> '';
CREATE UNIQUE INDEX principals_by_resource ON principals (resource_key) WHERE resource_key <> '';
CREATE INDEX principals_by_name ON principals (name_key);

CREATE TABLE group_members (
    group_key  TEXT NOT NULL REFERENCES principals (id_key) ON DELETE CASCADE,
    member_key TEXT NOT NULL REFERENCES principals (id_key) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (group_key, member_key)
);
CREATE INDEX group_members_by_member ON group_members (member_key);

-- Custom role definitions; built-in roles are data in package authz.
CREATE TABLE role_definitions (
    guid_key   TEXT PRIMARY KEY,
    name_key   TEXT NOT NULL UNIQUE,        -- role names are unique in the tenant
    role_name  TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE role_assignments (
    id_key         TEXT PRIMARY KEY,
    id             TEXT NOT NULL,
    scope          TEXT NOT NULL,
    scope_key      TEXT NOT NULL,
    role_key       TEXT NOT NULL,           -- lower-case role definition GUID
    principal_key  TEXT NOT NULL REFERENCES principals (id_key) ON DELETE CASCADE,
    principal_type TEXT NOT NULL,
    body           TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    UNIQUE (scope_key, role_key, principal_key)
);
CREATE INDEX role_assignments_by_role ON role_assignments (role_key);
CREATE INDEX role_assignments_by_principal ON role_assignments (principal_key);

CREATE TABLE locks (
    id_key     TEXT PRIMARY KEY,
    id         TEXT NOT NULL,
    scope      TEXT NOT NULL,
    scope_key  TEXT NOT NULL,
    name       TEXT NOT NULL,
    level      TEXT NOT NULL,
    notes      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX locks_by_scope ON locks (scope_key);

-- API tokens: only a SHA-256 of each secret is kept.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    principal_key TEXT NOT NULL REFERENCES principals (id_key) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    hash          TEXT NOT NULL UNIQUE,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT NOT NULL
);
CREATE INDEX api_tokens_by_principal ON api_tokens (principal_key);

-- The activity log is append-only: the triggers refuse updates and deletes.
CREATE TABLE activity_log (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       TEXT NOT NULL UNIQUE,
    correlation_id TEXT NOT NULL,
    event_time     TEXT NOT NULL,
    caller_id      TEXT NOT NULL,
    caller         TEXT NOT NULL,
    operation      TEXT NOT NULL,
    scope          TEXT NOT NULL,
    scope_key      TEXT NOT NULL,
    subscription   TEXT NOT NULL,
    group_key      TEXT NOT NULL,
    status         TEXT NOT NULL,
    sub_status     TEXT NOT NULL,
    message        TEXT NOT NULL
);
CREATE INDEX activity_by_time ON activity_log (event_time);
CREATE INDEX activity_by_group ON activity_log (subscription, group_key, event_time);

-- +goose StatementBegin
CREATE TRIGGER activity_log_no_update BEFORE UPDATE ON activity_log
BEGIN
    SELECT RAISE(ABORT, 'the activity log is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER activity_log_no_delete BEFORE DELETE ON activity_log
BEGIN
    SELECT RAISE(ABORT, 'the activity log is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER activity_log_no_delete;
DROP TRIGGER activity_log_no_update;
DROP TABLE activity_log;
DROP TABLE api_tokens;
DROP TABLE locks;
DROP TABLE role_assignments;
DROP TABLE role_definitions;
DROP TABLE group_members;
DROP TABLE principals;
