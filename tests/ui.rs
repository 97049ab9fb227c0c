//! The compile-time error suite: one rule per case, each `.stderr` pinning message and
//! caret. Regenerate with `TRYBUILD=overwrite cargo test --test ui` after a toolchain
//! change, and review the diff.

// rustc names a trait by another visible path when more crates are linked (with
// `postgres`, `ash_rs::prelude::Resource` instead of `Resource`): the `.stderr` files pin
// the default features' output, so the suite runs without features.
#[test]
#[cfg_attr(
    feature = "postgres",
    ignore = "the .stderr files pin the default features: run `cargo test --test ui`"
)]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
    t.pass("tests/ui_pass/*.rs");
}
