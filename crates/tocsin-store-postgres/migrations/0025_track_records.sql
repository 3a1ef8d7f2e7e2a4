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
    report_id    uuid NOT NULL,
    incident_id  uuid NOT NULL,
    status       text NOT NULL,
    tlp          smallint NOT NULL,
    PRIMARY KEY (report_id, incident_id)
);
CREATE INDEX incident_report_links_incident ON incident_report_links (incident_id);

CREATE TABLE report_track (
    report_id       uuid PRIMARY KEY,
    source_id       uuid NOT NULL,
    tlp             smallint NOT NULL,
    confirmed_rank  smallint NOT NULL,
    refuted_rank    smallint NOT NULL
);

CREATE TABLE source_track (
    source_id       uuid NOT NULL,
    tlp             smallint NOT NULL,
    confirmed_rank  smallint NOT NULL,
    refuted_rank    smallint NOT NULL,
    n               bigint NOT NULL,
    PRIMARY KEY (source_id, tlp, confirmed_rank, refuted_rank)
);

-- The ranks of report $1 labelled $2, from its links.
CREATE FUNCTION tocsin_report_ranks(uuid, smallint, OUT confirmed smallint, OUT refuted smallint)
LANGUAGE sql STABLE AS $$
    SELECT greatest($2, coalesce(min(l.tlp) FILTER (WHERE l.status IN ('verified', 'corroborated')), 9))::smallint,
           greatest($2, coalesce(min(l.tlp) FILTER (WHERE l.status = 'refuted'), 9))::smallint
    FROM incident_report_links l WHERE l.report_id = $1
$$;

-- What is there already.
INSERT INTO incident_report_links (report_id, incident_id, status, tlp)
    SELECT DISTINCT u.report_id, i.id, i.verification_status, i.tlp
    FROM incidents i CROSS JOIN LATERAL unnest(i.report_ids) AS u(report_id)
    WHERE cardinality(i.report_ids) > 0;
INSERT INTO report_track (report_id, source_id, tlp, confirmed_rank, refuted_rank)
    SELECT r.id, r.source_id, r.tlp, k.confirmed, k.refuted
    FROM reports r CROSS JOIN LATERAL tocsin_report_ranks(r.id, r.tlp) k
    WHERE r.source_id IS NOT NULL;
INSERT INTO source_track (source_id, tlp, confirmed_rank, refuted_rank, n)
    SELECT source_id, tlp, confirmed_rank, refuted_rank, count(*) FROM report_track
    GROUP BY source_id, tlp, confirmed_rank, refuted_rank;

-- Incidents → links.
CREATE FUNCTION tocsin_incident_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM incident_report_links WHERE incident_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND cardinality(NEW.report_ids) > 0 THEN
        INSERT INTO incident_report_links (report_id, incident_id, status, tlp)
            SELECT DISTINCT x.rid, NEW.id, NEW.verification_status, NEW.tlp
            FROM unnest(NEW.report_ids) AS x(rid)
            ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER incident_links_insert AFTER INSERT ON incidents
    FOR EACH ROW WHEN (cardinality(NEW.report_ids) > 0) EXECUTE FUNCTION tocsin_incident_links();
CREATE TRIGGER incident_links_update AFTER UPDATE OF report_ids, verification_status, tlp ON incidents
    FOR EACH ROW WHEN (OLD.report_ids IS DISTINCT FROM NEW.report_ids
        OR OLD.verification_status IS DISTINCT FROM NEW.verification_status
        OR OLD.tlp IS DISTINCT FROM NEW.tlp)
    EXECUTE FUNCTION tocsin_incident_links();
CREATE TRIGGER incident_links_delete AFTER DELETE ON incidents
    FOR EACH ROW EXECUTE FUNCTION tocsin_incident_links();

-- Links → the report's ranks.
CREATE FUNCTION tocsin_report_track_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rid uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.report_id ELSE NEW.report_id END;
BEGIN
    UPDATE report_track t SET (confirmed_rank, refuted_rank) =
        (SELECT k.confirmed, k.refuted FROM tocsin_report_ranks(t.report_id, t.tlp) k)
    WHERE t.report_id = rid;
    RETURN NULL;
END $$;
CREATE TRIGGER report_track_link AFTER INSERT OR DELETE ON incident_report_links
    FOR EACH ROW EXECUTE FUNCTION tocsin_report_track_link();

-- Reports → their track row.
CREATE FUNCTION tocsin_report_track_report() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM report_track WHERE report_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.source_id IS NOT NULL THEN
        INSERT INTO report_track (report_id, source_id, tlp, confirmed_rank, refuted_rank)
            SELECT NEW.id, NEW.source_id, NEW.tlp, k.confirmed, k.refuted
            FROM tocsin_report_ranks(NEW.id, NEW.tlp) k;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER report_track_report_added AFTER INSERT ON reports
    FOR EACH ROW WHEN (NEW.source_id IS NOT NULL) EXECUTE FUNCTION tocsin_report_track_report();
CREATE TRIGGER report_track_report_changed AFTER UPDATE OF source_id, tlp ON reports
    FOR EACH ROW WHEN (OLD.source_id IS DISTINCT FROM NEW.source_id OR OLD.tlp IS DISTINCT FROM NEW.tlp)
    EXECUTE FUNCTION tocsin_report_track_report();
CREATE TRIGGER report_track_report_removed AFTER DELETE ON reports
    FOR EACH ROW EXECUTE FUNCTION tocsin_report_track_report();

-- A report's ranks → its source's counts.
CREATE FUNCTION tocsin_source_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE source_track SET n = n - 1
        WHERE source_id = OLD.source_id AND tlp = OLD.tlp
            AND confirmed_rank = OLD.confirmed_rank AND refuted_rank = OLD.refuted_rank;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO source_track (source_id, tlp, confirmed_rank, refuted_rank, n)
        VALUES (NEW.source_id, NEW.tlp, NEW.confirmed_rank, NEW.refuted_rank, 1)
        ON CONFLICT (source_id, tlp, confirmed_rank, refuted_rank) DO UPDATE
            SET n = source_track.n + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER source_track_added AFTER INSERT OR DELETE ON report_track
    FOR EACH ROW EXECUTE FUNCTION tocsin_source_track();
CREATE TRIGGER source_track_changed AFTER UPDATE ON report_track
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION tocsin_source_track();
