//! Web pages of dangerous-speech lexicons, for admins and analysts
//! ([`Permission::LexiconManage`]): the list `/speech/lexicons` (version, terms, languages,
//! enabled, the current version's latest precision and recall with their intervals and sample
//! size) with the import form (a CSV file; a refused file keeps the form and names the line
//! and column); a lexicon's page (its terms a page at a time, its evaluations, the form
//! measuring it on a labelled sample, enable and disable, adding a term, the term history);
//! and a term's edit page (change or remove it). Each edit of a term makes the lexicon's next
//! version, disabled until evaluated. Plain forms with CSRF tokens; no script. The rules are
//! the application layer's ([`tocsin_app::speech`], [`tocsin_app::lexicon_terms`]).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tocsin_app::lexicon_terms::{categories, severities, NewTerm, TermKey, TermPatch};
use tocsin_app::speech::LexiconImport;
use tocsin_store::{Figures, LexiconEvaluation};

use super::{page, CsrfForm, WebError, WebResult, WebUser};
use crate::auth::same;
use crate::error::ApiError;
use crate::files::read_multipart;
use crate::input::parse_query;
use crate::AppState;

/// Terms shown on one page of a lexicon.
pub const TERMS_PER_PAGE: usize = 50;

/// The largest lexicon or sample file the pages take (larger ones: `tocsin lexicon import`).
pub const MAX_UPLOAD: usize = 32 * 1024 * 1024;

/// `/speech/lexicons` and the pages under it.
pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    let upload = axum::extract::DefaultBodyLimit::max(MAX_UPLOAD);
    Router::new()
        .route("/speech/lexicons", get(list).post(import).layer(upload))
        .route("/speech/lexicons/{name}", get(lexicon))
        .route(
            "/speech/lexicons/{name}/evaluations",
            post(evaluate).layer(upload),
        )
        .route("/speech/lexicons/{name}/enable", post(enable))
        .route("/speech/lexicons/{name}/disable", post(disable))
        .route("/speech/lexicons/{name}/terms", post(add_term))
        .route(
            "/speech/lexicons/{name}/term",
            get(term_page).post(change_term),
        )
        .route("/speech/lexicons/{name}/term/remove", post(remove_term))
}

/// A refusal shown on the page (client errors other than 404), its field named as the forms
/// label it; others are error pages.
fn on_form(wu: &WebUser, e: impl Into<ApiError>) -> Result<(StatusCode, String), WebError> {
    let e = e.into();
    if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND {
        let label = |f: &str| {
            let key = match f {
                "file" => "lexicons.file",
                "sample" => "lexicons.sample_file",
                "name" => "lexicons.name",
                "term" => "lexicons.term",
                "language" => "lexicons.language",
                "country" => "lexicons.country",
                "category" => "lexicons.category",
                "severity" => "lexicons.severity",
                "meaning_hateful" => "lexicons.meaning_hateful",
                "meaning_other" => "lexicons.meaning_other",
                "variants" => "lexicons.variants",
                "transliterations" => "lexicons.transliterations",
                "alternative" => "lexicons.alternative",
                "prefixes" => "lexicons.prefixes",
                "suffixes" => "lexicons.suffixes",
                "near" => "lexicons.near",
                "within" => "lexicons.within",
                "provenance" => "lexicons.provenance",
                "licence" => "lexicons.licence",
                _ => return None,
            };
            Some(wu.t(key, &[]))
        };
        Ok((e.status, super::refusal::human(wu.lang, &e, label)))
    } else {
        Err(e.into())
    }
}

/// A share as a percentage with one decimal.
fn pct(v: f64) -> String {
    format!("{:.1}", v * 100.0)
}

/// One measure (precision or recall) with its interval, in the reader's words; "no figure"
/// when the sample gives none.
fn measure(wu: &WebUser, v: Option<f64>, i: Option<[f64; 2]>) -> String {
    match (v, i) {
        (Some(v), Some([lo, hi])) => wu.t(
            "lexicons.measure",
            &[("value", pct(v)), ("low", pct(lo)), ("high", pct(hi))],
        ),
        (Some(v), None) => wu.t("lexicons.measure_bare", &[("value", pct(v))]),
        _ => wu.t("lexicons.no_figure", &[]),
    }
}

fn figures(wu: &WebUser, f: &Figures) -> minijinja::Value {
    let n = f.true_positives + f.false_positives + f.false_negatives + f.true_negatives;
    context! {
        precision => measure(wu, f.precision, f.precision_interval),
        recall => measure(wu, f.recall, f.recall_interval),
        n, tp => f.true_positives, fp => f.false_positives,
        fn_ => f.false_negatives, tn => f.true_negatives,
    }
}

fn evaluation(wu: &WebUser, e: &LexiconEvaluation) -> minijinja::Value {
    let langs: Vec<_> = e
        .by_language
        .iter()
        .map(|(l, f)| context! { language => l.clone(), f => figures(wu, f) })
        .collect();
    context! {
        version => e.lexicon_version, sample => e.sample.clone(), by => e.by.clone(), at => e.at,
        overall => figures(wu, &e.overall), langs,
    }
}

/// The import form as typed.
#[derive(Debug, Default, Serialize)]
struct ImportForm {
    name: String,
    provenance: String,
    licence: String,
}

fn list_page(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    items: Vec<minijinja::Value>,
    form: &ImportForm,
    error: Option<String>,
    invalid_field: Option<&str>,
) -> Response {
    page(
        st,
        wu,
        status,
        "lexicons.html",
        context! { items, form, error, invalid_field },
    )
}

async fn list_items(st: &AppState, wu: &WebUser) -> WebResult<Vec<minijinja::Value>> {
    let all = st.app().list_lexicons((&wu.user).into()).await?;
    Ok(all
        .iter()
        .map(|s| {
            let l = &s.lexicon;
            context! {
                name => l.name.clone(), url => lexicon_url(&l.name), version => l.version,
                terms => l.terms,
                languages => l.languages.join(", "), enabled => l.enabled,
                evaluation => s.evaluation.as_ref().map(|e| evaluation(wu, e)),
            }
        })
        .collect())
}

/// `GET /speech/lexicons`: every lexicon and the import form.
pub async fn list(State(st): State<AppState>, wu: WebUser) -> WebResult {
    let items = list_items(&st, &wu).await?;
    Ok(list_page(
        &st,
        &wu,
        StatusCode::OK,
        items,
        &ImportForm::default(),
        None,
        None,
    ))
}

/// The CSRF-checked multipart body of an upload form.
async fn upload_body(
    wu: &WebUser,
    headers: &HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> WebResult<crate::files::Multipart> {
    let body = body.map_err(|e| {
        WebError::new(
            e.status(),
            "Invalid request",
            wu.t(
                "lexicons.too_large",
                &[("size", (MAX_UPLOAD / 1024 / 1024).to_string())],
            ),
        )
    })?;
    let mp = read_multipart(headers, body).await?;
    if !mp
        .field("csrf")
        .is_some_and(|c| same(c, &wu.session.csrf_token))
    {
        return Err(WebError::csrf());
    }
    Ok(mp)
}

/// The list again with the import form as typed and why it was refused.
async fn import_refused(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    form: &ImportForm,
    error: String,
    field: &str,
) -> WebResult {
    let items = list_items(st, wu).await?;
    Ok(list_page(
        st,
        wu,
        status,
        items,
        form,
        Some(error),
        Some(field),
    ))
}

/// `POST /speech/lexicons`: import a lexicon from the uploaded CSV file (multipart: `name`,
/// `provenance`, `licence`, `file`, `csrf`); a new name is version 1, a known one its next
/// version, disabled until evaluated. A refused file keeps the form, naming the line and the
/// column; nothing is stored then.
pub async fn import(
    State(st): State<AppState>,
    wu: WebUser,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> WebResult {
    let mp = upload_body(&wu, &headers, body).await?;
    let form = ImportForm {
        name: mp.field("name").unwrap_or("").trim().to_string(),
        provenance: mp.field("provenance").unwrap_or("").to_string(),
        licence: mp.field("licence").unwrap_or("").to_string(),
    };
    let Some(file) = mp.files.first() else {
        let error = wu.t("lexicons.no_file", &[]);
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return import_refused(&st, &wu, status, &form, error, "file").await;
    };
    let what = LexiconImport {
        name: form.name.clone(),
        file_name: None,
        provenance: Some(form.provenance.clone()),
        licence: Some(form.licence.clone()),
    };
    match st
        .app()
        .import_lexicon((&wu.user).into(), what, &file[..])
        .await
    {
        Ok(l) => Ok(Redirect::to(&lexicon_url(&l.name)).into_response()),
        Err(e) => {
            let field = e.field().unwrap_or("file").to_string();
            let (status, error) = on_form(&wu, e)?;
            import_refused(&st, &wu, status, &form, error, &field).await
        }
    }
}

/// The address of a lexicon's page.
fn lexicon_url(name: &str) -> String {
    format!("/speech/lexicons/{}", urlencoding(name))
}

/// `s` percent-encoded for a path segment or a query value.
fn urlencoding(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query of a lexicon's page.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexiconQuery {
    /// Position of the first term shown.
    offset: Option<u64>,
}

/// The add-term form as typed.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct AddForm {
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    term: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    meaning_hateful: String,
    #[serde(default)]
    meaning_other: String,
    #[serde(default)]
    ambiguous: Option<String>,
    #[serde(default)]
    variants: String,
    #[serde(default)]
    transliterations: String,
    #[serde(default)]
    alternative: String,
    #[serde(default)]
    prefixes: String,
    #[serde(default)]
    suffixes: String,
    #[serde(default)]
    near: String,
    #[serde(default)]
    within: String,
}

/// The proximity typed: empty is none; anything but a number is refused on the field.
fn within_words(s: &str) -> Result<Option<u32>, tocsin_app::AppError> {
    match s.trim() {
        "" => Ok(None),
        w => w.parse().map(Some).map_err(|_| {
            tocsin_app::AppError::invalid(
                "within",
                format!("{w:?}: expected a number of words, 1 to 50"),
            )
        }),
    }
}

/// A list typed one entry per line (or separated by `|`).
fn lines(s: &str) -> Vec<String> {
    s.split(['\n', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// What a lexicon's page shows besides a refusal.
struct Shown<'a> {
    offset: u64,
    add: &'a AddForm,
    error: Option<String>,
    invalid_field: Option<String>,
}

async fn lexicon_page(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    name: &str,
    shown: Shown<'_>,
) -> WebResult {
    let by = || tocsin_app::Acting::from(&wu.user);
    let (l, evs) = st.app().lexicon_detail(by(), name).await?;
    let terms = st
        .app()
        .lexicon_terms(by(), name, shown.offset, TERMS_PER_PAGE)
        .await?;
    let history = st.app().lexicon_term_history(by(), name).await?;
    let evaluated = evs.iter().any(|e| e.lexicon_version == l.version);
    let url = lexicon_url(&l.name);
    let prev = (shown.offset > 0).then(|| {
        format!(
            "{url}?offset={}",
            shown.offset.saturating_sub(TERMS_PER_PAGE as u64)
        )
    });
    let next_offset = shown.offset + terms.items.len() as u64;
    let next = (next_offset < terms.total).then(|| format!("{url}?offset={next_offset}"));
    let items: Vec<_> = terms
        .items
        .iter()
        .map(|t| {
            let q = serde_urlencoded::to_string([
                ("term", t.term.as_str()),
                ("language", t.language.as_str()),
                ("country", t.country.as_deref().unwrap_or("")),
            ])
            .unwrap_or_default();
            context! {
                t => t, variants => t.variants.join(", "),
                edit => format!("{url}/term?{q}"),
            }
        })
        .collect();
    let history: Vec<_> = history
        .iter()
        .map(|h| {
            context! {
                h => h, action => h.action.as_str(),
            }
        })
        .collect();
    let mut add = shown.add.clone();
    if add.category.is_empty() {
        add.category = categories()[0].into();
    }
    if add.severity.is_empty() {
        add.severity = severities()[1].into();
    }
    Ok(page(
        st,
        wu,
        status,
        "lexicon.html",
        context! {
            l => l, url, evaluated,
            evaluations => evs.iter().map(|e| evaluation(wu, e)).collect::<Vec<_>>(),
            terms => items, total => terms.total,
            first => if terms.items.is_empty() { 0 } else { shown.offset + 1 },
            last => next_offset, prev, next,
            history, form => add, categories => categories(), severities => severities(),
            error => shown.error, invalid_field => shown.invalid_field,
        },
    ))
}

/// `GET /speech/lexicons/{name}`: a lexicon, its evaluations, its terms
/// ([`TERMS_PER_PAGE`] from `?offset=`) and their history, with the forms acting on it.
pub async fn lexicon(
    State(st): State<AppState>,
    wu: WebUser,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> WebResult {
    let q: LexiconQuery = parse_query(q.as_deref())?;
    let shown = Shown {
        offset: q.offset.unwrap_or(0),
        add: &AddForm::default(),
        error: None,
        invalid_field: None,
    };
    lexicon_page(&st, &wu, StatusCode::OK, &name, shown).await
}

/// The lexicon's page again with a refusal (the add-term form as typed).
async fn refused_on_lexicon(
    st: &AppState,
    wu: &WebUser,
    name: &str,
    add: &AddForm,
    e: impl Into<ApiError>,
) -> WebResult {
    let e: ApiError = e.into();
    let field = e.field.clone();
    let (status, error) = on_form(wu, e)?;
    let shown = Shown {
        offset: 0,
        add,
        error: Some(error),
        invalid_field: field,
    };
    lexicon_page(st, wu, status, name, shown).await
}

/// `POST /speech/lexicons/{name}/evaluations`: measure the current version on an uploaded
/// labelled sample (multipart: `sample` name, `file`, `csrf`); the evaluation is stored and
/// shown first on the lexicon's page.
pub async fn evaluate(
    State(st): State<AppState>,
    wu: WebUser,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> WebResult {
    let mp = upload_body(&wu, &headers, body).await?;
    let Some(file) = mp.files.first() else {
        let e = ApiError::field("sample", wu.t("lexicons.no_file", &[]));
        return refused_on_lexicon(&st, &wu, &name, &AddForm::default(), e).await;
    };
    let sample = mp.field("sample").unwrap_or("").trim();
    let sample = if sample.is_empty() { "sample" } else { sample };
    match st
        .app()
        .evaluate_lexicon((&wu.user).into(), &name, sample, &file[..])
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{}#evaluations", lexicon_url(&name))).into_response()),
        Err(e) => refused_on_lexicon(&st, &wu, &name, &AddForm::default(), e).await,
    }
}

/// A form with no field but the CSRF token.
#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

async fn set_enabled(st: AppState, wu: WebUser, name: String, on: bool) -> WebResult {
    match st
        .app()
        .set_lexicon_enabled((&wu.user).into(), &name, on)
        .await
    {
        Ok(_) => Ok(Redirect::to(&lexicon_url(&name)).into_response()),
        Err(tocsin_app::AppError::Conflict(_)) if on => {
            let e = ApiError::new(StatusCode::CONFLICT, wu.t("lexicons.enable_refused", &[]));
            refused_on_lexicon(&st, &wu, &name, &AddForm::default(), e).await
        }
        Err(e) => refused_on_lexicon(&st, &wu, &name, &AddForm::default(), e).await,
    }
}

/// `POST /speech/lexicons/{name}/enable`: refused (409, said on the page) while the current
/// version has no evaluation.
pub async fn enable(
    State(st): State<AppState>,
    wu: WebUser,
    Path(name): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult {
    set_enabled(st, wu, name, true).await
}

/// `POST /speech/lexicons/{name}/disable`
pub async fn disable(
    State(st): State<AppState>,
    wu: WebUser,
    Path(name): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult {
    set_enabled(st, wu, name, false).await
}

/// `POST /speech/lexicons/{name}/terms`: add a term (the lexicon's next version, disabled
/// until evaluated); a refusal keeps the form as typed.
pub async fn add_term(
    State(st): State<AppState>,
    wu: WebUser,
    Path(name): Path<String>,
    CsrfForm(f): CsrfForm<AddForm>,
) -> WebResult {
    let within = match within_words(&f.within) {
        Ok(w) => w,
        Err(e) => return refused_on_lexicon(&st, &wu, &name, &f, e).await,
    };
    let new = NewTerm {
        version: f.version,
        term: f.term.clone(),
        language: f.language.clone(),
        country: opt(&f.country),
        category: f.category.clone(),
        severity: f.severity.clone(),
        meaning_hateful: opt(&f.meaning_hateful),
        meaning_other: opt(&f.meaning_other),
        ambiguous: f.ambiguous.is_some(),
        variants: lines(&f.variants),
        transliterations: lines(&f.transliterations),
        alternative: opt(&f.alternative),
        prefixes: lines(&f.prefixes),
        suffixes: lines(&f.suffixes),
        near: lines(&f.near),
        within,
    };
    match st
        .app()
        .add_lexicon_term((&wu.user).into(), &name, new)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{}#history", lexicon_url(&name))).into_response()),
        Err(e) => refused_on_lexicon(&st, &wu, &name, &f, e).await,
    }
}

/// Which term a term page is about.
#[derive(Debug, Default, Deserialize)]
pub struct KeyQuery {
    #[serde(default)]
    term: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    country: String,
}

impl KeyQuery {
    fn key(&self) -> TermKey {
        TermKey {
            term: self.term.clone(),
            language: self.language.clone(),
            country: opt(&self.country),
        }
    }
}

/// How a term form is shown: its status, and for a refusal the message and the field named.
struct TermShown {
    status: StatusCode,
    error: Option<String>,
    invalid_field: Option<String>,
}

async fn term_form(
    st: &AppState,
    wu: &WebUser,
    name: &str,
    key: &TermKey,
    typed: Option<&AddForm>,
    shown: TermShown,
) -> WebResult {
    let TermShown {
        status,
        error,
        invalid_field,
    } = shown;
    let (l, t) = st.app().lexicon_term((&wu.user).into(), name, key).await?;
    let form = match typed {
        Some(f) => f.clone(),
        None => AddForm {
            version: Some(l.version),
            term: t.term.clone(),
            language: t.language.clone(),
            country: t.country.clone().unwrap_or_default(),
            category: t.category.clone(),
            severity: t.severity.clone(),
            meaning_hateful: t.meaning_hateful.clone().unwrap_or_default(),
            meaning_other: t.meaning_other.clone().unwrap_or_default(),
            ambiguous: t.ambiguous.then(|| "yes".to_string()),
            variants: t.variants.join("\n"),
            transliterations: t.transliterations.join("\n"),
            alternative: t.alternative.clone().unwrap_or_default(),
            prefixes: t.prefixes.join("\n"),
            suffixes: t.suffixes.join("\n"),
            near: t.near.join("\n"),
            within: t.within.to_string(),
        },
    };
    Ok(page(
        st,
        wu,
        status,
        "lexicon_term.html",
        context! {
            l => l, url => lexicon_url(&l.name), form, term => t,
            categories => categories(), severities => severities(),
            error, invalid_field,
        },
    ))
}

/// `GET /speech/lexicons/{name}/term?term=…&language=…&country=…`: the form changing or
/// removing a term.
pub async fn term_page(
    State(st): State<AppState>,
    wu: WebUser,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> WebResult {
    let q: KeyQuery = parse_query(q.as_deref())?;
    let shown = TermShown {
        status: StatusCode::OK,
        error: None,
        invalid_field: None,
    };
    term_form(&st, &wu, &name, &q.key(), None, shown).await
}

/// `POST /speech/lexicons/{name}/term`: change the term (the lexicon's next version,
/// disabled until evaluated); a refusal keeps the form as typed.
pub async fn change_term(
    State(st): State<AppState>,
    wu: WebUser,
    Path(name): Path<String>,
    CsrfForm(f): CsrfForm<AddForm>,
) -> WebResult {
    let key = TermKey {
        term: f.term.clone(),
        language: f.language.clone(),
        country: opt(&f.country),
    };
    let result = match within_words(&f.within) {
        Ok(within) => {
            let patch = TermPatch {
                version: f.version,
                category: Some(f.category.clone()),
                severity: Some(f.severity.clone()),
                meaning_hateful: Some(f.meaning_hateful.clone()),
                meaning_other: Some(f.meaning_other.clone()),
                ambiguous: Some(f.ambiguous.is_some()),
                variants: Some(lines(&f.variants)),
                transliterations: Some(lines(&f.transliterations)),
                alternative: Some(f.alternative.clone()),
                prefixes: Some(lines(&f.prefixes)),
                suffixes: Some(lines(&f.suffixes)),
                near: Some(lines(&f.near)),
                within,
            };
            st.app()
                .change_lexicon_term((&wu.user).into(), &name, &key, patch)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("{}#history", lexicon_url(&name))).into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            let field = e.field.clone();
            let (status, error) = on_form(&wu, e)?;
            let shown = TermShown {
                status,
                error: Some(error),
                invalid_field: field,
            };
            term_form(&st, &wu, &name, &key, Some(&f), shown).await
        }
    }
}

/// The remove form: which term, and the version seen.
#[derive(Debug, Default, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    term: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    country: String,
}

/// `POST /speech/lexicons/{name}/term/remove`: remove the term (the lexicon's next version,
/// disabled until evaluated).
pub async fn remove_term(
    State(st): State<AppState>,
    wu: WebUser,
    Path(name): Path<String>,
    CsrfForm(f): CsrfForm<RemoveForm>,
) -> WebResult {
    let key = TermKey {
        term: f.term.clone(),
        language: f.language.clone(),
        country: opt(&f.country),
    };
    match st
        .app()
        .remove_lexicon_term((&wu.user).into(), &name, &key, f.version)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{}#history", lexicon_url(&name))).into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            let field = e.field.clone();
            let (status, error) = on_form(&wu, e)?;
            let shown = TermShown {
                status,
                error: Some(error),
                invalid_field: field,
            };
            term_form(&st, &wu, &name, &key, None, shown).await
        }
    }
}
