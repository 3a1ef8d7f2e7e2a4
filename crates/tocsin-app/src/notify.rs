//! Notifications of alerts (placeholder: the `notify` branch supplies the real module, with
//! channels per user and clearance-aware content). The alerting use cases call only these two
//! functions.

use chrono::{DateTime, Utc};
use tocsin_domain::{Alert, User};

use crate::{App, Result};

/// The deliveries that tell `recipients` about `alert` (`why`: `opened`, `escalation step 2`…),
/// as steps to write in the same transaction as the alert's change. This placeholder queues
/// none.
pub async fn notifications_for(
    _app: &App<'_>,
    _alert: &Alert,
    _recipients: &[User],
    _why: &str,
    _now: DateTime<Utc>,
) -> Result<Vec<tocsin_store::Step>> {
    Ok(Vec::new())
}

/// Whether `user` can be reached by at least one working channel. This placeholder answers
/// for every user who is not disabled.
pub async fn reaches(_app: &App<'_>, user: &User) -> bool {
    !user.disabled
}
