//! The primitive writes of [`Op::All`](tocsin_store::Op::All) on SQLite. Each stores what it
//! is given; its guard answers `Conflict` or `NotFound` (the application layer reads again
//! and decides again). Run inside the op's savepoint on the writer, so all steps of an op
//! land together or not at all.

use sqlx::sqlite::SqliteConnection;
use tocsin_domain::time::format as ts;
use tocsin_domain::NewSource;
use tocsin_store::{Result, Step, StoreError};

use crate::{alerting, credentials, db_err, insert_outbound, insert_report};

/// Store a source (with the keyed hash of its number, for an SMS sender).
pub(crate) async fn insert_source(
    conn: &mut SqliteConnection,
    ns: &NewSource,
    phone_hash: Option<&str>,
) -> Result<()> {
    let s = &ns.source;
    sqlx::query(
        "INSERT INTO sources (id, handle, kind, reliability, tlp, contact, created_at, phone_hash) \
         VALUES (?,?,?,?,?,?,?,?)",
    )
    .bind(s.id.to_string())
    .bind(&s.handle)
    .bind(&s.kind)
    .bind(s.reliability.as_str())
    .bind(s.tlp.rank())
    .bind(ns.contact.as_ref().map(|c| c.0.clone()))
    .bind(ts(&s.created_at))
    .bind(phone_hash)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Apply one step.
pub(crate) async fn apply(conn: &mut SqliteConnection, step: &Step) -> Result<()> {
    match step {
        Step::CreateSource { source, phone_hash } => {
            insert_source(conn, source, phone_hash.as_deref()).await
        }
        Step::CreateReport {
            report,
            unless_text_since,
        } => {
            if let (Some(since), Some(source_id)) = (unless_text_since, report.source_id) {
                let seen: Option<i64> = sqlx::query_scalar(
                    "SELECT 1 FROM reports WHERE source_id = ? AND received_at >= ? AND text = ? LIMIT 1",
                )
                .bind(source_id.to_string())
                .bind(ts(since))
                .bind(&report.text)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
                if seen.is_some() {
                    return Err(StoreError::Conflict(
                        "the same text from the same source is already stored".into(),
                    ));
                }
            }
            insert_report(conn, report).await.map(|_| ())
        }
        Step::CreateFormClaim(c) => {
            sqlx::query(
                "INSERT INTO form_claims (code_hash, report_id, ack_text, expires_at) VALUES (?,?,?,?)",
            )
            .bind(&c.code_hash)
            .bind(c.report_id.to_string())
            .bind(&c.ack_text)
            .bind(ts(&c.expires_at))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        Step::PurgeFormClaims(before) => {
            sqlx::query("DELETE FROM form_claims WHERE expires_at < ?")
                .bind(ts(before))
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Ok(())
        }
        Step::ClaimFormCode {
            code_hash,
            report_id,
            source_id,
        } => {
            let n = sqlx::query(
                "UPDATE form_claims SET claimed_source = ? \
                 WHERE code_hash = ? AND report_id = ? AND claimed_source IS NULL",
            )
            .bind(source_id.to_string())
            .bind(code_hash)
            .bind(report_id.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if n.rows_affected() != 1 {
                return Err(StoreError::Conflict(
                    "the form code was claimed or removed meanwhile".into(),
                ));
            }
            sqlx::query("UPDATE reports SET source_id = ? WHERE id = ? AND source_id IS NULL")
                .bind(source_id.to_string())
                .bind(report_id.to_string())
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Ok(())
        }
        Step::Enqueue(m) => insert_outbound(conn, m).await,
        Step::SetUserDisabled { user_id, disabled } => {
            credentials::set_disabled(conn, *user_id, *disabled)
                .await
                .map(|_| ())
        }
        Step::SetUserTimeZone { user_id, time_zone } => {
            credentials::set_time_zone(conn, *user_id, time_zone.as_deref())
                .await
                .map(|_| ())
        }
        Step::SetUserLanguage { user_id, language } => {
            credentials::set_language(conn, *user_id, language.map(|l| l.code()))
                .await
                .map(|_| ())
        }
        Step::SetPasswordHash {
            user_id,
            password_hash,
        } => credentials::set_password(conn, *user_id, &password_hash.0)
            .await
            .map(|_| ()),
        Step::EndSessions(user_id) => credentials::end_sessions(conn, *user_id).await,
        Step::EnqueueOnce(m) => crate::contacts::enqueue_once(conn, m).await,
        Step::SetUserContacts(c) => crate::contacts::set_contacts(conn, c).await,
        Step::AddInboxItem(i) => crate::contacts::add_inbox_item(conn, i).await,
        Step::MarkInboxRead { user_id, id, at } => {
            crate::contacts::mark_read(conn, *user_id, *id, at).await
        }
        Step::Action(a) => crate::actions::apply(conn, a).await,
        Step::CreateDesk(d) => alerting::create_desk(conn, d).await,
        Step::UpdateDesk(d) => alerting::update_desk(conn, d).await,
        Step::CreateRule(r) => alerting::create_rule(conn, r).await,
        Step::UpdateRule {
            rule,
            expected_version,
        } => alerting::update_rule(conn, rule, *expected_version).await,
        Step::CreateAlert { alert, entry } => alerting::create_alert(conn, alert, entry).await,
        Step::ChangeAlert {
            alert,
            expected_version,
            entry,
        } => alerting::change_alert(conn, alert, *expected_version, entry).await,
        Step::ScheduleTimer(t) => alerting::schedule_timer(conn, t).await,
        Step::CancelTimer(key) => alerting::cancel_timer(conn, key).await,
        Step::Triage(d) => crate::triage::record(conn, d).await,
        Step::Rumour(r) => crate::rumours::apply(conn, r).await,
        Step::Evidence(e) => crate::evidence_files::apply(conn, e).await,
        Step::Verification(v) => crate::verification::apply(conn, v).await,
        Step::Subscriber(st) => crate::subscribers::apply(conn, st).await,
        Step::Broadcast(b) => crate::broadcasts::apply(conn, b).await,
        Step::Speech(s) => crate::speech::apply(conn, s).await,
        Step::CountChannel { name, count } => crate::jobs::count_channel(conn, name, count).await,
        Step::Share(s) => crate::share::apply(conn, s).await,
    }
}
