//! Compile-time tests of `#[auth_backend]` and `#[protected]`: every accepted form
//! builds, and every mistake fails with one clear, well-spanned error.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
