#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/aggregates/*.rs");
    t.compile_fail("tests/ui/queries/sort_by_a_filter.rs");
}
