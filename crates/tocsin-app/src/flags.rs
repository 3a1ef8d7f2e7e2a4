//! Dangerous-speech flags: every incoming report is scanned with the enabled lexicons and its
//! flags are written in the same write as the report ([`scan_steps`], called by SMS ingest,
//! the web form and reports made by staff); analysts list, read and review them.
//!
//! **Invariants:** a hit is a flag, never a verdict: nothing here decides anything about the
//! report, and only an analyst ([`Permission::FlagReview`]) confirms or dismisses a flag. A
//! flag stores the report's id and label, the lexicon and the terms' offsets in the original
//! text, never the text or anything about the sender. A flag is seen only by a reader of
//! reports cleared for its report's label; reads of restricted ones are audited.
//!
//! The scanner of the enabled lexicons is compiled once and kept in the process, keyed by the
//! store's random token ([`tocsin_store::Speech::speech_token`]) that every import, enabling
//! and disabling replaces: a changed token builds it again.

use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tocsin_domain::{
    AuditEvent, FlagReviewInput, FlagState, FlagTerm, NewReport, Page, PageRequest, Permission,
    SpeechFlag, Tlp, User,
};
use tocsin_speech::Scanner;
use tocsin_store::{FlagFilter, Op, SpeechStep, Step, Store};
use uuid::Uuid;

use crate::{reads, require, visible, App, AppError, Result};

/// The enabled lexicons, compiled.
pub struct Compiled {
    /// `None` when no lexicon is enabled (or none could be read).
    scanner: Option<Scanner>,
    /// Name and version of each lexicon, in the scanner's order.
    lexicons: Vec<(String, i64)>,
}

impl Compiled {
    /// Compile these lexicons (record and CSV text, as the store answers them). A stored
    /// lexicon that no longer reads is left out and logged: a report is never refused for it.
    pub fn build(enabled: Vec<(tocsin_store::LexiconRecord, String)>) -> Compiled {
        let mut lexicons = Vec::new();
        let mut parsed = Vec::new();
        for (record, source) in enabled {
            match tocsin_speech::read_lexicon(&record.name, source.as_bytes()) {
                Ok(l) => {
                    parsed.push(l);
                    lexicons.push((record.name, record.version));
                }
                Err(e) => {
                    tracing::error!(lexicon = %record.name, error = %e,
                        "an enabled lexicon does not read; reports are scanned without it");
                }
            }
        }
        if parsed.is_empty() {
            return Compiled {
                scanner: None,
                lexicons,
            };
        }
        match Scanner::new(parsed) {
            Ok(s) => Compiled {
                scanner: Some(s),
                lexicons,
            },
            Err(e) => {
                tracing::error!(error = %e, "the scanner of the enabled lexicons could not be built");
                Compiled {
                    scanner: None,
                    lexicons: Vec::new(),
                }
            }
        }
    }

    /// The flags of one report's text: one per lexicon with a hit, each open, at version 1,
    /// labelled `tlp`, its terms ordered by position with byte and character offsets in
    /// `text` itself.
    pub fn flags(
        &self,
        report_id: Uuid,
        tlp: Tlp,
        text: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Vec<SpeechFlag> {
        let Some(scanner) = &self.scanner else {
            return Vec::new();
        };
        let hits = scanner.scan(text);
        let mut by_lexicon: Vec<Vec<FlagTerm>> = vec![Vec::new(); self.lexicons.len()];
        let chars = CharOffsets::new(text);
        for h in &hits {
            let term = scanner.term(h);
            by_lexicon[h.lexicon].push(FlagTerm {
                term: term.term.clone(),
                language: term.language.clone(),
                category: h.category.as_str().to_string(),
                severity: h.severity as u8,
                start: h.start,
                end: h.end,
                char_start: chars.at(h.start),
                char_end: chars.at(h.end),
            });
        }
        by_lexicon
            .into_iter()
            .zip(&self.lexicons)
            .filter(|(terms, _)| !terms.is_empty())
            .map(|(mut terms, (name, version))| {
                terms.sort_by(|a, b| (a.start, a.end, &a.term).cmp(&(b.start, b.end, &b.term)));
                terms.dedup();
                SpeechFlag {
                    id: tocsin_domain::random_id(),
                    report_id: Some(report_id),
                    item_id: None,
                    tlp,
                    lexicon: name.clone(),
                    lexicon_version: *version,
                    terms,
                    created_at: at,
                    state: FlagState::Open,
                    review: None,
                    version: 1,
                }
            })
            .collect()
    }
}

/// Character offsets of byte offsets in one text.
struct CharOffsets<'t> {
    text: &'t str,
}

impl<'t> CharOffsets<'t> {
    fn new(text: &'t str) -> Self {
        CharOffsets { text }
    }

    fn at(&self, byte: usize) -> usize {
        let b = byte.min(self.text.len());
        // Hits end on character boundaries (an invariant of the normaliser's offset map).
        self.text.get(..b).map_or(0, |s| s.chars().count())
    }
}

/// The compiled scanners kept, newest last, by store token.
static CACHE: Mutex<Vec<(String, Arc<Compiled>)>> = Mutex::new(Vec::new());
/// One build at a time: concurrent reports after a change wait for it rather than each
/// building their own.
static BUILDING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// How many tokens (stores, or recent versions of one) are kept.
const KEPT: usize = 4;

fn cached(token: &str) -> Option<Arc<Compiled>> {
    let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .iter()
        .find(|(t, _)| t == token)
        .map(|(_, c)| c.clone())
}

/// The enabled lexicons of `store`, compiled: from the process's cache while the store's
/// token is unchanged, else built again (on a blocking thread) and kept.
pub async fn compiled<S: Store + ?Sized>(store: &S) -> Result<Arc<Compiled>> {
    let token = store.speech_token().await?;
    if let Some(c) = cached(&token) {
        return Ok(c);
    }
    let _one = BUILDING.lock().await;
    if let Some(c) = cached(&token) {
        return Ok(c);
    }
    let enabled = store.enabled_lexicons().await?;
    // Read again: a change between the two reads must not be kept under the old token.
    let still = store.speech_token().await? == token;
    let built = Arc::new(
        tokio::task::spawn_blocking(move || Compiled::build(enabled))
            .await
            .map_err(|e| AppError::Internal(format!("building the scanner failed: {e}")))?,
    );
    if still {
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|(t, _)| t != &token);
        cache.push((token, built.clone()));
        if cache.len() > KEPT {
            cache.remove(0);
        }
    }
    Ok(built)
}

/// The steps that store a new report's flags: add them to the report's own write so the
/// report and its flags land together or not at all. None when no enabled lexicon has a
/// term in its text.
pub async fn scan_steps<S: Store + ?Sized>(store: &S, report: &NewReport) -> Result<Vec<Step>> {
    let c = compiled(store).await?;
    Ok(c.flags(
        report.id,
        report.tlp,
        &report.text,
        tocsin_domain::time::now(),
    )
    .into_iter()
    .map(|f| Step::Speech(SpeechStep::CreateFlag(Box::new(f))))
    .collect())
}

/// One piece of a text: marked when it lies in a hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Piece<'t> {
    /// The original text of the piece.
    pub text: &'t str,
    /// Whether it is (part of) a hit.
    pub mark: bool,
}

/// `text` cut into pieces at the given byte ranges (overlapping or touching ranges merged),
/// the pieces in a range marked. A range off a character boundary or past the end is left
/// out, so the text is always shown whole and unchanged.
pub fn highlight(text: &str, ranges: impl IntoIterator<Item = (usize, usize)>) -> Vec<Piece<'_>> {
    let mut rs: Vec<(usize, usize)> = ranges
        .into_iter()
        .filter(|&(s, e)| {
            s < e && e <= text.len() && text.is_char_boundary(s) && text.is_char_boundary(e)
        })
        .collect();
    rs.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in rs {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let mut out = Vec::new();
    let mut at = 0;
    for (s, e) in merged {
        if s > at {
            out.push(Piece {
                text: &text[at..s],
                mark: false,
            });
        }
        out.push(Piece {
            text: &text[s..e],
            mark: true,
        });
        at = e;
    }
    if at < text.len() {
        out.push(Piece {
            text: &text[at..],
            mark: false,
        });
    }
    out
}

/// The term categories, as files, filters and the API spell them.
pub fn categories() -> Vec<&'static str> {
    tocsin_speech::Category::ALL
        .iter()
        .map(|c| c.as_str())
        .collect()
}

/// What a flag list is asked for, as a client wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagQuery {
    /// `open`, `confirmed` or `dismissed`.
    pub state: Option<String>,
    /// A lexicon's name.
    pub lexicon: Option<String>,
    /// A term category (`dehumanisation`, `threat`, `incitement`, `slur`, `coded term`).
    pub category: Option<String>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl FlagQuery {
    /// The store's filter, at `clearance`; an unknown state or category names its field.
    pub fn filter(self, clearance: Tlp) -> Result<FlagFilter> {
        let state = non_empty(self.state)
            .map(|s| FlagState::parse(&s))
            .transpose()?;
        let category = match non_empty(self.category) {
            Some(c) => Some(
                tocsin_speech::Category::parse(&c)
                    .ok_or_else(|| {
                        AppError::invalid(
                            "category",
                            "expected dehumanisation, threat, incitement, slur or coded term",
                        )
                    })?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        };
        let lexicon = non_empty(self.lexicon);
        if lexicon
            .as_ref()
            .is_some_and(|l| l.chars().count() > crate::speech::MAX_NAME)
        {
            return Err(AppError::invalid("lexicon", "no lexicon has this name"));
        }
        Ok(FlagFilter {
            max_tlp: clearance,
            state,
            lexicon,
            category,
        })
    }
}

impl App<'_> {
    /// One page of the flags `u` may see (readers of reports, at their clearance), newest
    /// first; the listing of restricted ones is audited.
    pub async fn list_flags(
        &self,
        u: &User,
        q: FlagQuery,
        page: PageRequest,
    ) -> Result<Page<SpeechFlag>> {
        require(u, Permission::ReportRead)?;
        let f = q.filter(u.clearance)?;
        let page = self.store.list_flags(&f, page).await?;
        reads::list(
            self.store,
            u,
            "speech_flag",
            page.items.iter().map(|x| (x.id, x.tlp)),
        )
        .await?;
        Ok(page)
    }

    /// One flag `u` may see; the read of a restricted one is audited.
    pub async fn get_flag(&self, u: &User, id: Uuid) -> Result<SpeechFlag> {
        require(u, Permission::ReportRead)?;
        let f = self.store.get_flag(id).await?;
        visible(u, f.tlp)?;
        reads::one(self.store, u, "speech_flag", f.id, f.tlp).await?;
        Ok(f)
    }

    /// The flags of these reports that `u` may see, by report (for the triage queue and a
    /// report's page, which audit the reports they show).
    pub async fn flags_of_reports(
        &self,
        u: &User,
        reports: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<SpeechFlag>>> {
        let mut out: HashMap<Uuid, Vec<SpeechFlag>> = HashMap::new();
        if !u.can(Permission::ReportRead) || reports.is_empty() {
            return Ok(out);
        }
        for f in self.store.flags_of_reports(reports).await? {
            if let (true, Some(r)) = (u.may_see(f.tlp), f.report_id) {
                out.entry(r).or_default().push(f);
            }
        }
        Ok(out)
    }

    /// Confirm or dismiss a flag (analysts), with an annotation along the Dangerous Speech
    /// Project's five elements and its hallmarks; a flag may be reviewed again (the latest
    /// review stands; each is in the audit trail, naming the elements written, never their
    /// text). The input's `expected_version`, when given, must be the flag's stored version.
    pub async fn review_flag(
        &self,
        u: &User,
        id: Uuid,
        input: FlagReviewInput,
    ) -> Result<SpeechFlag> {
        require(u, Permission::FlagReview)?;
        let f = self.store.get_flag(id).await?;
        visible(u, f.tlp)?;
        let expected_version = input.expected_version;
        let review = input.parse(&u.username, tocsin_domain::time::now())?;
        if let Some(v) = expected_version {
            if v != f.version {
                return Err(AppError::Conflict(
                    "the flag was reviewed meanwhile; reload it".into(),
                ));
            }
        }
        let audit = AuditEvent::new(
            &u.actor(),
            "speech_flag.review",
            "speech_flag",
            Some(f.id.to_string()),
        )
        .with_detail(json!({
            "decision": review.decision.as_str(),
            "was": f.state.as_str(),
            "hallmarks": review.hallmarks.iter().map(|h| h.as_str()).collect::<Vec<_>>(),
            "elements": review.element_names(),
            "lexicon": f.lexicon,
            "tlp": f.tlp.as_str(),
        }));
        let reviewed = f.reviewed(review);
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::Speech(SpeechStep::ReviewFlag(Box::new(
                        reviewed.clone(),
                    )))],
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(reviewed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_keeps_the_text_whole() {
        let t = "نحن والصراصير هنا";
        let s = t.find("والصراصير").unwrap();
        let e = s + "والصراصير".len();
        let p = highlight(t, [(s, e), (s + 2, e), (0, 1), (e, t.len() + 5)]);
        let whole: String = p.iter().map(|x| x.text).collect();
        assert_eq!(whole, t);
        assert_eq!(
            p.iter()
                .filter(|x| x.mark)
                .map(|x| x.text)
                .collect::<Vec<_>>(),
            ["والصراصير"]
        );
        // Touching and overlapping ranges merge.
        let p = highlight("abcdef", [(1, 3), (3, 4), (2, 3)]);
        assert_eq!(
            p,
            [
                Piece {
                    text: "a",
                    mark: false
                },
                Piece {
                    text: "bcd",
                    mark: true
                },
                Piece {
                    text: "ef",
                    mark: false
                }
            ]
        );
        assert!(highlight("", [(0, 0)]).is_empty());
    }
}
