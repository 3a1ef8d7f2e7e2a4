//! The organisation that acts on alerts: departments, desks, and each desk's escalation
//! policy ("after 15m notify the Sahel desk, after 1h whoever is on duty at the crisis
//! centre, repeat twice").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Country, DomainError, TextDuration};

/// The most repeats of a policy's steps a desk may ask for.
pub const MAX_REPEAT: u8 = 10;
/// The most steps in one policy.
pub const MAX_STEPS: usize = 20;

/// A government department, by name (configurable; see [`Department::DEFAULTS`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Department(String);

impl Department {
    /// The departments a fresh installation starts with.
    pub const DEFAULTS: [&'static str; 6] = [
        "foreign affairs",
        "development",
        "defence",
        "interior",
        "treasury",
        "trade",
    ];

    /// A department name: 1–100 bytes after trimming, no control characters.
    pub fn parse(name: &str) -> Result<Department, DomainError> {
        let n = name.trim();
        if n.is_empty() || n.len() > 100 {
            return Err(DomainError::invalid("department", "1-100 bytes"));
        }
        if n.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "department",
                "must not contain control characters",
            ));
        }
        Ok(Department(n.to_string()))
    }

    /// The default list.
    pub fn defaults() -> Vec<Department> {
        Department::DEFAULTS
            .iter()
            .map(|d| Department(d.to_string()))
            .collect()
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Department {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Department::parse(&s)
    }
}

impl From<Department> for String {
    fn from(d: Department) -> String {
        d.0
    }
}

/// Whom a step notifies: `{"desk": id}`, `{"user": "alice"}` or `{"on_duty": desk_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    /// Every member of a desk.
    Desk(Uuid),
    /// One user, by username.
    User(String),
    /// Whoever is on duty at a desk according to its rota.
    OnDuty(Uuid),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Desk(id) => write!(f, "desk {id}"),
            Target::User(name) => write!(f, "user {name}"),
            Target::OnDuty(id) => write!(f, "whoever is on duty at desk {id}"),
        }
    }
}

/// "After `after` notify `notify`"; `after` counts from the alert's opening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    /// Time since the alert opened, e.g. `15m`.
    #[schema(value_type = String, example = "15m")]
    pub after: TextDuration,
    /// Whom to notify.
    pub notify: Target,
}

/// A desk's escalation policy, `{"escalation": [steps], "repeat": n}` in JSON: steps at increasing times after an alert opens, then the
/// whole round again `repeat` more times, each round starting when the previous one's last
/// step fired. Escalation stops at acknowledgement (see [`crate::Alert::fire_step`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EscalationPolicy {
    #[serde(rename = "escalation")]
    steps: Vec<EscalationStep>,
    repeat: u8,
}

impl EscalationPolicy {
    /// A valid policy: 1–[`MAX_STEPS`] steps, every `after` longer than 0s and each later
    /// than the one before, `repeat` at most [`MAX_REPEAT`]. Errors name the field as the
    /// API writes it, e.g. `escalation[1].after`.
    pub fn new(steps: Vec<EscalationStep>, repeat: u8) -> Result<EscalationPolicy, DomainError> {
        if steps.is_empty() {
            return Err(DomainError::invalid(
                "escalation",
                "needs at least one step",
            ));
        }
        if steps.len() > MAX_STEPS {
            return Err(DomainError::invalid(
                "escalation",
                format!("at most {MAX_STEPS} steps"),
            ));
        }
        for (i, s) in steps.iter().enumerate() {
            let field = format!("escalation[{i}].after");
            s.after.positive(&field)?;
            if i > 0 && s.after <= steps[i - 1].after {
                return Err(DomainError::invalid(
                    field,
                    format!(
                        "{} is not later than the step before ({})",
                        s.after,
                        steps[i - 1].after
                    ),
                ));
            }
            if let Target::User(name) = &s.notify {
                if name.trim().is_empty() {
                    return Err(DomainError::invalid(
                        format!("escalation[{i}].notify.user"),
                        "must name a user",
                    ));
                }
            }
        }
        if repeat > MAX_REPEAT {
            return Err(DomainError::invalid(
                "repeat",
                format!("at most {MAX_REPEAT}"),
            ));
        }
        Ok(EscalationPolicy { steps, repeat })
    }

    /// Its steps, in order.
    pub fn steps(&self) -> &[EscalationStep] {
        &self.steps
    }

    /// How many times the round repeats after the first.
    pub fn repeat(&self) -> u8 {
        self.repeat
    }

    /// How many notifications the policy makes at most, over all rounds.
    pub fn total_steps(&self) -> u32 {
        self.steps.len() as u32 * (u32::from(self.repeat) + 1)
    }

    /// The next step after `fired_so_far` have fired: its index in [`Self::steps`] and when
    /// it is due, counted from the alert's opening; `None` when the policy is exhausted.
    /// Round `r` (from 0) fires step `i` at `r × last.after + steps[i].after`.
    pub fn next_step(&self, fired_so_far: u32) -> Option<(usize, TextDuration)> {
        if fired_so_far >= self.total_steps() {
            return None;
        }
        let n = self.steps.len() as u32;
        let (round, index) = (fired_so_far / n, (fired_so_far % n) as usize);
        let cycle = self.steps.last()?.after;
        // At most 11 rounds of at most MAX_SECONDS: beyond that the step is never due.
        let due = cycle
            .checked_mul(u64::from(round))
            .and_then(|start| start.checked_add(self.steps[index].after))?;
        Some((index, due))
    }

    /// The steps that reach nobody, for `tocsin check` and the API on save. `reaches` tells,
    /// for a target, whether it reaches at least one person with a working channel (the
    /// caller knows the desks, rotas and users).
    pub fn unreachable_steps(&self, reaches: impl Fn(&Target) -> bool) -> Vec<UnreachableStep> {
        self.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| !reaches(&s.notify))
            .map(|(index, s)| UnreachableStep {
                index,
                step: s.clone(),
            })
            .collect()
    }
}

impl<'de> Deserialize<'de> for EscalationPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            escalation: Vec<EscalationStep>,
            #[serde(default)]
            repeat: u8,
        }
        let r = Raw::deserialize(d)?;
        EscalationPolicy::new(r.escalation, r.repeat).map_err(serde::de::Error::custom)
    }
}

/// A policy step that can reach nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreachableStep {
    /// Its index in the policy (0-based, as in `escalation[i]`).
    pub index: usize,
    /// The step.
    pub step: EscalationStep,
}

impl std::fmt::Display for UnreachableStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "escalation[{}] (after {} notify {}) reaches nobody",
            self.index, self.step.after, self.step.notify
        )
    }
}

/// One shift of a desk's duty rota: `user` is on duty from `from` until (not including)
/// `until`. [`Target::OnDuty`] notifies whoever is on duty when the step fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    /// Username.
    pub user: String,
    /// Start (RFC 3339).
    pub from: DateTime<Utc>,
    /// End (RFC 3339), after `from`.
    pub until: DateTime<Utc>,
}

/// The most shifts one rota may hold.
pub const MAX_SHIFTS: usize = 1_000;

/// A desk: people in a department who answer for some countries and situations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Desk {
    /// Its id.
    pub id: Uuid,
    /// e.g. `Sahel desk`.
    pub name: String,
    /// Its department.
    #[schema(value_type = String)]
    pub department: Department,
    /// Usernames of its members.
    pub members: Vec<String>,
    /// Countries it answers for (ISO alpha-3).
    #[schema(value_type = Vec<String>)]
    pub countries: Vec<Country>,
    /// Situations it answers for.
    pub situations: Vec<Uuid>,
    /// Its escalation policy, written as the API writes it: `escalation: [steps], repeat`.
    #[serde(flatten)]
    pub escalation: EscalationPolicy,
    /// Its duty rota (optional): who is on duty when, for [`Target::OnDuty`].
    #[serde(default)]
    pub rota: Vec<Shift>,
}

impl Desk {
    /// Who is on duty at `at` by the rota (usernames, without repeats).
    pub fn on_duty(&self, at: DateTime<Utc>) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        for s in &self.rota {
            if s.from <= at && at < s.until && !v.contains(&s.user.as_str()) {
                v.push(&s.user);
            }
        }
        v
    }
}

/// A desk as the API receives it: `{name, department, members, countries, situations,
/// escalation: [{after, notify}], repeat}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDesk {
    /// Name.
    pub name: String,
    /// Department name.
    pub department: String,
    /// Usernames.
    #[serde(default)]
    pub members: Vec<String>,
    /// ISO alpha-3 codes.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Situation ids.
    #[serde(default)]
    pub situations: Vec<Uuid>,
    /// Policy steps.
    pub escalation: Vec<EscalationStep>,
    /// Repeats of the steps (default 0).
    #[serde(default)]
    pub repeat: u8,
    /// Duty rota (optional): `[{user, from, until}]`.
    #[serde(default)]
    pub rota: Vec<Shift>,
}

impl Desk {
    /// Validate a new desk (`id` from [`crate::new_id`]); `departments` are the configured
    /// ones. Duplicate members, countries and situations are dropped.
    pub fn parse(n: NewDesk, departments: &[Department]) -> Result<Desk, DomainError> {
        let name = n.name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(DomainError::invalid("name", "1-200 bytes"));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "name",
                "must not contain control characters",
            ));
        }
        let department = Department::parse(&n.department)?;
        if !departments.contains(&department) {
            return Err(DomainError::invalid(
                "department",
                format!("{:?} is not a configured department", department.name()),
            ));
        }
        let mut members: Vec<String> = Vec::new();
        for m in &n.members {
            let m = m.trim();
            if m.is_empty() || m.chars().any(char::is_control) {
                return Err(DomainError::invalid(
                    "members",
                    "usernames must be non-empty",
                ));
            }
            if !members.iter().any(|x| x == m) {
                members.push(m.to_string());
            }
        }
        let mut countries: Vec<Country> = Vec::new();
        for c in &n.countries {
            let c = Country::parse(c).map_err(|e| match e {
                DomainError::Invalid { message, .. } => DomainError::invalid("countries", message),
                e => e,
            })?;
            if !countries.contains(&c) {
                countries.push(c);
            }
        }
        let mut situations = n.situations;
        let mut seen = std::collections::HashSet::new();
        situations.retain(|s| seen.insert(*s));
        if n.rota.len() > MAX_SHIFTS {
            return Err(DomainError::invalid(
                "rota",
                format!("at most {MAX_SHIFTS} shifts"),
            ));
        }
        let mut rota = Vec::with_capacity(n.rota.len());
        for (i, s) in n.rota.into_iter().enumerate() {
            let user = s.user.trim();
            if user.is_empty() || user.chars().any(char::is_control) {
                return Err(DomainError::invalid(
                    format!("rota[{i}].user"),
                    "must name a user",
                ));
            }
            if s.until <= s.from {
                return Err(DomainError::invalid(
                    format!("rota[{i}].until"),
                    "must be after from",
                ));
            }
            rota.push(Shift {
                user: user.to_string(),
                ..s
            });
        }
        Ok(Desk {
            id: crate::new_id(),
            name: name.to_string(),
            department,
            members,
            countries,
            situations,
            escalation: EscalationPolicy::new(n.escalation, n.repeat)?,
            rota,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> TextDuration {
        TextDuration::parse("after", s).unwrap()
    }

    fn step(after: &str, notify: Target) -> EscalationStep {
        EscalationStep {
            after: d(after),
            notify,
        }
    }

    fn policy(repeat: u8) -> EscalationPolicy {
        EscalationPolicy::new(
            vec![
                step("15m", Target::Desk(Uuid::from_u128(1))),
                step("1h", Target::User("alice".into())),
                step("2h", Target::OnDuty(Uuid::from_u128(2))),
            ],
            repeat,
        )
        .unwrap()
    }

    #[test]
    fn schedule_without_repeat_ends_after_the_last_step() {
        let p = policy(0);
        assert_eq!(p.total_steps(), 3);
        assert_eq!(p.next_step(0), Some((0, d("15m"))));
        assert_eq!(p.next_step(1), Some((1, d("1h"))));
        assert_eq!(p.next_step(2), Some((2, d("2h"))));
        assert_eq!(p.next_step(3), None);
        assert_eq!(p.next_step(u32::MAX), None);
    }

    #[test]
    fn schedule_repeats_rounds_after_the_last_step() {
        let p = policy(2);
        assert_eq!(p.total_steps(), 9);
        let due: Vec<String> = (0..10)
            .map(|i| match p.next_step(i) {
                Some((idx, at)) => format!("{idx}@{at}"),
                None => "end".into(),
            })
            .collect();
        assert_eq!(
            due,
            ["0@15m", "1@1h", "2@2h", "0@135m", "1@3h", "2@4h", "0@255m", "1@5h", "2@6h", "end"]
        );
    }

    #[test]
    fn a_schedule_past_ten_years_never_falls_due() {
        let p = EscalationPolicy::new(vec![step("3000d", Target::User("a".into()))], 2).unwrap();
        assert_eq!(p.next_step(0), Some((0, d("3000d"))));
        assert_eq!(p.next_step(1), None);
    }

    #[test]
    fn policy_validation_names_the_field() {
        let field = |steps: Vec<EscalationStep>, repeat: u8| {
            EscalationPolicy::new(steps, repeat)
                .unwrap_err()
                .field()
                .unwrap()
                .to_string()
        };
        let u = || Target::User("alice".into());
        assert_eq!(field(vec![], 0), "escalation");
        assert_eq!(field(vec![step("1m", u()); MAX_STEPS + 1], 0), "escalation");
        assert_eq!(field(vec![step("0s", u())], 0), "escalation[0].after");
        assert_eq!(
            field(vec![step("1h", u()), step("1h", u())], 0),
            "escalation[1].after"
        );
        assert_eq!(
            field(vec![step("1h", u()), step("30m", u())], 0),
            "escalation[1].after"
        );
        assert_eq!(
            field(vec![step("1h", Target::User(" ".into()))], 0),
            "escalation[0].notify.user"
        );
        assert_eq!(field(vec![step("1h", u())], MAX_REPEAT + 1), "repeat");
        assert!(EscalationPolicy::new(vec![step("1h", u())], MAX_REPEAT).is_ok());
    }

    #[test]
    fn check_names_the_steps_that_reach_nobody() {
        let p = policy(1);
        let empty_desk = Uuid::from_u128(1);
        let bad = p.unreachable_steps(|t| match t {
            Target::Desk(id) => *id != empty_desk,
            Target::User(name) => name != "alice",
            Target::OnDuty(_) => true,
        });
        assert_eq!(bad.iter().map(|b| b.index).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(
            bad[1].to_string(),
            "escalation[1] (after 1h notify user alice) reaches nobody"
        );
        assert!(bad[0].to_string().contains(&format!("desk {empty_desk}")));
        assert!(p.unreachable_steps(|_| true).is_empty());
    }

    #[test]
    fn desk_json_in_the_api_shape() {
        let sahel = Uuid::from_u128(5);
        let body = serde_json::json!({
            "name": "Sahel desk",
            "department": "foreign affairs",
            "members": ["alice", "bob", "alice"],
            "countries": ["mli", "BFA"],
            "situations": [sahel],
            "escalation": [
                {"after": "15m", "notify": {"desk": sahel}},
                {"after": "1h", "notify": {"user": "carol"}},
                {"after": "4h", "notify": {"on_duty": sahel}}
            ],
            "repeat": 2
        });
        let n: NewDesk = serde_json::from_value(body).unwrap();
        let desk = Desk::parse(n, &Department::defaults()).unwrap();
        assert_eq!(desk.members, ["alice", "bob"]);
        assert_eq!(desk.countries[0].code(), "MLI");
        assert_eq!(desk.escalation.repeat(), 2);
        assert_eq!(
            desk.escalation.steps()[1].notify,
            Target::User("carol".into())
        );
        let out = serde_json::to_value(&desk).unwrap();
        assert_eq!(out["department"], "foreign affairs");
        assert_eq!(out["repeat"], 2);
        assert_eq!(
            out["escalation"],
            serde_json::json!([
                {"after": "15m", "notify": {"desk": sahel}},
                {"after": "1h", "notify": {"user": "carol"}},
                {"after": "4h", "notify": {"on_duty": sahel}}
            ])
        );
        let back: EscalationPolicy = serde_json::from_value(
            serde_json::json!({"escalation": out["escalation"], "repeat": out["repeat"]}),
        )
        .unwrap();
        assert_eq!(back, desk.escalation);
    }

    #[test]
    fn desk_input_is_refused_naming_the_field() {
        let base = || NewDesk {
            name: "Sahel desk".into(),
            department: "defence".into(),
            members: vec![],
            countries: vec![],
            situations: vec![],
            escalation: vec![step("15m", Target::User("a".into()))],
            repeat: 0,
            rota: vec![],
        };
        let field = |n: NewDesk| {
            Desk::parse(n, &Department::defaults())
                .unwrap_err()
                .field()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            field(NewDesk {
                name: " ".into(),
                ..base()
            }),
            "name"
        );
        assert_eq!(
            field(NewDesk {
                department: "culture".into(),
                ..base()
            }),
            "department"
        );
        assert_eq!(
            field(NewDesk {
                members: vec!["".into()],
                ..base()
            }),
            "members"
        );
        assert_eq!(
            field(NewDesk {
                countries: vec!["XXX".into()],
                ..base()
            }),
            "countries"
        );
        assert_eq!(
            field(NewDesk {
                escalation: vec![],
                ..base()
            }),
            "escalation"
        );
        assert_eq!(
            field(NewDesk {
                repeat: 200,
                ..base()
            }),
            "repeat"
        );
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            field(NewDesk {
                rota: vec![Shift {
                    user: "a".into(),
                    from: t("2026-01-02T00:00:00Z"),
                    until: t("2026-01-01T00:00:00Z"),
                }],
                ..base()
            }),
            "rota[0].until"
        );
        let desk = Desk::parse(
            NewDesk {
                rota: vec![
                    Shift {
                        user: "a".into(),
                        from: t("2026-01-01T00:00:00Z"),
                        until: t("2026-01-02T00:00:00Z"),
                    },
                    Shift {
                        user: "b".into(),
                        from: t("2026-01-02T00:00:00Z"),
                        until: t("2026-01-03T00:00:00Z"),
                    },
                ],
                ..base()
            },
            &Department::defaults(),
        )
        .unwrap();
        assert_eq!(desk.on_duty(t("2026-01-01T23:59:59Z")), vec!["a"]);
        assert_eq!(desk.on_duty(t("2026-01-02T00:00:00Z")), vec!["b"]);
        assert!(desk.on_duty(t("2026-01-03T00:00:00Z")).is_empty());
        let json = serde_json::to_string(&desk).unwrap();
        let back: Desk = serde_json::from_str(&json).unwrap();
        assert_eq!(back, desk);
        // A configured department other than the defaults.
        let culture = Department::parse(" culture ").unwrap();
        assert_eq!(culture.name(), "culture");
        let d = Desk::parse(
            NewDesk {
                department: "culture".into(),
                ..base()
            },
            &[culture],
        );
        assert!(d.is_ok());
    }

    #[test]
    fn bad_json_is_refused() {
        for bad in [
            r#"{"after": "15 m", "notify": {"user": "a"}}"#,
            r#"{"after": "15m", "notify": {"team": "a"}}"#,
            r#"{"after": "15m", "notify": {"user": "a", "desk": "x"}}"#,
            r#"{"after": 900, "notify": {"user": "a"}}"#,
            r#"{"after": "15m", "notify": {"user": "a"}, "extra": 1}"#,
        ] {
            assert!(
                serde_json::from_str::<EscalationStep>(bad).is_err(),
                "{bad}"
            );
        }
        let e = serde_json::from_str::<EscalationPolicy>(
            r#"{"escalation": [{"after": "1h", "notify": {"user": "a"}}], "repeat": 99}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("repeat"), "{e}");
        assert!(serde_json::from_str::<Department>("\"\"").is_err());
    }
}
