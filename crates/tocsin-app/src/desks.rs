//! Desks and their escalation policies and duty rotas: admins create and edit them
//! (`Permission::AlertConfigure`), everyone who reads alerts reads them. Saving a desk
//! refuses a policy step that reaches nobody, naming it.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;
use tocsin_domain::{
    AuditEvent, Desk, EscalationStep, NewDesk, Permission, Shift, Target, UnreachableStep, User,
};
use tocsin_store::{Op, Step};
use uuid::Uuid;

use crate::{notify, require, App, AppError, Result};

/// A change to a desk: every field optional; those given replace the desk's.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeskPatch {
    /// Name.
    pub name: Option<String>,
    /// Department name.
    pub department: Option<String>,
    /// Usernames.
    pub members: Option<Vec<String>>,
    /// ISO alpha-3 codes.
    pub countries: Option<Vec<String>>,
    /// Situation ids.
    pub situations: Option<Vec<Uuid>>,
    /// Policy steps.
    pub escalation: Option<Vec<EscalationStep>>,
    /// Repeats of the steps.
    pub repeat: Option<u8>,
    /// Duty rota.
    pub rota: Option<Vec<Shift>>,
}

/// The users a policy target reaches at `at` (existing, not disabled; the desk's members,
/// the user, or whoever is on duty), without regard to channels.
pub(crate) async fn recipients(
    app: &App<'_>,
    target: &Target,
    at: DateTime<Utc>,
) -> Result<Vec<User>> {
    let names: Vec<String> = match target {
        Target::User(name) => vec![name.clone()],
        Target::Desk(id) => match app.store.get_desk(*id).await {
            Ok(d) => d.members,
            Err(tocsin_store::StoreError::NotFound) => vec![],
            Err(e) => return Err(e.into()),
        },
        Target::OnDuty(id) => match app.store.get_desk(*id).await {
            Ok(d) => d.on_duty(at).into_iter().map(str::to_string).collect(),
            Err(tocsin_store::StoreError::NotFound) => vec![],
            Err(e) => return Err(e.into()),
        },
    };
    users_named(app, &names).await
}

/// The existing, enabled users among `names`.
pub(crate) async fn users_named(app: &App<'_>, names: &[String]) -> Result<Vec<User>> {
    let mut out = Vec::new();
    for n in names {
        match app.store.get_user_by_name(n).await {
            Ok(u) if !u.disabled => out.push(u),
            Ok(_) | Err(tocsin_store::StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

async fn any_reached(app: &App<'_>, names: &[&str]) -> Result<bool> {
    for n in names {
        match app.store.get_user_by_name(n).await {
            Ok(u) if notify::reaches(app, &u).await => return Ok(true),
            Ok(_) | Err(tocsin_store::StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

/// The steps of `desk`'s policy that reach nobody at `now`: a desk with no member reached
/// (or no such desk), a user who does not exist, is disabled or has no working channel, an
/// on-duty target whose rota has no shift from now on with someone reached. `desk` itself
/// is taken as given (it may not be stored yet).
pub async fn unreachable_steps(
    app: &App<'_>,
    desk: &Desk,
    now: DateTime<Utc>,
) -> Result<Vec<UnreachableStep>> {
    let mut reached: HashMap<Target, bool> = HashMap::new();
    for step in desk.escalation.steps() {
        let t = &step.notify;
        if reached.contains_key(t) {
            continue;
        }
        let load = |id: Uuid| async move {
            if id == desk.id {
                return Ok::<_, AppError>(Some(desk.clone()));
            }
            match app.store.get_desk(id).await {
                Ok(d) => Ok(Some(d)),
                Err(tocsin_store::StoreError::NotFound) => Ok(None),
                Err(e) => Err(e.into()),
            }
        };
        let ok = match t {
            Target::User(name) => any_reached(app, &[name.as_str()]).await?,
            Target::Desk(id) => match load(*id).await? {
                Some(d) => {
                    let names: Vec<&str> = d.members.iter().map(String::as_str).collect();
                    any_reached(app, &names).await?
                }
                None => false,
            },
            Target::OnDuty(id) => match load(*id).await? {
                Some(d) => {
                    let names: Vec<&str> = d
                        .rota
                        .iter()
                        .filter(|s| s.until > now)
                        .map(|s| s.user.as_str())
                        .collect();
                    any_reached(app, &names).await?
                }
                None => false,
            },
        };
        reached.insert(t.clone(), ok);
    }
    Ok(desk
        .escalation
        .unreachable_steps(|t| reached.get(t).copied().unwrap_or(false)))
}

/// Refuse a desk whose policy has a step that reaches nobody, naming the steps.
async fn refuse_unreachable(app: &App<'_>, desk: &Desk, now: DateTime<Utc>) -> Result<()> {
    let bad = unreachable_steps(app, desk, now).await?;
    if bad.is_empty() {
        return Ok(());
    }
    let first = bad[0].index;
    let text: Vec<String> = bad.iter().map(ToString::to_string).collect();
    Err(AppError::invalid(
        format!("escalation[{first}].notify"),
        text.join("; "),
    ))
}

/// Refuse members who are not users, and situations that do not exist.
async fn check_references(app: &App<'_>, desk: &Desk) -> Result<()> {
    for m in &desk.members {
        match app.store.get_user_by_name(m).await {
            Ok(_) => {}
            Err(tocsin_store::StoreError::NotFound) => {
                return Err(AppError::invalid("members", format!("{m:?} is not a user")))
            }
            Err(e) => return Err(e.into()),
        }
    }
    for s in &desk.situations {
        match app.store.get_situation(*s).await {
            Ok(_) => {}
            Err(tocsin_store::StoreError::NotFound) => {
                return Err(AppError::invalid(
                    "situations",
                    format!("{s} is not a situation"),
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn name_taken(e: AppError) -> AppError {
    match e {
        AppError::Conflict(_) => AppError::Conflict("name: a desk of that name exists".into()),
        e => e,
    }
}

impl App<'_> {
    /// Create a desk (admins). Refused naming the field when a value is invalid, a member is
    /// not a user, or a policy step reaches nobody.
    pub async fn create_desk(&self, u: &User, n: NewDesk, now: DateTime<Utc>) -> Result<Desk> {
        require(u, Permission::AlertConfigure)?;
        let desk = Desk::parse(n, &self.alerting.departments)?;
        check_references(self, &desk).await?;
        refuse_unreachable(self, &desk, now).await?;
        let audit = AuditEvent::new(&u.actor(), "desk.create", "desk", Some(desk.id.to_string()))
            .with_detail(serde_json::json!({"name": desk.name}));
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::CreateDesk(Box::new(desk.clone()))],
                    audit: Box::new(audit),
                },
            )
            .await
            .map_err(|e| name_taken(e.into()))?;
        Ok(desk)
    }

    /// Change a desk (admins): the fields given replace the desk's, and the whole is checked
    /// as on creation.
    pub async fn update_desk(
        &self,
        u: &User,
        id: Uuid,
        p: DeskPatch,
        now: DateTime<Utc>,
    ) -> Result<Desk> {
        require(u, Permission::AlertConfigure)?;
        let old = self.store.get_desk(id).await?;
        let n = NewDesk {
            name: p.name.unwrap_or(old.name),
            department: p
                .department
                .unwrap_or_else(|| old.department.name().to_string()),
            members: p.members.unwrap_or(old.members),
            countries: p
                .countries
                .unwrap_or_else(|| old.countries.iter().map(|c| c.code().to_string()).collect()),
            situations: p.situations.unwrap_or(old.situations),
            escalation: p
                .escalation
                .unwrap_or_else(|| old.escalation.steps().to_vec()),
            repeat: p.repeat.unwrap_or(old.escalation.repeat()),
            rota: p.rota.unwrap_or(old.rota),
        };
        let mut desk = Desk::parse(n, &self.alerting.departments)?;
        desk.id = id;
        check_references(self, &desk).await?;
        refuse_unreachable(self, &desk, now).await?;
        let audit = AuditEvent::new(&u.actor(), "desk.update", "desk", Some(id.to_string()))
            .with_detail(serde_json::json!({"name": desk.name}));
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::UpdateDesk(Box::new(desk.clone()))],
                    audit: Box::new(audit),
                },
            )
            .await
            .map_err(|e| name_taken(e.into()))?;
        Ok(desk)
    }

    /// One desk.
    pub async fn desk(&self, u: &User, id: Uuid) -> Result<Desk> {
        require(u, Permission::AlertRead)?;
        Ok(self.store.get_desk(id).await?)
    }

    /// Every desk, by name.
    pub async fn desks(&self, u: &User) -> Result<Vec<Desk>> {
        require(u, Permission::AlertRead)?;
        Ok(self.store.list_desks().await?)
    }

    /// Every stored desk with the policy steps that reach nobody at `now` (for `tocsin
    /// check`; the operator's read, no user needed).
    pub async fn check_desks(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Desk, Vec<UnreachableStep>)>> {
        let mut out = Vec::new();
        for d in self.store.list_desks().await? {
            let bad = unreachable_steps(self, &d, now).await?;
            out.push((d, bad));
        }
        Ok(out)
    }
}
