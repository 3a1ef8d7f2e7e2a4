//! The labels of the records an assessment cites as evidence. The label of a document must
//! cover its sources: an assessment cites only incidents and reports labelled at or below its
//! own TLP, and a reader is shown only the evidence they may see (rows written before that
//! rule included), so no link and no count comes from a record above their clearance.

use std::collections::HashMap;
use tocsin_domain::{Assessment, Evidence, EvidenceKind, Tlp, User};
use tocsin_store::{DynStore, StoreError};
use uuid::Uuid;

use crate::{AppError, Result};

/// The labels of cited incidents, reports and speech flags, looked up once each.
#[derive(Default)]
pub(crate) struct Labels(HashMap<(EvidenceKind, Uuid), Option<Tlp>>);

fn cited(e: &Evidence) -> Option<(EvidenceKind, Uuid)> {
    if e.kind == EvidenceKind::Document {
        return None;
    }
    Uuid::parse_str(e.reference.trim())
        .ok()
        .map(|id| (e.kind, id))
}

/// How a refusal names a kind of cited record.
fn noun(kind: EvidenceKind) -> &'static str {
    match kind {
        EvidenceKind::Incident => "incident",
        EvidenceKind::Report => "report",
        EvidenceKind::SpeechFlag => "speech flag",
        EvidenceKind::Document => "document",
    }
}

fn all_evidence(a: &Assessment) -> impl Iterator<Item = &Evidence> {
    a.factors
        .iter()
        .flat_map(|f| f.evidence.iter())
        .chain(a.observations.iter().flat_map(|o| o.evidence.iter()))
        .chain(a.decisions.iter().map(|d| &d.evidence))
}

impl Labels {
    /// Look up the labels of these cited records not yet known (`None`: no such record).
    pub(crate) async fn load<'e>(
        &mut self,
        store: &DynStore,
        evidence: impl IntoIterator<Item = &'e Evidence>,
    ) -> Result<()> {
        let mut incidents = vec![];
        let mut others = vec![];
        for key in evidence.into_iter().filter_map(cited) {
            if self.0.contains_key(&key) {
                continue;
            }
            self.0.insert(key, None);
            match key.0 {
                EvidenceKind::Incident => incidents.push(key.1),
                _ => others.push(key),
            }
        }
        if !incidents.is_empty() {
            for i in store.get_incidents(&incidents).await? {
                self.0.insert((EvidenceKind::Incident, i.id), Some(i.tlp));
            }
        }
        for (kind, id) in others {
            let tlp = match kind {
                EvidenceKind::Report => store.get_report(id).await.map(|r| r.tlp),
                _ => store.get_flag(id).await.map(|f| f.tlp),
            };
            match tlp {
                Ok(t) => {
                    self.0.insert((kind, id), Some(t));
                }
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Whether `e` may be shown to one cleared to `clearance`: documents and links to no
    /// stored record always; a record only at or below the clearance.
    fn shown(&self, e: &Evidence, clearance: Tlp) -> bool {
        match cited(e).and_then(|k| self.0.get(&k).copied().flatten()) {
            Some(t) => t <= clearance,
            None => true,
        }
    }

    /// Refuse, naming `evidence`, a cited record that does not exist or is labelled above
    /// `tlp` (one answer for both, so that the refusal tells nothing of a record above the
    /// editor's clearance).
    pub(crate) fn check(&self, e: &Evidence, tlp: Tlp) -> Result<()> {
        let Some(key) = cited(e) else { return Ok(()) };
        match self.0.get(&key).copied().flatten() {
            Some(t) if t <= tlp => Ok(()),
            _ => Err(AppError::invalid(
                "evidence",
                format!(
                    "no {} {} labelled at or below this assessment's {} (an assessment \
                     cites only records its own label covers)",
                    noun(key.0),
                    key.1,
                    tlp.as_str()
                ),
            )),
        }
    }

    /// Whether the cited record exists and is labelled above `tlp`.
    pub(crate) fn above(&self, e: &Evidence, tlp: Tlp) -> bool {
        cited(e)
            .and_then(|k| self.0.get(&k).copied().flatten())
            .is_some_and(|t| t > tlp)
    }
}

/// `a` with only the evidence one cleared to `clearance` may see: links, accepted and dismissed
/// suggestions alike.
pub(crate) async fn seen_by(
    store: &DynStore,
    labels: &mut Labels,
    u: &User,
    mut a: Assessment,
) -> Result<Assessment> {
    labels.load(store, all_evidence(&a)).await?;
    let c = u.clearance;
    for f in &mut a.factors {
        f.evidence.retain(|e| labels.shown(e, c));
    }
    for o in &mut a.observations {
        o.evidence.retain(|e| labels.shown(e, c));
    }
    a.decisions.retain(|d| labels.shown(&d.evidence, c));
    Ok(a)
}

/// Every evidence link `a` holds: factors, observations and decided suggestions.
pub(crate) fn held(a: &Assessment) -> impl Iterator<Item = &Evidence> {
    all_evidence(a)
}
