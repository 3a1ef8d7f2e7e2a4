-- Sharing groups (several partners under one name) and the partners or groups a record made
-- here names (its "shared with"): a record naming anyone crosses only to those partners, and
-- TLP:AMBER+STRICT crosses only this way. Names are those of partners or groups; removing one
-- removes its name from every group and record.
CREATE TABLE sharing_groups (
    name        text PRIMARY KEY,
    created_at  timestamptz NOT NULL
);
CREATE TABLE sharing_group_members (
    group_name  text NOT NULL REFERENCES sharing_groups (name) ON DELETE CASCADE,
    partner     text NOT NULL,
    PRIMARY KEY (group_name, partner)
);
CREATE INDEX sharing_group_members_partner ON sharing_group_members (partner);
CREATE TABLE incident_share_with (
    incident_id uuid NOT NULL,
    name        text NOT NULL,
    position    integer NOT NULL,
    PRIMARY KEY (incident_id, name)
);
CREATE INDEX incident_share_with_name ON incident_share_with (name);
