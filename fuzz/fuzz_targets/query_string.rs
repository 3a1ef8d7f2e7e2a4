//! Untrusted query strings of `GET /api/v1/incidents` and `GET /api/v1/reports`, turned into
//! store filters for a low-clearance user (incidents take its clearance, reports the user).
//! Nothing may panic, and a filter never asks for more than the user's clearance.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tocsin_domain::{NewUser, Role, User};
use tocsin_server::api::{IncidentQuery, ReportQuery};
use tocsin_server::input::parse_query;

fn user() -> &'static User {
    static U: OnceLock<User> = OnceLock::new();
    U.get_or_init(|| NewUser::build("f", Role::Viewer, None).expect("valid user"))
}

fuzz_target!(|data: &[u8]| {
    let q = String::from_utf8_lossy(data);
    let u = user();
    if let Ok(iq) = parse_query::<IncidentQuery>(Some(&q)) {
        if let Ok((f, p)) = iq.to_filter(u.clearance) {
            assert_eq!(f.max_tlp, u.clearance);
            assert!((1..=tocsin_domain::page::MAX_PAGE_SIZE).contains(&p.limit));
        }
    }
    if let Ok(rq) = parse_query::<ReportQuery>(Some(&q)) {
        if let Ok((f, p)) = rq.to_filter(u) {
            assert_eq!(f.max_tlp, u.clearance);
            assert!((1..=tocsin_domain::page::MAX_PAGE_SIZE).contains(&p.limit));
        }
    }
});
