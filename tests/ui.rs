//! The compile-time error suite: one rule per case, each `.stderr` pinning message and
//! caret. Regenerate with `TRYBUILD=overwrite cargo test --test ui` after a toolchain
//! change, and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
    t.pass("tests/ui_pass/*.rs");
}
