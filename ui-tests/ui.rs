//! Compile-time tests of the macros (`#[auth_backend]`, `#[protected]`,
//! `#[user_model]`, `#[oauth_client]`, `#[derive(Scopes)]`): every accepted form
//! builds, and every mistake fails with one clear, well-spanned error.
//!
//! trybuild builds the cases against this package's dev-dependencies (Cargo.toml):
//! keep them to what the cases name.

use std::path::Path;

#[test]
fn ui() {
    case_builds_without_debuginfo();
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}

/// trybuild builds its case project in `<target>/tests/trybuild/<package>/`, with the
/// dev profile and none of this workspace's settings. With debuginfo, each of the
/// pass cases' binaries is ~120 MB, and trybuild links each twice (8 GB in all). The
/// cases' errors and asserts need none: cargo reads `.cargo/config.toml` in the
/// directories above the one it runs in, so one there turns it off for that project
/// alone.
fn case_builds_without_debuginfo() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target>/tmp");
    let config = target.join("tests").join("trybuild").join(".cargo");
    std::fs::create_dir_all(&config).expect("create <target>/tests/trybuild/.cargo");
    std::fs::write(
        config.join("config.toml"),
        "# Written by warden-ui-tests (ui-tests/ui.rs): no debuginfo in the case builds.\n\
         [profile.dev]\n\
         debug = false\n",
    )
    .expect("write <target>/tests/trybuild/.cargo/config.toml");
}
