//! Compile-time tests of `#[auth_backend]` and `#[protected]`: every accepted form
//! builds, and every mistake fails with one clear, well-spanned error.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
