//! Alert rules: admins create, edit, enable and disable them (`Permission::AlertConfigure`);
//! those who read alerts read the rules within their clearance. A rule that no desk answers
//! for (no explicit desk, no desk for its situation or country) is refused, naming the field.

use serde_json::{Map, Value};
use tocsin_domain::{
    AlertRule, Area, AuditEvent, Condition, Country, Desk, NewAlertRule, Permission, User,
};
use tocsin_store::{Op, Step};
use uuid::Uuid;

use crate::{may_label, reads, require, visible, App, AppError, Result};

/// The situation and country a rule's alerts concern, as far as its condition says.
pub fn scope_of(rule: &AlertRule) -> (Option<Uuid>, Option<Country>) {
    match &rule.condition {
        Condition::Incidents(t) => match &t.area {
            Area::Country { country, .. } => (None, Some(country.clone())),
            Area::Situation { situation } => (Some(*situation), None),
            Area::Radius { .. } => (None, None),
        },
        Condition::Signal(c) => (None, c.country.clone()),
        Condition::Assessment(c) => (c.situation, None),
        Condition::Forecast(c) => (None, c.country.clone()),
        Condition::Report(c) => (None, c.country.clone()),
    }
}

/// The desk an alert goes to: `explicit` if given (it must exist; else `Invalid` naming
/// `desk`), else the first desk (by name) answering for `situation`, else for `country`.
/// `None` when no desk answers.
pub async fn route(
    app: &App<'_>,
    explicit: Option<Uuid>,
    situation: Option<Uuid>,
    country: Option<&Country>,
) -> Result<Option<Desk>> {
    if let Some(id) = explicit {
        return match app.store.get_desk(id).await {
            Ok(d) => Ok(Some(d)),
            Err(tocsin_store::StoreError::NotFound) => {
                Err(AppError::invalid("desk", format!("{id} is not a desk")))
            }
            Err(e) => Err(e.into()),
        };
    }
    let desks = app.store.list_desks().await?;
    if let Some(s) = situation {
        if let Some(d) = desks.iter().find(|d| d.situations.contains(&s)) {
            return Ok(Some(d.clone()));
        }
    }
    if let Some(c) = country {
        if let Some(d) = desks.iter().find(|d| d.countries.contains(c)) {
            return Ok(Some(d.clone()));
        }
    }
    Ok(None)
}

/// The field to name when no desk answers: the rule's situation or country, else `desk`.
fn unrouted(situation: Option<Uuid>, country: Option<&Country>) -> AppError {
    match (situation, country) {
        (Some(s), _) => AppError::invalid(
            "situation",
            format!("no desk answers for situation {s}; name a desk or add it to one"),
        ),
        (None, Some(c)) => AppError::invalid(
            "country",
            format!(
                "no desk answers for {}; name a desk or add the country to one",
                c.code()
            ),
        ),
        (None, None) => AppError::invalid(
            "desk",
            "this rule names no situation or country a desk answers for: name a desk",
        ),
    }
}

async fn check_routed(app: &App<'_>, rule: &AlertRule) -> Result<()> {
    let (situation, country) = scope_of(rule);
    match route(app, rule.desk, situation, country.as_ref()).await? {
        Some(_) => Ok(()),
        None => Err(unrouted(situation, country.as_ref())),
    }
}

fn name_taken(e: AppError) -> AppError {
    match e {
        AppError::Conflict(m) if m.contains("UNIQUE") || m.contains("unique") => {
            AppError::Conflict("name: a rule of that name exists".into())
        }
        e => e,
    }
}

/// The rule as its flat JSON (`{name, severity, ack_within, enabled, desk?, tlp, kind, …}`)
/// without id and version, to merge a change into.
fn flat(rule: &AlertRule) -> Result<Map<String, Value>> {
    let Value::Object(mut m) =
        serde_json::to_value(rule).map_err(|e| AppError::Internal(e.to_string()))?
    else {
        return Err(AppError::Internal("a rule is not a JSON object".into()));
    };
    m.remove("id");
    m.remove("version");
    Ok(m)
}

impl App<'_> {
    /// Create a rule (admins). Fields are checked by the domain; the rule's label may not be
    /// above the admin's clearance; some desk must answer for it.
    pub async fn create_rule(&self, u: &User, n: NewAlertRule) -> Result<AlertRule> {
        require(u, Permission::AlertConfigure)?;
        let rule = AlertRule::parse(n)?;
        may_label(u, rule.tlp)?;
        check_routed(self, &rule).await?;
        let audit = AuditEvent::new(
            &u.actor(),
            "rule.create",
            "alert_rule",
            Some(rule.id.to_string()),
        )
        .with_detail(serde_json::json!({"name": rule.name, "kind": rule.condition.kind()}));
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::CreateRule(Box::new(rule.clone()))],
                    audit: Box::new(audit),
                },
            )
            .await
            .map_err(|e| name_taken(e.into()))?;
        Ok(rule)
    }

    /// Change a rule (admins): `patch` is a JSON object of the rule's fields to replace
    /// (`null` removes an optional one), with an optional `version` that must be the stored
    /// one (else `Conflict`). The result is checked as a new rule.
    pub async fn update_rule(
        &self,
        u: &User,
        id: Uuid,
        patch: Map<String, Value>,
    ) -> Result<AlertRule> {
        require(u, Permission::AlertConfigure)?;
        let old = self.store.get_rule(id).await?;
        visible(u, old.tlp)?;
        let mut patch = patch;
        let expected = match patch.remove("version") {
            None | Some(Value::Null) => old.version,
            Some(v) => v
                .as_i64()
                .ok_or_else(|| AppError::bad_field("version", "must be an integer"))?,
        };
        if expected != old.version {
            return Err(AppError::Conflict(
                "version: the rule was changed meanwhile; read it again".into(),
            ));
        }
        if patch.contains_key("id") {
            return Err(AppError::bad_field("id", "a rule's id does not change"));
        }
        let mut m = flat(&old)?;
        for (k, v) in patch {
            if v.is_null() {
                m.remove(&k);
            } else {
                m.insert(k, v);
            }
        }
        let n: NewAlertRule = serde_json::from_value(Value::Object(m)).map_err(|e| {
            let msg = e.to_string();
            let field = msg
                .split('`')
                .nth(1)
                .filter(|_| msg.starts_with("unknown field") || msg.starts_with("missing field"))
                .unwrap_or("body")
                .to_string();
            AppError::bad_field(field, msg)
        })?;
        let mut rule = AlertRule::parse(n)?;
        rule.id = id;
        rule.version = old.version + 1;
        may_label(u, rule.tlp)?;
        check_routed(self, &rule).await?;
        let action = if old.enabled && !rule.enabled {
            "rule.disable"
        } else {
            "rule.update"
        };
        let audit = AuditEvent::new(&u.actor(), action, "alert_rule", Some(id.to_string()))
            .with_detail(serde_json::json!({"name": rule.name, "version": rule.version}));
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::UpdateRule {
                        rule: Box::new(rule.clone()),
                        expected_version: old.version,
                    }],
                    audit: Box::new(audit),
                },
            )
            .await
            .map_err(|e| name_taken(e.into()))?;
        Ok(rule)
    }

    /// Disable (or enable) a rule (admins).
    pub async fn set_rule_enabled(&self, u: &User, id: Uuid, enabled: bool) -> Result<AlertRule> {
        let mut m = Map::new();
        m.insert("enabled".into(), Value::Bool(enabled));
        self.update_rule(u, id, m).await
    }

    /// One rule within the reader's clearance.
    pub async fn rule(&self, u: &User, id: Uuid) -> Result<AlertRule> {
        require(u, Permission::AlertRead)?;
        let r = self.store.get_rule(id).await?;
        visible(u, r.tlp)?;
        reads::one(self.store, u, "rule", r.id, r.tlp).await?;
        Ok(r)
    }

    /// The rules within the reader's clearance, by name (only enabled ones when asked).
    pub async fn rules(&self, u: &User, enabled_only: bool) -> Result<Vec<AlertRule>> {
        require(u, Permission::AlertRead)?;
        let mut v = self.store.list_rules(enabled_only).await?;
        v.retain(|r| u.may_see(r.tlp));
        reads::list(self.store, u, "rule", v.iter().map(|r| (r.id, r.tlp))).await?;
        Ok(v)
    }
}
