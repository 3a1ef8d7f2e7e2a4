-- Sources' track records (issue 16) answered from counts kept up to date by triggers, not by
-- scanning incidents on every sources page. Three derived tables, written only by the triggers
-- below (never by the application):
--   incident_report_links  one row per report an incident was built from, with the incident's
--                          verification status and label;
--   report_track           per report of a source, the lowest clearance (TLP rank) at which
--                          it counts at all (its own label), as confirmed (a verified or
--                          corroborated incident links it) and as refuted (a refuted one
--                          does); 9 when never;
--   source_track           how many reports of a source share those three ranks.
-- A reader cleared to rank c sees, per source: total = Σ n where tlp ≤ c, confirmed = Σ n
-- where confirmed_rank ≤ c, refuted = Σ n where refuted_rank ≤ c, the same figures the scan
-- over incidents gave (reports and incidents labelled above c are never counted).
CREATE TABLE incident_report_links (
    report_id    TEXT NOT NULL,
    incident_id  TEXT NOT NULL,
    status       TEXT NOT NULL,
    tlp          INTEGER NOT NULL,
    PRIMARY KEY (report_id, incident_id)
) WITHOUT ROWID;
CREATE INDEX incident_report_links_incident ON incident_report_links (incident_id);

CREATE TABLE report_track (
    report_id       TEXT PRIMARY KEY,
    source_id       TEXT NOT NULL,
    tlp             INTEGER NOT NULL,
    confirmed_rank  INTEGER NOT NULL,
    refuted_rank    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE source_track (
    source_id       TEXT NOT NULL,
    tlp             INTEGER NOT NULL,
    confirmed_rank  INTEGER NOT NULL,
    refuted_rank    INTEGER NOT NULL,
    n               INTEGER NOT NULL,
    PRIMARY KEY (source_id, tlp, confirmed_rank, refuted_rank)
) WITHOUT ROWID;

-- What is there already.
INSERT OR IGNORE INTO incident_report_links (report_id, incident_id, status, tlp)
    SELECT j.value, i.id, i.verification_status, i.tlp
    FROM incidents i, json_each(i.report_ids) j WHERE i.report_ids <> '[]';
INSERT INTO report_track (report_id, source_id, tlp, confirmed_rank, refuted_rank)
    SELECT r.id, r.source_id, r.tlp,
        max(r.tlp, coalesce((SELECT min(l.tlp) FROM incident_report_links l
            WHERE l.report_id = r.id AND l.status IN ('verified', 'corroborated')), 9)),
        max(r.tlp, coalesce((SELECT min(l.tlp) FROM incident_report_links l
            WHERE l.report_id = r.id AND l.status = 'refuted'), 9))
    FROM reports r WHERE r.source_id IS NOT NULL;
INSERT INTO source_track (source_id, tlp, confirmed_rank, refuted_rank, n)
    SELECT source_id, tlp, confirmed_rank, refuted_rank, count(*) FROM report_track
    GROUP BY source_id, tlp, confirmed_rank, refuted_rank;

-- No statement below can meet a uniqueness conflict (rows are removed before they are
-- written again, and links are distinct), so none relies on a conflict clause: the outer
-- statement's (the bulk import's INSERT OR ROLLBACK) would override it.

-- Incidents → links.
CREATE TRIGGER incident_links_insert AFTER INSERT ON incidents
    WHEN NEW.report_ids <> '[]'
BEGIN
    INSERT INTO incident_report_links (report_id, incident_id, status, tlp)
        SELECT DISTINCT j.value, NEW.id, NEW.verification_status, NEW.tlp
        FROM json_each(NEW.report_ids) j WHERE NEW.report_ids <> '[]';
END;
CREATE TRIGGER incident_links_update AFTER UPDATE OF report_ids, verification_status, tlp
    ON incidents
    WHEN OLD.report_ids <> NEW.report_ids OR OLD.verification_status <> NEW.verification_status
        OR OLD.tlp <> NEW.tlp
BEGIN
    DELETE FROM incident_report_links WHERE incident_id = OLD.id;
    INSERT INTO incident_report_links (report_id, incident_id, status, tlp)
        SELECT DISTINCT j.value, NEW.id, NEW.verification_status, NEW.tlp
        FROM json_each(NEW.report_ids) j WHERE NEW.report_ids <> '[]';
END;
CREATE TRIGGER incident_links_delete AFTER DELETE ON incidents
BEGIN
    DELETE FROM incident_report_links WHERE incident_id = OLD.id;
END;

-- Links → the report's ranks.
CREATE TRIGGER report_track_link_added AFTER INSERT ON incident_report_links
BEGIN
    UPDATE report_track SET
        confirmed_rank = max(tlp, coalesce((SELECT min(l.tlp) FROM incident_report_links l
            WHERE l.report_id = NEW.report_id AND l.status IN ('verified', 'corroborated')), 9)),
        refuted_rank = max(tlp, coalesce((SELECT min(l.tlp) FROM incident_report_links l
            WHERE l.report_id = NEW.report_id AND l.status = 'refuted'), 9))
    WHERE report_id = NEW.report_id;
END;
CREATE TRIGGER report_track_link_removed AFTER DELETE ON incident_report_links
BEGIN
    UPDATE report_track SET
        confirmed_rank = max(tlp, coalesce((SELECT min(l.tlp) FROM incident_report_links l
            WHERE l.report_id = OLD.report_id AND l.status IN ('verified', 'corroborated')), 9)),
        refuted_rank = max(tlp, coalesce((SELECT min(l.tlp) FROM incident_report_links l
            WHERE l.report_id = OLD.report_id AND l.status = 'refuted'), 9))
    WHERE report_id = OLD.report_id;
END;

-- Reports → their track row.
CREATE TRIGGER report_track_report_added AFTER INSERT ON reports
    WHEN NEW.source_id IS NOT NULL
BEGIN
    INSERT INTO report_track (report_id, source_id, tlp, confirmed_rank, refuted_rank)
    VALUES (NEW.id, NEW.source_id, NEW.tlp,
        max(NEW.tlp, coalesce((SELECT min(l.tlp) FROM incident_report_links l
            WHERE l.report_id = NEW.id AND l.status IN ('verified', 'corroborated')), 9)),
        max(NEW.tlp, coalesce((SELECT min(l.tlp) FROM incident_report_links l
            WHERE l.report_id = NEW.id AND l.status = 'refuted'), 9)));
END;
CREATE TRIGGER report_track_report_changed AFTER UPDATE OF source_id, tlp ON reports
BEGIN
    DELETE FROM report_track WHERE report_id = OLD.id;
    INSERT INTO report_track (report_id, source_id, tlp, confirmed_rank, refuted_rank)
    SELECT NEW.id, NEW.source_id, NEW.tlp,
        max(NEW.tlp, coalesce((SELECT min(l.tlp) FROM incident_report_links l
            WHERE l.report_id = NEW.id AND l.status IN ('verified', 'corroborated')), 9)),
        max(NEW.tlp, coalesce((SELECT min(l.tlp) FROM incident_report_links l
            WHERE l.report_id = NEW.id AND l.status = 'refuted'), 9))
    WHERE NEW.source_id IS NOT NULL;
END;
CREATE TRIGGER report_track_report_removed AFTER DELETE ON reports
BEGIN
    DELETE FROM report_track WHERE report_id = OLD.id;
END;

-- A report's ranks → its source's counts.
CREATE TRIGGER source_track_added AFTER INSERT ON report_track
BEGIN
    INSERT INTO source_track (source_id, tlp, confirmed_rank, refuted_rank, n)
    SELECT NEW.source_id, NEW.tlp, NEW.confirmed_rank, NEW.refuted_rank, 0
    WHERE NOT EXISTS (SELECT 1 FROM source_track WHERE source_id = NEW.source_id
        AND tlp = NEW.tlp AND confirmed_rank = NEW.confirmed_rank
        AND refuted_rank = NEW.refuted_rank);
    UPDATE source_track SET n = n + 1
    WHERE source_id = NEW.source_id AND tlp = NEW.tlp AND confirmed_rank = NEW.confirmed_rank
        AND refuted_rank = NEW.refuted_rank;
END;
CREATE TRIGGER source_track_changed AFTER UPDATE ON report_track
    WHEN OLD.source_id <> NEW.source_id OR OLD.tlp <> NEW.tlp
        OR OLD.confirmed_rank <> NEW.confirmed_rank OR OLD.refuted_rank <> NEW.refuted_rank
BEGIN
    UPDATE source_track SET n = n - 1
    WHERE source_id = OLD.source_id AND tlp = OLD.tlp AND confirmed_rank = OLD.confirmed_rank
        AND refuted_rank = OLD.refuted_rank;
    INSERT INTO source_track (source_id, tlp, confirmed_rank, refuted_rank, n)
    SELECT NEW.source_id, NEW.tlp, NEW.confirmed_rank, NEW.refuted_rank, 0
    WHERE NOT EXISTS (SELECT 1 FROM source_track WHERE source_id = NEW.source_id
        AND tlp = NEW.tlp AND confirmed_rank = NEW.confirmed_rank
        AND refuted_rank = NEW.refuted_rank);
    UPDATE source_track SET n = n + 1
    WHERE source_id = NEW.source_id AND tlp = NEW.tlp AND confirmed_rank = NEW.confirmed_rank
        AND refuted_rank = NEW.refuted_rank;
END;
CREATE TRIGGER source_track_removed AFTER DELETE ON report_track
BEGIN
    UPDATE source_track SET n = n - 1
    WHERE source_id = OLD.source_id AND tlp = OLD.tlp AND confirmed_rank = OLD.confirmed_rank
        AND refuted_rank = OLD.refuted_rank;
END;
