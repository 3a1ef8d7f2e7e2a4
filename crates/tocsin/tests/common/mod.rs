//! Helpers shared by the CLI tests: run the real `tocsin` binary on a data directory.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_tocsin");

/// `tocsin --data-dir DIR [--database-url URL] ARGS…`, with quiet logs and no inherited URL.
pub fn tocsin(data_dir: &Path, db: Option<&str>, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(data_dir);
    if let Some(url) = db {
        c.arg("--database-url").arg(url);
    }
    c.args(args)
        .env_remove("TOCSIN_DATABASE_URL")
        .env_remove("TOCSIN_CONFIG")
        .env("TOCSIN_LOG", "warn");
    c
}

/// Run, require success, return standard output.
pub fn run_ok(mut c: Command) -> String {
    let out = c.output().expect("run tocsin");
    assert!(
        out.status.success(),
        "tocsin failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Run, require failure, return standard error.
pub fn run_err(mut c: Command) -> String {
    let out = c.output().expect("run tocsin");
    assert!(
        !out.status.success(),
        "tocsin should have failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// Create a user; returns its API token.
pub fn add_user(dir: &Path, db: Option<&str>, name: &str, role: &str) -> String {
    let out = run_ok(tocsin(dir, db, &["user", "add", name, "--role", role]));
    let token = out.lines().last().unwrap().trim().to_string();
    assert!(
        token.starts_with("tsn_"),
        "last line must be the token: {out}"
    );
    token
}
