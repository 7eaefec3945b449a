//! Compile-time tests of the macros (`#[auth_backend]`, `#[protected]`,
//! `#[user_model]`, `#[oauth_client]`, `#[derive(Scopes)]`): every accepted form
//! builds, and every mistake fails with one clear, well-spanned error.
//!
//! trybuild builds the cases against this package's dev-dependencies (Cargo.toml):
//! keep them to what the cases name.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
