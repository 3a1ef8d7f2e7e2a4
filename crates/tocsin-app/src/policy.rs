//! Rules an entry point asks about before it shows something that is not one record or list
//! read through a use case: the map (answered by the server's in-memory index), the job
//! runner's per-job detail on `/healthz`, and the account administration page. Each names
//! the permission and the clearance involved, so the server never does.

use tocsin_domain::{Permission, Tlp, User};

use crate::{require, Result};

/// The map of incidents: one who may read incidents sees those labelled at most their
/// clearance, the label answered here (the map's clusters count nothing above it).
pub fn map_scope(u: &User) -> Result<Tlp> {
    require(u, Permission::IncidentRead)?;
    Ok(u.clearance)
}

/// The job runner's per-job detail (`/healthz?detail`: last success, backlog, last error):
/// admins who manage users. The outbox's backlog, polled, would time when a warner's
/// acknowledgement was queued, so it is not for every role. (A client on the server's own
/// host sees it too; that is a matter of network, decided by the server.)
pub fn job_detail(u: &User) -> Result<()> {
    require(u, Permission::UserManage)
}

/// Acting on the account administration page (create, disable, issue a token…): one who
/// manages users. Each action checks it again in its own use case; this refuses a stranger
/// before the page's form is read.
pub fn administer_accounts(u: &User) -> Result<()> {
    require(u, Permission::UserManage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_domain::Role;

    fn user(role: Role, clearance: Tlp) -> User {
        User {
            id: uuid::Uuid::nil(),
            username: "someone".into(),
            role,
            clearance,
            password_hash: None,
            created_at: chrono::Utc::now(),
            disabled: false,
            grants: vec![],
            time_zone: None,
            language: None,
        }
    }

    #[test]
    fn the_map_is_for_incident_readers_at_their_clearance() {
        let analyst = user(Role::Analyst, Tlp::Amber);
        assert_eq!(map_scope(&analyst), Ok(Tlp::Amber));
        let viewer = user(Role::Viewer, Tlp::Green);
        assert_eq!(
            map_scope(&viewer).is_ok(),
            viewer.can(Permission::IncidentRead)
        );
    }

    #[test]
    fn job_detail_and_account_administration_are_for_admins_only() {
        for role in Role::ALL {
            let u = user(role, Tlp::Red);
            let admin = u.can(Permission::UserManage);
            assert_eq!(job_detail(&u).is_ok(), admin, "{role:?}");
            assert_eq!(administer_accounts(&u).is_ok(), admin, "{role:?}");
        }
        assert!(job_detail(&user(Role::Admin, Tlp::Clear)).is_ok());
        assert!(job_detail(&user(Role::Viewer, Tlp::Red)).is_err());
    }
}
