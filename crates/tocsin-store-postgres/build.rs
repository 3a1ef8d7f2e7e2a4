//! `sqlx::migrate!` embeds `migrations/` at compile time; a changed or added migration must
//! rebuild this crate, which cargo does not know without being told.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
