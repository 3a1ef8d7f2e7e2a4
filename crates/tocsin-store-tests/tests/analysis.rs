//! Risk-analysis records, every backend: grants, assessments and their workflow, suggestion
//! decisions, legal qualifications, tags, forecast runs and signals. Each check takes a
//! `&dyn Store` (and the [`Db`] under it, to try what a person with database access could do)
//! and is run against a fresh SQLite file and a fresh PostgreSQL database. See the crate docs
//! for the environment variables.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use std::collections::{HashMap, HashSet};
use tocsin_domain::assessment::{
    diff, factor_history, previous, FactorAssessment, IndicatorObservation, Observed,
};
use tocsin_domain::evidence::{normalize_tags, suggest};
use tocsin_domain::user::token_hash;
use tocsin_domain::{
    time, Actor, ApiToken, Assessment, AssessmentChange, AssessmentEdit, AssessmentStatus, Channel,
    Confidence, Country, Crime, DomainError, Evidence, EvidenceKind, Finding, ForecastRun,
    ForecastScore, Incident, IncidentInput, LegalQualification, Level, NewAssessment,
    NewLegalQualification, NewReport, NewUser, Permission, Report, Role, SignalRecord, Situation,
    Tagged, Tlp, User,
};
use tocsin_framework::{EvidenceMap, Framework};
use tocsin_store::{Done, Op, Store, StoreError, StoreExt};
use tocsin_store_tests::{story, Db, Raw};
use uuid::Uuid;

story!(
    grants,
    assessment_lifecycle,
    suggestion_decisions,
    legal_qualifications,
    tags,
    forecast_runs,
    signals,
    signals_stored_before_levels_become_red,
    audit_chain_after_everything,
);

// ---------------------------------------------------------------------------------------------
// Fixtures.
// ---------------------------------------------------------------------------------------------

const FRAMEWORK: &str = "un-foa-2014";

fn system() -> Actor {
    Actor::system("analysis")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn country(c: &str) -> Country {
    Country::parse(c).unwrap()
}

/// A user with a name no other check on the same store uses (the last check replays them all).
async fn new_user(s: &dyn Store, name: &str, role: Role) -> User {
    let name = format!("{name}-{}", &Uuid::now_v7().simple().to_string()[24..]);
    s.create_user(&system(), NewUser::build(&name, role, None).unwrap())
        .await
        .unwrap()
}

async fn new_situation(s: &dyn Store, name: &str) -> Situation {
    let sit = Situation::parse(tocsin_domain::NewSituation {
        name: name.into(),
        country: "CAF".into(),
        admin1: None,
        status: Some("active".into()),
        description: None,
        tlp: Some(Tlp::Amber),
    })
    .unwrap();
    s.create_situation(&system(), sit).await.unwrap()
}

async fn new_incident(s: &dyn Store) -> Incident {
    let i = Incident::parse(IncidentInput {
        event_date: "2025-03-01".into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: "CAF".into(),
        latitude: 6.1,
        longitude: 20.9,
        fatalities: 3,
        description: "Village attacked at dawn".into(),
        tlp: Tlp::Amber,
        ..Default::default()
    })
    .unwrap();
    s.create_incident(&system(), i).await.unwrap()
}

async fn new_report(s: &dyn Store, text: &str) -> Report {
    let r = NewReport {
        id: tocsin_domain::new_id(),
        channel: Channel::Api,
        provider_key: None,
        source_id: None,
        text: text.into(),
        tlp: Tlp::Amber,
        latitude: None,
        longitude: None,
        country: None,
        occurred_at: None,
        received_at: time::now(),
        meta: Default::default(),
    };
    s.create_report(&system(), r).await.unwrap()
}

fn factor(n: u32, level: Level, confidence: Confidence) -> FactorAssessment {
    FactorAssessment {
        factor: n,
        level,
        confidence,
        rationale: format!("factor {n}: what the monitors saw"),
        evidence: vec![],
    }
}

fn observation(indicator: &str, observed: Observed) -> IndicatorObservation {
    IndicatorObservation {
        indicator: indicator.into(),
        observed,
        note: String::new(),
        evidence: vec![],
    }
}

fn evidence(kind: EvidenceKind, id: Uuid) -> Evidence {
    Evidence {
        kind,
        reference: id.to_string(),
        note: None,
    }
}

/// A draft by `author`, built and checked by the domain against the shipped framework.
fn draft(
    sit: &Situation,
    author: &User,
    as_of: NaiveDate,
    factors: Vec<FactorAssessment>,
    observations: Vec<IndicatorObservation>,
) -> Assessment {
    let n = NewAssessment {
        framework: Some(FRAMEWORK.into()),
        as_of: Some(as_of),
        summary: Some(format!("Assessment as of {as_of}")),
        tlp: None,
        factors,
        observations,
    };
    Assessment::create(
        n,
        &Framework::un_2014(),
        sit.id,
        sit.tlp,
        &author.actor(),
        time::now(),
    )
    .unwrap()
}

fn transition(to: AssessmentStatus, expected_version: Option<i64>) -> AssessmentChange {
    AssessmentChange::Transition {
        to,
        note: None,
        expected_version,
    }
}

fn decide(indicator: &str, evidence: &Evidence, accept: bool) -> AssessmentChange {
    AssessmentChange::Decide {
        indicator: indicator.into(),
        evidence: evidence.clone(),
        accept,
    }
}

fn grant(user: &User, on: bool) -> Op {
    Op::GrantPermission {
        user_id: user.id,
        permission: Permission::LegalQualify,
        on,
    }
}

fn legal(crime: Crime, finding: Finding) -> NewLegalQualification {
    NewLegalQualification {
        crime,
        finding,
        rationale: "  Repeated attacks on one community, with public calls to eliminate it.  "
            .into(),
        basis: Some("Genocide Convention, art. II".into()),
        tlp: None,
    }
}

/// The domain refused the write (and so the store wrote nothing).
#[track_caller]
fn refused<T: std::fmt::Debug>(r: tocsin_store::Result<T>) {
    match r {
        Err(StoreError::Domain(DomainError::Invalid { .. })) => {}
        other => panic!("expected a domain refusal, got {other:?}"),
    }
}

#[track_caller]
fn not_found<T: std::fmt::Debug>(r: tocsin_store::Result<T>) {
    match r {
        Err(StoreError::NotFound) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// Every audit entry, after verifying the chain.
async fn audit_log(s: &dyn Store) -> Vec<tocsin_domain::AuditEntry> {
    let n = s
        .verify_audit()
        .await
        .unwrap()
        .expect("audit chain verifies");
    let mut out = vec![];
    while (out.len() as i64) < n {
        let after = out.last().map_or(0, |e: &tocsin_domain::AuditEntry| e.seq);
        let batch = s.audit_entries(after, 1000).await.unwrap();
        assert!(!batch.is_empty());
        out.extend(batch);
    }
    assert_eq!(out.len() as i64, n);
    out
}

/// The audit actions recorded about one record, in order.
async fn actions_on(s: &dyn Store, record_id: &str) -> Vec<String> {
    audit_log(s)
        .await
        .into_iter()
        .filter(|e| e.record_id.as_deref() == Some(record_id))
        .map(|e| e.action)
        .collect()
}

async fn audit_len(s: &dyn Store) -> usize {
    audit_log(s).await.len()
}

// ---------------------------------------------------------------------------------------------
// 1. Grants.
// ---------------------------------------------------------------------------------------------

async fn grants(s: &dyn Store, _db: &Db) {
    let admin = new_user(s, "admin", Role::Admin).await;
    let ana = new_user(s, "ana", Role::Analyst).await;
    let vic = new_user(s, "vic", Role::Viewer).await;
    let (token, secret) = ApiToken::generate(ana.id, "cli", None);
    s.write(&ana.actor(), Op::CreateToken(token)).await.unwrap();
    assert!(
        !ana.can(Permission::LegalQualify),
        "analysts lack it by role"
    );

    // Granted: every way of reading the user back carries the grant.
    let done = s.write(&admin.actor(), grant(&ana, true)).await.unwrap();
    let Done::User(granted) = done else {
        panic!("a grant answers with the user, got {done:?}")
    };
    assert_eq!(granted.grants, vec![Permission::LegalQualify]);
    for u in [
        s.get_user(ana.id).await.unwrap(),
        s.get_user_by_name(&ana.username).await.unwrap(),
        s.user_for_token(&token_hash(&secret)).await.unwrap(),
        s.list_users()
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.id == ana.id)
            .unwrap(),
    ] {
        assert_eq!(u.grants, vec![Permission::LegalQualify]);
        assert!(u.can(Permission::LegalQualify));
        assert_eq!(u.role, Role::Analyst, "a grant does not change the role");
    }
    // Granting again keeps one grant.
    s.write(&admin.actor(), grant(&ana, true)).await.unwrap();
    assert_eq!(
        s.get_user(ana.id).await.unwrap().grants,
        vec![Permission::LegalQualify]
    );

    // A viewer cannot be granted it: refused, nothing stored, nothing audited.
    let before = audit_len(s).await;
    refused(s.write(&admin.actor(), grant(&vic, true)).await);
    let vic_now = s.get_user(vic.id).await.unwrap();
    assert!(vic_now.grants.is_empty());
    assert!(!vic_now.can(Permission::LegalQualify));
    assert_eq!(
        audit_len(s).await,
        before,
        "a refused grant leaves no entry"
    );
    // Nor can a user who does not exist.
    let ghost = User {
        id: Uuid::now_v7(),
        ..vic.clone()
    };
    not_found(s.write(&admin.actor(), grant(&ghost, true)).await);

    // Revoked: gone everywhere.
    s.write(&admin.actor(), grant(&ana, false)).await.unwrap();
    for u in [
        s.get_user(ana.id).await.unwrap(),
        s.get_user_by_name(&ana.username).await.unwrap(),
        s.user_for_token(&token_hash(&secret)).await.unwrap(),
    ] {
        assert!(u.grants.is_empty());
        assert!(!u.can(Permission::LegalQualify));
    }

    let entries: Vec<_> = audit_log(s)
        .await
        .into_iter()
        .filter(|e| e.record_id.as_deref() == Some(&ana.id.to_string()))
        .filter(|e| e.action.starts_with("user.") && e.action.contains("grant"))
        .collect();
    let actions: Vec<_> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.grant", "user.grant", "user.revoke_grant"]);
    for e in &entries {
        assert_eq!(e.actor_id, Some(admin.id));
        assert!(e.detail.contains("legal_qualify"), "{}", e.detail);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Assessment lifecycle.
// ---------------------------------------------------------------------------------------------

async fn assessment_lifecycle(s: &dyn Store, db: &Db) {
    let ana = new_user(s, "ana", Role::Analyst).await;
    let ben = new_user(s, "ben", Role::Analyst).await;
    let sit = new_situation(s, "Lifecycle").await;
    let elsewhere = new_situation(s, "Elsewhere").await;
    let (a_, b_) = (ana.actor(), ben.actor());

    // One high factor, seven moderate, two observations.
    let mut factors = vec![factor(1, Level::High, Confidence::High)];
    factors.extend((2..=8).map(|n| factor(n, Level::Moderate, Confidence::Medium)));
    let first = draft(
        &sit,
        &ana,
        date(2025, 3, 1),
        factors,
        vec![
            observation("7.3", Observed::Unknown),
            observation("1.1", Observed::Present),
        ],
    );
    let stored = s.create_assessment(&a_, first.clone()).await.unwrap();
    assert_eq!(stored, first);
    let got = s.get_assessment(first.id).await.unwrap();
    assert_eq!(got, first);
    assert_eq!(got.status, AssessmentStatus::Draft);
    assert_eq!((got.version, got.author_id), (1, ana.id));
    assert_eq!(got.factors.len(), 8);
    assert_eq!(
        got.factors
            .iter()
            .filter(|f| f.level == Level::High)
            .count(),
        1
    );
    let ind: Vec<_> = got
        .observations
        .iter()
        .map(|o| o.indicator.as_str())
        .collect();
    assert_eq!(ind, ["1.1", "7.3"], "observations in indicator order");
    not_found(s.get_assessment(Uuid::now_v7()).await);
    not_found(
        s.change_assessment(
            &a_,
            Uuid::now_v7(),
            transition(AssessmentStatus::Reviewed, None),
        )
        .await,
    );

    // The author edits: version 1 → 2.
    let edit = AssessmentEdit {
        expected_version: Some(1),
        summary: Some("Hate speech on local radio is rising".into()),
        factors: vec![factor(2, Level::High, Confidence::Medium)],
        ..Default::default()
    };
    let v2 = s
        .change_assessment(&a_, first.id, AssessmentChange::Edit(edit))
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(v2.factor(2).unwrap().level, Level::High);
    assert_eq!(v2.factor(1), first.factor(1), "other factors are kept");
    assert_eq!(v2.summary, "Hate speech on local radio is rising");
    assert_eq!(s.get_assessment(first.id).await.unwrap(), v2);

    // A stale edit is refused and changes nothing.
    let stale = AssessmentEdit {
        expected_version: Some(1),
        summary: Some("lost update".into()),
        ..Default::default()
    };
    refused(
        s.change_assessment(&a_, first.id, AssessmentChange::Edit(stale))
            .await,
    );
    assert_eq!(s.get_assessment(first.id).await.unwrap(), v2);

    // The author cannot review their own.
    refused(
        s.change_assessment(
            &a_,
            first.id,
            transition(AssessmentStatus::Reviewed, Some(2)),
        )
        .await,
    );
    assert_eq!(s.get_assessment(first.id).await.unwrap(), v2);
    // Nor can it be published straight from draft.
    refused(
        s.change_assessment(&b_, first.id, transition(AssessmentStatus::Published, None))
            .await,
    );
    assert_eq!(s.get_assessment(first.id).await.unwrap(), v2);

    // A second analyst reviews.
    let v3 = s
        .change_assessment(
            &b_,
            first.id,
            transition(AssessmentStatus::Reviewed, Some(2)),
        )
        .await
        .unwrap();
    assert_eq!((v3.status, v3.version), (AssessmentStatus::Reviewed, 3));
    assert_eq!(v3.history.len(), 1);
    assert_eq!(v3.history[0].by_id, ben.id);
    assert_eq!(v3.history[0].from, AssessmentStatus::Draft);
    assert_eq!(s.get_assessment(first.id).await.unwrap(), v3);

    // A reviewed assessment is no longer edited.
    let late = AssessmentEdit {
        factors: vec![factor(3, Level::Severe, Confidence::Low)],
        ..Default::default()
    };
    refused(
        s.change_assessment(&a_, first.id, AssessmentChange::Edit(late))
            .await,
    );
    assert_eq!(s.get_assessment(first.id).await.unwrap(), v3);

    // Published.
    let published = s
        .change_assessment(
            &b_,
            first.id,
            transition(AssessmentStatus::Published, Some(3)),
        )
        .await
        .unwrap();
    assert_eq!(published.status, AssessmentStatus::Published);
    assert_eq!(published.version, 4);
    assert_eq!(published.history.len(), 2);
    assert_eq!(s.get_assessment(first.id).await.unwrap(), published);

    // After publication every change is refused.
    let doc = Evidence {
        kind: EvidenceKind::Document,
        reference: "https://example.org/report".into(),
        note: None,
    };
    for (who, change) in [
        (&a_, AssessmentChange::Edit(AssessmentEdit::default())),
        (&b_, transition(AssessmentStatus::Draft, None)),
        (&b_, transition(AssessmentStatus::Reviewed, None)),
        (&b_, transition(AssessmentStatus::Published, None)),
        (&a_, decide("7.3", &doc, true)),
    ] {
        refused(s.change_assessment(who, first.id, change).await);
        assert_eq!(s.get_assessment(first.id).await.unwrap(), published);
    }

    // And the database itself refuses to change or delete it.
    let mut raw = db.raw().await;
    for sql in [
        format!(
            "UPDATE assessments SET status = 'draft', version = version + 1 WHERE id = '{}'",
            first.id
        ),
        format!("DELETE FROM assessments WHERE id = '{}'", first.id),
    ] {
        let err = raw.exec(&sql).await.expect_err(&sql);
        assert!(
            err.contains("immutable") || err.contains("never deleted"),
            "{sql}: {err}"
        );
    }
    assert_eq!(s.get_assessment(first.id).await.unwrap(), published);

    // A later assessment, and a draft dated between the two.
    let mut factors2 = published.factors.clone();
    factors2[0] = factor(1, Level::Severe, Confidence::High);
    factors2.push(factor(9, Level::Low, Confidence::Low));
    let second = draft(
        &sit,
        &ana,
        date(2025, 6, 1),
        factors2,
        vec![
            observation("1.1", Observed::Present),
            observation("7.3", Observed::Present),
        ],
    );
    s.create_assessment(&a_, second.clone()).await.unwrap();
    s.change_assessment(
        &b_,
        second.id,
        transition(AssessmentStatus::Reviewed, Some(1)),
    )
    .await
    .unwrap();
    let second = s
        .change_assessment(
            &b_,
            second.id,
            transition(AssessmentStatus::Published, Some(2)),
        )
        .await
        .unwrap();
    let between = draft(
        &sit,
        &ben,
        date(2025, 4, 1),
        vec![factor(1, Level::Low, Confidence::Low)],
        vec![],
    );
    s.create_assessment(&b_, between.clone()).await.unwrap();
    let other = draft(&elsewhere, &ana, date(2025, 5, 1), vec![], vec![]);
    s.create_assessment(&a_, other.clone()).await.unwrap();

    // Listed newest as_of first, per situation.
    let all = s.list_assessments(Some(sit.id), 100).await.unwrap();
    let ids: Vec<_> = all.iter().map(|a| a.id).collect();
    assert_eq!(ids, [second.id, between.id, first.id]);
    assert_eq!(all[0], second);
    assert_eq!(all[2], published);
    let newest = s.list_assessments(Some(sit.id), 1).await.unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].id, second.id);
    let there = s.list_assessments(Some(elsewhere.id), 100).await.unwrap();
    assert_eq!(there, vec![other.clone()]);
    assert!(s
        .list_assessments(Some(Uuid::now_v7()), 100)
        .await
        .unwrap()
        .is_empty());
    let everywhere: HashSet<_> = s
        .list_assessments(None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert!([first.id, second.id, between.id, other.id]
        .iter()
        .all(|id| everywhere.contains(id)));

    // The second is compared with the first (the draft in between does not count).
    let prev = previous(&all, &second).expect("a previous published assessment");
    assert_eq!(prev.id, first.id);
    assert!(previous(&all, &published).is_none());
    let d = diff(prev, &second);
    assert_eq!(d.previous_id, first.id);
    assert_eq!(d.previous_as_of, date(2025, 3, 1));
    let changed: Vec<_> = d
        .factors
        .iter()
        .map(|c| (c.factor, c.before, c.after))
        .collect();
    assert_eq!(
        changed,
        [
            (1, Some(Level::High), Some(Level::Severe)),
            (9, None, Some(Level::Low)),
        ]
    );
    let obs: Vec<_> = d
        .observations
        .iter()
        .map(|o| (o.indicator.as_str(), o.before, o.after))
        .collect();
    assert_eq!(
        obs,
        [("7.3", Some(Observed::Unknown), Some(Observed::Present))]
    );

    // Factor 1's published history: both points, oldest first.
    let h = factor_history(&all, FRAMEWORK, 1);
    let points: Vec<_> = h
        .iter()
        .map(|p| (p.assessment_id, p.as_of, p.level))
        .collect();
    assert_eq!(
        points,
        [
            (first.id, date(2025, 3, 1), Level::High),
            (second.id, date(2025, 6, 1), Level::Severe),
        ]
    );
    assert_eq!(factor_history(&all, FRAMEWORK, 9).len(), 1);

    assert_eq!(
        actions_on(s, &first.id.to_string()).await,
        [
            "assessment.create",
            "assessment.edit",
            "assessment.review",
            "assessment.publish"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Suggestion decisions.
// ---------------------------------------------------------------------------------------------

async fn suggestion_decisions(s: &dyn Store, _db: &Db) {
    let ana = new_user(s, "ana", Role::Analyst).await;
    let ben = new_user(s, "ben", Role::Analyst).await;
    let a_ = ana.actor();
    let sit = new_situation(s, "Suggestions").await;
    let inc = new_incident(s).await;
    let rep = new_report(s, "Militia checkpoint on the road to Bossangoa").await;
    // Tags drive some rules: "militia" suggests indicator 7.5.
    s.write(
        &a_,
        Op::SetTags {
            kind: Tagged::Incident,
            id: inc.id,
            tags: normalize_tags(&["Militia".into()]).unwrap(),
        },
    )
    .await
    .unwrap();

    let mut factors = vec![factor(1, Level::High, Confidence::High)];
    factors.extend((2..=8).map(|n| factor(n, Level::Moderate, Confidence::Medium)));
    let a = draft(
        &sit,
        &ana,
        date(2025, 3, 1),
        factors,
        vec![observation("7.3", Observed::Unknown)],
    );
    let a = s.create_assessment(&a_, a).await.unwrap();

    // What the analyst is offered, from the stored records and their stored tags.
    let map = EvidenceMap::un_2014();
    let incidents = vec![s.get_incident(inc.id).await.unwrap()];
    let tag_map = s.get_tags(Tagged::Incident, &[inc.id]).await.unwrap();
    let offered = suggest(&map, &a, &incidents, &[], &[], &tag_map);
    assert!(
        offered.iter().any(|x| x.indicator == "7.5"),
        "the stored tag drives a suggestion: {offered:?}"
    );
    let inc_ev = evidence(EvidenceKind::Incident, inc.id);
    let rep_ev = evidence(EvidenceKind::Report, rep.id);

    // Accept on an indicator already observed as unknown: evidence added, now present.
    let v2 = s
        .change_assessment(&a_, a.id, decide("7.3", &inc_ev, true))
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    let o = v2
        .observations
        .iter()
        .find(|o| o.indicator == "7.3")
        .unwrap();
    assert_eq!(o.observed, Observed::Present);
    assert_eq!(o.evidence, vec![inc_ev.clone()]);
    // Accept on an indicator not yet observed: a present observation is added.
    let v3 = s
        .change_assessment(&a_, a.id, decide("7.5", &inc_ev, true))
        .await
        .unwrap();
    let o = v3
        .observations
        .iter()
        .find(|o| o.indicator == "7.5")
        .unwrap();
    assert_eq!(o.observed, Observed::Present);
    assert_eq!(o.evidence, vec![inc_ev.clone()]);
    // Dismiss: recorded, no observation.
    let v4 = s
        .change_assessment(&ben.actor(), a.id, decide("5.2", &rep_ev, false))
        .await
        .unwrap();
    assert_eq!(v4.version, 4);
    assert!(v4.observations.iter().all(|o| o.indicator != "5.2"));

    // No level or confidence moved.
    assert_eq!(v4.factors, a.factors);
    let stored = s.get_assessment(a.id).await.unwrap();
    assert_eq!(stored, v4);
    let decisions: Vec<_> = stored
        .decisions
        .iter()
        .map(|d| {
            (
                d.indicator.as_str(),
                d.evidence.reference.clone(),
                d.accepted,
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            ("7.3", inc.id.to_string(), true),
            ("7.5", inc.id.to_string(), true),
            ("5.2", rep.id.to_string(), false),
        ]
    );
    assert_eq!(stored.decisions[2].by, ben.username);

    // Deciding twice is refused, either way, and changes nothing.
    for (ind, ev, accept) in [
        ("7.3", &inc_ev, true),
        ("7.3", &inc_ev, false),
        ("5.2", &rep_ev, true),
    ] {
        refused(
            s.change_assessment(&a_, a.id, decide(ind, ev, accept))
                .await,
        );
        assert_eq!(s.get_assessment(a.id).await.unwrap(), v4);
    }
    // Decided suggestions are not offered again.
    let again = suggest(&map, &stored, &incidents, &[], &[], &tag_map);
    assert!(
        again
            .iter()
            .all(|x| x.indicator != "7.5" && x.indicator != "7.3"),
        "{again:?}"
    );

    // Only a draft takes decisions.
    s.change_assessment(
        &ben.actor(),
        a.id,
        transition(AssessmentStatus::Reviewed, None),
    )
    .await
    .unwrap();
    refused(
        s.change_assessment(&a_, a.id, decide("7.9", &inc_ev, true))
            .await,
    );

    let actions = actions_on(s, &a.id.to_string()).await;
    assert_eq!(
        actions,
        [
            "assessment.create",
            "assessment.accept",
            "assessment.accept",
            "assessment.dismiss",
            "assessment.review"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Legal qualifications.
// ---------------------------------------------------------------------------------------------

async fn legal_qualifications(s: &dyn Store, db: &Db) {
    let admin = new_user(s, "admin", Role::Admin).await;
    let lea = new_user(s, "lea", Role::Analyst).await;
    let bob = new_user(s, "bob", Role::Analyst).await;
    let vic = new_user(s, "vic", Role::Viewer).await;
    let sit = new_situation(s, "Qualified").await;
    let other = new_situation(s, "Unqualified").await;
    s.write(&admin.actor(), grant(&lea, true)).await.unwrap();
    let lea = s.get_user(lea.id).await.unwrap();

    let q = LegalQualification::create(
        legal(Crime::Genocide, Finding::RiskOf),
        sit.id,
        sit.tlp,
        &lea,
        time::now(),
    )
    .unwrap();
    let stored = s
        .create_legal_qualification(&lea.actor(), q.clone())
        .await
        .unwrap();
    assert_eq!(stored, q);
    let later = LegalQualification::create(
        NewLegalQualification {
            tlp: Some(Tlp::Red),
            ..legal(Crime::CrimesAgainstHumanity, Finding::MayAmountTo)
        },
        sit.id,
        sit.tlp,
        &lea,
        time::now() + Duration::seconds(1),
    )
    .unwrap();
    s.create_legal_qualification(&lea.actor(), later.clone())
        .await
        .unwrap();

    let listed = s.list_legal_qualifications(sit.id).await.unwrap();
    assert_eq!(listed, vec![q.clone(), later.clone()], "oldest first");
    assert_eq!(listed[0].author, lea.username);
    assert_eq!(listed[0].author_id, lea.id);
    assert_eq!(
        listed[0].rationale,
        "Repeated attacks on one community, with public calls to eliminate it."
    );
    assert_eq!(listed[0].basis, "Genocide Convention, art. II");
    assert_eq!(listed[0].tlp, sit.tlp);
    assert_eq!(listed[1].tlp, Tlp::Red);
    assert!(s
        .list_legal_qualifications(other.id)
        .await
        .unwrap()
        .is_empty());

    // Without the grant nobody qualifies: an analyst, a viewer, or the granted one once revoked.
    for u in [&bob, &vic] {
        let u = s.get_user(u.id).await.unwrap();
        assert!(LegalQualification::create(
            legal(Crime::WarCrimes, Finding::RiskOf),
            sit.id,
            sit.tlp,
            &u,
            time::now(),
        )
        .is_err());
    }
    s.write(&admin.actor(), grant(&lea, false)).await.unwrap();
    let revoked = s.get_user(lea.id).await.unwrap();
    assert!(LegalQualification::create(
        legal(Crime::WarCrimes, Finding::RiskOf),
        sit.id,
        sit.tlp,
        &revoked,
        time::now(),
    )
    .is_err());
    assert_eq!(s.list_legal_qualifications(sit.id).await.unwrap().len(), 2);

    // The database refuses to change or delete one.
    let mut raw = db.raw().await;
    for sql in [
        format!(
            "UPDATE legal_qualifications SET crime = 'war crimes' WHERE id = '{}'",
            q.id
        ),
        format!("DELETE FROM legal_qualifications WHERE id = '{}'", q.id),
    ] {
        let err = raw.exec(&sql).await.expect_err(&sql);
        assert!(
            err.contains("immutable") || err.contains("never deleted"),
            "{sql}: {err}"
        );
    }
    assert_eq!(s.list_legal_qualifications(sit.id).await.unwrap(), listed);

    let entries: Vec<_> = audit_log(s)
        .await
        .into_iter()
        .filter(|e| e.action == "legal_qualification.create")
        .filter(|e| e.record_id.as_deref() == Some(&sit.id.to_string()))
        .collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].actor_id, Some(lea.id));
    assert!(entries[0].detail.contains(&q.id.to_string()));
}

// ---------------------------------------------------------------------------------------------
// 5. Tags.
// ---------------------------------------------------------------------------------------------

async fn tags(s: &dyn Store, _db: &Db) {
    let ana = new_user(s, "ana", Role::Analyst).await;
    let a_ = ana.actor();
    let inc = new_incident(s).await;
    let untagged = new_incident(s).await;
    let rep = new_report(s, "Radio calls to chase them out").await;
    let set = |kind, id, tags: Vec<String>| Op::SetTags { kind, id, tags };

    let inc_tags = normalize_tags(&[
        "  Hate Speech ".into(),
        "displacement".into(),
        "hate-speech".into(),
    ])
    .unwrap();
    assert_eq!(inc_tags, ["displacement", "hate-speech"]);
    assert!(normalize_tags(&["no/slash".into()]).is_err());
    let rep_tags = normalize_tags(&["radio:local".into(), "Militia".into()]).unwrap();
    s.write(&a_, set(Tagged::Incident, inc.id, inc_tags.clone()))
        .await
        .unwrap();
    s.write(&a_, set(Tagged::Report, rep.id, rep_tags.clone()))
        .await
        .unwrap();

    // Only the records asked for, of the kind asked for.
    let ids = [inc.id, untagged.id, rep.id, Uuid::now_v7()];
    let got = s.get_tags(Tagged::Incident, &ids).await.unwrap();
    assert_eq!(got, HashMap::from([(inc.id, inc_tags.clone())]));
    let got = s.get_tags(Tagged::Report, &ids).await.unwrap();
    assert_eq!(got, HashMap::from([(rep.id, rep_tags.clone())]));
    assert!(s
        .get_tags(Tagged::Incident, &[untagged.id])
        .await
        .unwrap()
        .is_empty());
    assert!(s.get_tags(Tagged::Incident, &[]).await.unwrap().is_empty());

    // Setting replaces; an empty set clears.
    s.write(&a_, set(Tagged::Incident, inc.id, vec!["curfew".into()]))
        .await
        .unwrap();
    let got = s.get_tags(Tagged::Incident, &[inc.id]).await.unwrap();
    assert_eq!(got, HashMap::from([(inc.id, vec!["curfew".to_string()])]));
    s.write(&a_, set(Tagged::Report, rep.id, vec![]))
        .await
        .unwrap();
    assert!(s
        .get_tags(Tagged::Report, &[rep.id])
        .await
        .unwrap()
        .is_empty());

    // A record that does not exist (or is not of that kind) cannot be tagged.
    let before = audit_len(s).await;
    not_found(
        s.write(&a_, set(Tagged::Incident, Uuid::now_v7(), vec!["x".into()]))
            .await,
    );
    not_found(
        s.write(&a_, set(Tagged::Report, Uuid::now_v7(), vec!["x".into()]))
            .await,
    );
    not_found(
        s.write(&a_, set(Tagged::Incident, rep.id, vec!["x".into()]))
            .await,
    );
    assert_eq!(audit_len(s).await, before);
    assert!(s
        .get_tags(Tagged::Incident, &[rep.id])
        .await
        .unwrap()
        .is_empty());

    assert_eq!(
        actions_on(s, &inc.id.to_string()).await,
        ["incident.create", "tags.set", "tags.set"]
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Forecast runs.
// ---------------------------------------------------------------------------------------------

fn score(c: &str, rank: u32, probability: f64) -> ForecastScore {
    ForecastScore {
        country: country(c),
        rank,
        probability,
        contributions: vec![
            ("prior_mass_killing".into(), 1.234_567_890_123),
            ("coup_attempt".into(), 0.1 + 0.2),
            ("trade_openness".into(), -0.000_012_5),
        ],
    }
}

fn run(year: i32, created_at: chrono::DateTime<Utc>, scores: Vec<ForecastScore>) -> ForecastRun {
    ForecastRun {
        id: tocsin_domain::new_id(),
        year,
        model: "tocsin".into(),
        data: format!("ewp-{year}.csv"),
        countries: scores.len() as u32,
        created_at,
        scores,
    }
}

async fn forecast_runs(s: &dyn Store, _db: &Db) {
    assert!(s.latest_forecast_run().await.unwrap().is_none());
    let t0 = Utc.with_ymd_and_hms(2025, 2, 1, 9, 30, 15).unwrap() + Duration::microseconds(123);
    // The 2024 run is stored first and made earlier: "latest" is by data year.
    let r2024 = run(
        2024,
        t0,
        vec![
            score("MMR", 2, 0.21),
            score("SDN", 1, 0.317_5),
            score("CAF", 4, 0.05),
            score("SSD", 3, 0.11),
        ],
    );
    let r2023 = run(
        2023,
        t0 + Duration::hours(1),
        vec![
            score("SDN", 2, 0.2),
            score("MMR", 1, 0.25),
            score("CAF", 3, 0.04),
        ],
    );
    for r in [&r2024, &r2023] {
        s.write(&system(), Op::StoreForecastRun(Box::new(r.clone())))
            .await
            .unwrap();
    }

    let by_rank = |r: &ForecastRun| {
        let mut r = r.clone();
        r.scores.sort_by_key(|s| s.rank);
        r
    };
    let latest = s.latest_forecast_run().await.unwrap().expect("a run");
    assert_eq!(latest.year, 2024);
    assert_eq!(
        latest,
        by_rank(&r2024),
        "scores in rank order, all round-tripped"
    );
    let order: Vec<_> = latest.scores.iter().map(|x| x.country.code()).collect();
    assert_eq!(order, ["SDN", "MMR", "SSD", "CAF"]);
    assert_eq!(
        latest.scores[0].contributions,
        score("SDN", 1, 0.0).contributions
    );
    assert_eq!(s.get_forecast_run(r2023.id).await.unwrap(), by_rank(&r2023));
    not_found(s.get_forecast_run(Uuid::now_v7()).await);

    // A country's history: oldest data year first.
    let h = s.forecast_history(&country("SDN")).await.unwrap();
    let points: Vec<_> = h
        .iter()
        .map(|p| (p.run_id, p.year, p.rank, p.countries, p.probability))
        .collect();
    assert_eq!(
        points,
        [(r2023.id, 2023, 2, 3, 0.2), (r2024.id, 2024, 1, 4, 0.317_5)]
    );
    assert_eq!(h[0].model, "tocsin");
    assert_eq!(h[0].created_at, r2023.created_at);
    assert_eq!(h[1].created_at, r2024.created_at);
    let ssd = s.forecast_history(&country("SSD")).await.unwrap();
    assert_eq!(ssd.len(), 1);
    assert_eq!(ssd[0].year, 2024);
    assert!(s
        .forecast_history(&country("NOR"))
        .await
        .unwrap()
        .is_empty());

    let stored: Vec<_> = audit_log(s)
        .await
        .into_iter()
        .filter(|e| e.action == "forecast.store")
        .filter_map(|e| e.record_id)
        .collect();
    assert_eq!(stored, [r2024.id.to_string(), r2023.id.to_string()]);
}

// ---------------------------------------------------------------------------------------------
// 7. Signals.
// ---------------------------------------------------------------------------------------------

fn signal(
    c: &str,
    admin1: Option<&str>,
    metric: &str,
    week: NaiveDate,
    score: f64,
) -> SignalRecord {
    SignalRecord {
        id: tocsin_domain::new_id(),
        country: country(c),
        admin1: admin1.map(str::to_string),
        metric: metric.into(),
        week_start: week,
        observed: 14.0,
        expected: 2.3,
        score,
        threshold: 5.0,
        severity: "high".into(),
        explanation: format!("14 {metric} in the week of {week} against 2.3 expected"),
        created_at: time::now(),
        tlp: Tlp::Red,
    }
}

async fn signals(s: &dyn Store, _db: &Db) {
    let (w1, w2, w3) = (date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17));
    let first = vec![
        signal("CAF", Some("Ouham"), "incidents", w1, 7.5),
        signal("CAF", None, "fatalities", w2, 9.25),
        signal("SDN", Some("North Darfur"), "incidents", w2, 12.0),
    ];
    assert_eq!(s.record_signals(&system(), first.clone()).await.unwrap(), 3);

    // The same area, metric and week again: skipped, the first record kept.
    let repeat: Vec<_> = first
        .iter()
        .map(|x| {
            signal(
                x.country.code(),
                x.admin1.as_deref(),
                &x.metric,
                x.week_start,
                99.0,
            )
        })
        .collect();
    assert_eq!(s.record_signals(&system(), repeat).await.unwrap(), 0);
    let all = s.list_signals(Tlp::Red, None, None, 100).await.unwrap();
    assert_eq!(all.len(), 3);
    // One new among repeats is the only one counted.
    let newer = signal("CAF", Some("Ouham"), "incidents", w3, 6.0);
    let mixed = vec![
        signal("CAF", None, "fatalities", w2, 1.0),
        newer.clone(),
        signal("CAF", Some("Ouham"), "fatalities", w1, 1.0),
    ];
    assert_eq!(s.record_signals(&system(), mixed).await.unwrap(), 2);
    assert_eq!(s.record_signals(&system(), vec![]).await.unwrap(), 0);

    // Newest week first, filtered by country and week.
    let caf = s
        .list_signals(Tlp::Red, Some(&country("CAF")), None, 100)
        .await
        .unwrap();
    let weeks: Vec<_> = caf.iter().map(|x| x.week_start).collect();
    assert_eq!(weeks, [w3, w2, w1, w1]);
    assert_eq!(caf[0], newer);
    assert_eq!(caf[1], first[1], "a country-wide signal round-trips");
    assert_eq!(caf[1].admin1, None);
    // One signal by its id, as stored; an unknown id is not found.
    assert_eq!(s.get_signal(newer.id).await.unwrap(), newer);
    assert!(matches!(
        s.get_signal(Uuid::now_v7()).await,
        Err(tocsin_store::StoreError::NotFound)
    ));
    assert!(caf.iter().all(|x| x.country.code() == "CAF"));
    let since = s
        .list_signals(Tlp::Red, Some(&country("CAF")), Some(w2), 100)
        .await
        .unwrap();
    assert_eq!(
        since.iter().map(|x| x.id).collect::<Vec<_>>(),
        [newer.id, first[1].id]
    );
    let sdn = s
        .list_signals(Tlp::Red, Some(&country("SDN")), Some(w1), 100)
        .await
        .unwrap();
    assert_eq!(sdn, vec![first[2].clone()]);
    assert!(s
        .list_signals(Tlp::Red, Some(&country("SDN")), Some(w3), 100)
        .await
        .unwrap()
        .is_empty());
    let everywhere = s.list_signals(Tlp::Red, None, None, 100).await.unwrap();
    assert_eq!(everywhere.len(), 5);
    assert!(everywhere
        .windows(2)
        .all(|p| p[0].week_start >= p[1].week_start));
    assert_eq!(
        s.list_signals(Tlp::Red, None, None, 2).await.unwrap().len(),
        2
    );
    assert_eq!(
        s.list_signals(Tlp::Red, None, None, 1).await.unwrap()[0].week_start,
        w3
    );

    // The same area, metric and week computed at another clearance is a signal of its own,
    // and each caller gets exactly its own level's.
    let green = SignalRecord {
        tlp: Tlp::Green,
        observed: 6.0,
        ..signal("CAF", Some("Ouham"), "incidents", w3, 3.0)
    };
    assert_eq!(
        s.record_signals(&system(), vec![green.clone()])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.record_signals(&system(), vec![green.clone()])
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.list_signals(Tlp::Green, None, None, 100).await.unwrap(),
        vec![green]
    );
    assert!(s
        .list_signals(Tlp::Amber, None, None, 100)
        .await
        .unwrap()
        .is_empty());
    let red = s.list_signals(Tlp::Red, None, None, 100).await.unwrap();
    assert_eq!(red.len(), 5);
    assert!(red.iter().all(|x| x.tlp == Tlp::Red));
    assert_eq!(red[0], newer);
}

/// A database from before signals had a level: its signals are kept, as TLP:RED (they were
/// computed from every incident), and a lower level's signal of the same week goes beside them.
async fn signals_stored_before_levels_become_red(_s: &dyn Store, db: &Db) {
    let old = signal("CAF", Some("Ouham"), "incidents", date(2025, 3, 3), 7.5);
    let mut body = serde_json::to_value(&old).unwrap();
    body.as_object_mut().unwrap().remove("tlp");
    let mut raw = db.raw().await;
    // Undo the level migration: the table as it was, and the migration not yet applied.
    let undo: &[&str] = match raw {
        Raw::Sqlite(_) => &[
            "DROP TABLE signals",
            "CREATE TABLE signals (id TEXT PRIMARY KEY, country TEXT NOT NULL, \
             admin1 TEXT NOT NULL DEFAULT '', metric TEXT NOT NULL, week_start TEXT NOT NULL, \
             created_at TEXT NOT NULL, body TEXT NOT NULL, \
             UNIQUE (country, admin1, metric, week_start))",
            "CREATE INDEX signals_week ON signals (week_start)",
            "DELETE FROM _sqlx_migrations WHERE version = 11",
        ],
        Raw::Postgres(_) => &[
            "ALTER TABLE signals DROP CONSTRAINT signals_area_week_tlp_key",
            // Dropping the column drops the index on it too.
            "ALTER TABLE signals DROP COLUMN tlp",
            "ALTER TABLE signals ADD UNIQUE (country, admin1, metric, week_start)",
            "CREATE INDEX signals_week ON signals (week_start)",
            "DELETE FROM _sqlx_migrations WHERE version = 10",
        ],
    };
    for sql in undo {
        raw.exec(sql).await.unwrap();
    }
    raw.exec(&format!(
        "INSERT INTO signals (id, country, admin1, metric, week_start, created_at, body) \
         VALUES ('{}', 'CAF', 'Ouham', 'incidents', '2025-03-03', '2025-03-10T00:00:00Z', '{}')",
        old.id,
        body.to_string().replace('\'', "''")
    ))
    .await
    .unwrap();

    let again = db.open_another().await;
    assert_eq!(
        again.list_signals(Tlp::Red, None, None, 10).await.unwrap(),
        vec![old.clone()]
    );
    assert!(again
        .list_signals(Tlp::Green, None, None, 10)
        .await
        .unwrap()
        .is_empty());
    let green = SignalRecord {
        tlp: Tlp::Green,
        ..signal("CAF", Some("Ouham"), "incidents", old.week_start, 3.0)
    };
    assert_eq!(
        again.record_signals(&system(), vec![green]).await.unwrap(),
        1
    );
    assert_eq!(
        again
            .list_signals(Tlp::Red, None, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

// ---------------------------------------------------------------------------------------------
// 8. The audit chain after all of it.
// ---------------------------------------------------------------------------------------------

async fn audit_chain_after_everything(s: &dyn Store, db: &Db) {
    grants(s, db).await;
    assessment_lifecycle(s, db).await;
    suggestion_decisions(s, db).await;
    legal_qualifications(s, db).await;
    tags(s, db).await;
    forecast_runs(s, db).await;
    signals(s, db).await;

    let log = audit_log(s).await;
    assert!(log.windows(2).all(|p| p[1].seq == p[0].seq + 1));
    let actions: HashSet<_> = log.iter().map(|e| e.action.as_str()).collect();
    for want in [
        "user.grant",
        "user.revoke_grant",
        "assessment.create",
        "assessment.edit",
        "assessment.review",
        "assessment.publish",
        "assessment.accept",
        "assessment.dismiss",
        "legal_qualification.create",
        "tags.set",
        "forecast.store",
        "signals.record",
    ] {
        assert!(actions.contains(want), "no {want} entry in {actions:?}");
    }
    // Every entry names who did it; assessments and qualifications were made by people.
    for e in &log {
        if e.action.starts_with("assessment.") || e.action == "legal_qualification.create" {
            assert!(e.actor_id.is_some(), "{e:?}");
        }
    }
}
