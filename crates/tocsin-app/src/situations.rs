//! Situations and what their pages show: assessments, legal qualifications, escalation
//! signals and forecast ranks; the audit trail and the outbox summary for those allowed.

use chrono::NaiveDate;
use serde::Serialize;
use tocsin_domain::assessment::{self, FactorPoint};
use tocsin_domain::{
    Assessment, AuditEntry, Country, ForecastPoint, ForecastRun, LegalQualification,
    NewLegalQualification, NewSituation, Page, PageRequest, Permission, SignalRecord, Situation,
    User,
};
use tocsin_store::{AuditFilter, OutboxSummary, StoreExt};
use uuid::Uuid;

use crate::{may_label, reads, require, visible, Acting, App, AppError, Result};

/// A situation's first-level areas as the gazetteer names them
/// ([`tocsin_geo::Gazetteer::admin1_named`]: case, diacritics, words such as "Province" and
/// compass words in the four languages), duplicates dropped, so incidents are matched by the
/// canonical name. A name the gazetteer does not know, or that fits two areas, is refused
/// naming the entry (`admin1[1]`) with what it may mean; nothing is written.
pub fn canonical_admin1(country: &Country, names: &[String]) -> Result<Vec<String>> {
    let g = tocsin_geo::Gazetteer::global();
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for (i, n) in names.iter().enumerate() {
        match g.admin1_named(country.code(), n) {
            tocsin_geo::Admin1Match::Found(name) => {
                if !out.iter().any(|x| x == name) {
                    out.push(name.to_string());
                }
            }
            tocsin_geo::Admin1Match::Unknown { suggestions } => {
                let hint = if suggestions.is_empty() {
                    String::new()
                } else {
                    format!("; did you mean {}?", suggestions.join(", "))
                };
                return Err(AppError::invalid(
                    format!("admin1[{i}]"),
                    format!(
                        "no first-level area {n:?} is known in {}{hint}",
                        country.code()
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// Whether an incident (or signal) in `country` and first-level area `admin1` lies in `s`'s
/// area, comparing the gazetteer's names of both (so "Ouham-Pendé", "OUHAM PENDE" and the
/// stored "Ouham-Pende" are one area; a name the gazetteer does not know is compared as
/// written, ignoring case).
pub fn in_area(s: &Situation, country: &Country, admin1: Option<&str>) -> bool {
    if s.admin1.is_empty() || *country != s.country {
        return s.covers(country, admin1);
    }
    let Some(a) = admin1 else {
        return false;
    };
    let a = a.trim();
    let a = canonical_name(country, a).unwrap_or(a);
    s.admin1.iter().any(|x| {
        canonical_name(country, x)
            .unwrap_or(x.as_str())
            .eq_ignore_ascii_case(a)
    })
}

/// The gazetteer's name of `country`'s area `name`, remembered (incidents repeat a few names).
fn canonical_name(country: &Country, name: &str) -> Option<&'static str> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Memo = Mutex<HashMap<(String, String), Option<&'static str>>>;
    static MEMO: OnceLock<Memo> = OnceLock::new();
    let memo = MEMO.get_or_init(Default::default);
    let key = (country.code().to_string(), name.trim().to_string());
    if let Some(found) = memo.lock().ok().and_then(|m| m.get(&key).copied()) {
        return found;
    }
    let found = match tocsin_geo::Gazetteer::global().admin1_named(country.code(), name) {
        tocsin_geo::Admin1Match::Found(n) => Some(n),
        tocsin_geo::Admin1Match::Unknown { .. } => None,
    };
    if let Ok(mut m) = memo.lock() {
        if m.len() > 20_000 {
            m.clear();
        }
        m.insert(key, found);
    }
    found
}

/// What a situation page shows beside the situation itself.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SituationOverview {
    /// The situation.
    pub situation: Situation,
    /// Its assessments the caller may see, newest first.
    pub assessments: Vec<Assessment>,
    /// Attributed legal qualifications (none unless an analyst recorded one).
    pub legal_qualifications: Vec<LegalQualification>,
    /// Recent escalation signals in its country (and area), computed at the caller's clearance.
    pub signals: Vec<SignalRecord>,
    /// The country's forecast rank in each stored run, oldest first.
    pub forecast: Vec<ForecastPoint>,
}

impl App<'_> {
    /// A situation `u` may see (not audited: the callers that show it audit).
    pub async fn situation_for(&self, u: &User, id: Uuid) -> Result<Situation> {
        require(u, Permission::SituationRead)?;
        let s = self.store.get_situation(id).await?;
        visible(u, s.tlp)?;
        Ok(s)
    }

    /// A situation `u` may see; the read of a restricted one is audited.
    pub async fn get_situation(&self, u: &User, id: Uuid) -> Result<Situation> {
        let s = self.situation_for(u, id).await?;
        reads::one(self.store, u, "situation", s.id, s.tlp).await?;
        Ok(s)
    }

    /// One page of the situations `u` may see; the listing of restricted ones is audited.
    pub async fn list_situations(&self, u: &User, page: PageRequest) -> Result<Page<Situation>> {
        require(u, Permission::SituationRead)?;
        let page = self.store.list_situations(u.clearance, page).await?;
        reads::list(
            self.store,
            u,
            "situation",
            page.items.iter().map(|s| (s.id, s.tlp)),
        )
        .await?;
        Ok(page)
    }

    /// Open a situation (users who may write situations, at most at their clearance; or the
    /// operator).
    pub async fn create_situation(
        &self,
        by: impl Into<Acting<'_>>,
        input: NewSituation,
    ) -> Result<Situation> {
        let by = by.into();
        by.require(Permission::SituationWrite)?;
        let mut s = Situation::parse(input)?;
        s.admin1 = canonical_admin1(&s.country, &s.admin1)?;
        if let Acting::User(u) = by {
            may_label(u, s.tlp)?;
        }
        Ok(self.store.create_situation(&by.actor(), s).await?)
    }

    /// Change a situation's name, admin-1 areas, status or description (users who may write
    /// situations and see this one; its label and country never change here).
    pub async fn update_situation(
        &self,
        u: &User,
        id: Uuid,
        e: tocsin_domain::SituationEdit,
    ) -> Result<Situation> {
        require(u, Permission::SituationWrite)?;
        let s = self.situation_for(u, id).await?;
        let mut changed = s.edit(e)?;
        changed.admin1 = canonical_admin1(&changed.country, &changed.admin1)?;
        Ok(self.store.update_situation(&u.actor(), changed).await?)
    }

    /// Everything a situation page shows, as `u` may see it (the API's overview; the page
    /// itself is [`App::situation_dashboard`], which shares these reads).
    pub async fn overview(&self, u: &User, id: Uuid) -> Result<SituationOverview> {
        let situation = self.get_situation(u, id).await?;
        let assessments = self.assessments_of(u, &situation).await?;
        let legal_qualifications = self.legal_of(u, &situation).await?;
        let signals = self.signals_in_area(u, &situation, 50).await?;
        let forecast = self.store.forecast_history(&situation.country).await?;
        Ok(SituationOverview {
            situation,
            assessments,
            legal_qualifications,
            signals,
            forecast,
        })
    }

    /// The legal qualifications recorded on `s` that `u` may see.
    pub(crate) async fn legal_of(
        &self,
        u: &User,
        s: &Situation,
    ) -> Result<Vec<LegalQualification>> {
        Ok(self
            .store
            .list_legal_qualifications(s.id)
            .await?
            .into_iter()
            .filter(|q| u.may_see(q.tlp))
            .collect())
    }

    /// The newest escalation signals (at most `limit`) in `s`'s country and, when it names
    /// first-level areas, in them (a country-wide signal counts), computed at `u`'s
    /// clearance; shown, so audited when that clearance is.
    pub(crate) async fn signals_in_area(
        &self,
        u: &User,
        s: &Situation,
        limit: usize,
    ) -> Result<Vec<SignalRecord>> {
        let mut v = self
            .store
            .list_signals(u.clearance, Some(&s.country), None, 200)
            .await?;
        if !s.admin1.is_empty() {
            v.retain(|g| {
                g.admin1
                    .as_deref()
                    .is_none_or(|x| in_area(s, &g.country, Some(x)))
            });
        }
        v.truncate(limit);
        reads::list(self.store, u, "signal", v.iter().map(|g| (g.id, g.tlp))).await?;
        Ok(v)
    }

    /// A risk factor's published levels over time in a situation (factors of the default
    /// framework; one out of its range is refused naming `factor`).
    pub async fn factor_history(
        &self,
        u: &User,
        id: Uuid,
        factor: &str,
    ) -> Result<Vec<FactorPoint>> {
        let s = self.situation_for(u, id).await?;
        let fw = self.frameworks.default_framework();
        let n: u32 = factor
            .trim()
            .parse()
            .ok()
            .filter(|n| *n >= 1 && *n as usize <= fw.risk_factors.len())
            .ok_or_else(|| AppError::bad_field("factor", "no such risk factor"))?;
        let all = self.assessments_of(u, &s).await?;
        Ok(assessment::factor_history(&all, &fw.id, n))
    }

    /// Record a legal qualification: only a user granted `legal_qualify`, never the system.
    pub async fn qualify(
        &self,
        u: &User,
        situation_id: Uuid,
        n: NewLegalQualification,
    ) -> Result<LegalQualification> {
        if !u.can(Permission::LegalQualify) {
            return Err(AppError::Forbidden {
                needed: Some(Permission::LegalQualify),
                message: "a legal qualification needs the legal_qualify grant".into(),
            });
        }
        let s = self.situation_for(u, situation_id).await?;
        let q = LegalQualification::create(n, s.id, s.tlp, u, tocsin_domain::time::now())?;
        Ok(self.store.create_legal_qualification(&u.actor(), q).await?)
    }

    /// Recent escalation signals computed at `u`'s clearance. Signals computed at
    /// TLP:AMBER+STRICT or RED clearance are audited as a list read.
    pub async fn signals(
        &self,
        u: &User,
        country: Option<&Country>,
        since: Option<NaiveDate>,
        limit: u32,
    ) -> Result<Vec<SignalRecord>> {
        let v = self.signals_unaudited(u, country, since, limit).await?;
        reads::list(self.store, u, "signal", v.iter().map(|s| (s.id, s.tlp))).await?;
        Ok(v)
    }

    /// As [`App::signals`] without the audit entry, for use cases that count many and audit
    /// only those they show (the landing dashboard).
    pub(crate) async fn signals_unaudited(
        &self,
        u: &User,
        country: Option<&Country>,
        since: Option<NaiveDate>,
        limit: u32,
    ) -> Result<Vec<SignalRecord>> {
        require(u, Permission::SituationRead)?;
        Ok(self
            .store
            .list_signals(u.clearance, country, since, limit)
            .await?)
    }

    /// The newest stored forecast run.
    pub async fn latest_forecast(&self, u: &User) -> Result<ForecastRun> {
        require(u, Permission::SituationRead)?;
        self.store
            .latest_forecast_run()
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Entries of the audit trail after `after`, for roles allowed to read it.
    pub async fn audit_entries(&self, u: &User, after: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        require(u, Permission::AuditRead)?;
        Ok(self.store.audit_entries(after, limit).await?)
    }

    /// Audit entries matching `f` before `before` (newest first, at most `limit`) and how many
    /// match in all, for roles allowed to read the audit trail.
    pub async fn search_audit(
        &self,
        u: &User,
        f: &AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<(Vec<AuditEntry>, u64)> {
        require(u, Permission::AuditRead)?;
        let items = self.store.search_audit(f, before, limit).await?;
        let total = self.store.count_audit(f).await?;
        Ok((items, total))
    }

    /// One escalation signal, with the newest alert within `u`'s clearance resting on it. A
    /// signal is shown only to users of exactly the clearance it was computed at (it counts
    /// what they may see); any other is as absent.
    pub async fn signal(&self, u: &User, id: Uuid) -> Result<(SignalRecord, Option<Uuid>)> {
        require(u, Permission::SituationRead)?;
        let s = self.store.get_signal(id).await?;
        if s.tlp != u.clearance {
            return Err(AppError::NotFound);
        }
        reads::one(self.store, u, "signal", s.id, s.tlp).await?;
        let alert = self.alerts_on_signals(u, &[s.id]).await?.remove(&s.id);
        Ok((s, alert))
    }

    /// How the outbox of replies stands (counts only), for roles allowed to read the audit.
    pub async fn outbox_summary(&self, u: &User) -> Result<OutboxSummary> {
        require(u, Permission::AuditRead)?;
        Ok(self.store.outbox_summary().await?)
    }
}
