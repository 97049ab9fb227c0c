//! The diff engine without a server: tables in, changes and SQL out.

use super::*;

fn col(name: &str, ty: &str, nullable: bool, default: Option<&str>) -> Column {
    Column {
        name: name.into(),
        sql_type: ty.into(),
        nullable,
        default: default.map(Into::into),
    }
}

fn items(extra: Vec<Column>) -> Table {
    let mut columns = vec![
        col("id", "uuid", false, None),
        col("version", "bigint", false, Some("1")),
        col("title", "text", false, None),
    ];
    columns.extend(extra);
    Table {
        table: "items".into(),
        schema: None,
        columns,
        primary_key: vec!["id".into()],
        identities: vec![],
        foreign_keys: vec![],
    }
}

fn refused(result: Result<Plan, MigrationError>) -> Vec<String> {
    match result {
        Err(MigrationError::Refused { problems }) => problems,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn unchanged_tables_plan_nothing() {
    let plan = plan(&[items(vec![])], &[items(vec![])], &Options::default()).unwrap();
    assert!(plan.is_empty());
    assert!(plan.up.is_empty() && plan.down.is_empty());
}

#[test]
fn a_new_table_is_created_with_its_indexes_and_dropped_on_the_way_back() {
    let mut t = items(vec![]);
    t.identities.push(UniqueIndex {
        identity: "unique_title".into(),
        name: "items_unique_title_index".into(),
        columns: vec!["title".into()],
        nulls_distinct: false,
    });
    let plan = plan(&[], &[t], &Options::default()).unwrap();
    assert_eq!(
        plan.up,
        [
            "CREATE TABLE \"items\" (\n    \"id\" uuid NOT NULL,\n    \"version\" bigint NOT NULL DEFAULT 1,\n    \"title\" text NOT NULL,\n    PRIMARY KEY (\"id\")\n)",
            "CREATE UNIQUE INDEX \"items_unique_title_index\" ON \"items\" (\"title\") NULLS NOT DISTINCT",
        ]
    );
    assert_eq!(plan.down, ["DROP TABLE \"items\""]);
}

#[test]
fn an_optional_attribute_is_one_add_column() {
    let plan = plan(
        &[items(vec![])],
        &[items(vec![col("note", "text", true, None)])],
        &Options::default(),
    )
    .unwrap();
    assert_eq!(plan.up, ["ALTER TABLE \"items\" ADD COLUMN \"note\" text"]);
    assert_eq!(plan.down, ["ALTER TABLE \"items\" DROP COLUMN \"note\""]);
    assert_eq!(plan.changes[0].to_string(), "items: add column note text");
}

#[test]
fn a_required_attribute_with_a_default_fills_rows_from_it() {
    let plan = plan(
        &[items(vec![])],
        &[items(vec![col("rank", "bigint", false, Some("0"))])],
        &Options::default(),
    )
    .unwrap();
    assert_eq!(
        plan.up,
        ["ALTER TABLE \"items\" ADD COLUMN \"rank\" bigint NOT NULL DEFAULT 0"]
    );
}

#[test]
fn a_required_attribute_without_a_default_needs_a_fill() {
    let old = [items(vec![])];
    let new = [items(vec![col("code", "text", false, None)])];
    let problems = refused(plan(&old, &new, &Options::default()));
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains("--fill items.code=<SQL>"),
        "{problems:?}"
    );
    let plan = plan(
        &old,
        &new,
        &Options::default().fill("items", "code", "'none'"),
    )
    .unwrap();
    assert_eq!(
        plan.up,
        [
            "ALTER TABLE \"items\" ADD COLUMN \"code\" text",
            "UPDATE \"items\" SET \"code\" = ('none') WHERE \"code\" IS NULL",
            "ALTER TABLE \"items\" ALTER COLUMN \"code\" SET NOT NULL",
        ]
    );
}

#[test]
fn becoming_required_fills_from_the_default_or_the_fill_or_refuses() {
    let old = [items(vec![col("note", "text", true, None)])];
    let required = [items(vec![col("note", "text", false, None)])];
    let problems = refused(plan(&old, &required, &Options::default()));
    assert!(
        problems[0].contains("becomes required") && problems[0].contains("--fill items.note="),
        "{problems:?}"
    );

    let with = plan(
        &old,
        &required,
        &Options::default().fill("items", "note", "''"),
    )
    .unwrap();
    assert_eq!(
        with.up,
        [
            "UPDATE \"items\" SET \"note\" = ('') WHERE \"note\" IS NULL",
            "ALTER TABLE \"items\" ALTER COLUMN \"note\" SET NOT NULL",
        ]
    );
    assert_eq!(
        with.down,
        ["ALTER TABLE \"items\" ALTER COLUMN \"note\" DROP NOT NULL"]
    );

    let defaulted = [items(vec![col("note", "text", false, Some("'-'"))])];
    let from_default = plan(&old, &defaulted, &Options::default()).unwrap();
    assert_eq!(
        from_default.up,
        [
            "ALTER TABLE \"items\" ALTER COLUMN \"note\" SET DEFAULT '-'",
            "UPDATE \"items\" SET \"note\" = ('-') WHERE \"note\" IS NULL",
            "ALTER TABLE \"items\" ALTER COLUMN \"note\" SET NOT NULL",
        ]
    );
}

#[test]
fn type_and_default_changes() {
    let old = [items(vec![col("n", "integer", false, Some("1"))])];
    let new = [items(vec![col("n", "bigint", false, Some("2"))])];
    let plan = plan(&old, &new, &Options::default()).unwrap();
    assert_eq!(
        plan.up,
        [
            "ALTER TABLE \"items\" ALTER COLUMN \"n\" DROP DEFAULT",
            "ALTER TABLE \"items\" ALTER COLUMN \"n\" TYPE bigint USING \"n\"::bigint",
            "ALTER TABLE \"items\" ALTER COLUMN \"n\" SET DEFAULT 2",
        ]
    );
    assert_eq!(plan.changes.len(), 2);
    let default_only = super::plan(
        &old,
        &[items(vec![col("n", "integer", false, None)])],
        &Options::default(),
    )
    .unwrap();
    assert_eq!(
        default_only.up,
        ["ALTER TABLE \"items\" ALTER COLUMN \"n\" DROP DEFAULT"]
    );
    assert_eq!(
        default_only.down,
        ["ALTER TABLE \"items\" ALTER COLUMN \"n\" SET DEFAULT 1"]
    );
}

#[test]
fn a_column_that_disappears_while_another_appears_is_a_rename_question() {
    let old = [items(vec![col("body", "text", true, None)])];
    let new = [items(vec![col("content", "text", true, None)])];
    let problems = refused(plan(&old, &new, &Options::default()));
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains("--rename-column items.body=content")
            && problems[0].contains("--allow-drop"),
        "{problems:?}"
    );

    let renamed = plan(
        &old,
        &new,
        &Options::default().rename_column("items", "body", "content"),
    )
    .unwrap();
    assert_eq!(
        renamed.up,
        ["ALTER TABLE \"items\" RENAME COLUMN \"body\" TO \"content\""]
    );
    assert_eq!(
        renamed.down,
        ["ALTER TABLE \"items\" RENAME COLUMN \"content\" TO \"body\""]
    );

    let dropped = plan(&old, &new, &Options::default().allow_drop(true)).unwrap();
    assert_eq!(
        dropped.up,
        [
            "ALTER TABLE \"items\" ADD COLUMN \"content\" text",
            "ALTER TABLE \"items\" DROP COLUMN \"body\"",
        ]
    );
}

#[test]
fn a_plain_drop_needs_allow_drop() {
    let old = [items(vec![col("body", "text", true, None)])];
    let problems = refused(plan(&old, &[items(vec![])], &Options::default()));
    assert!(problems[0].contains("would be dropped"), "{problems:?}");
    let problems = refused(plan(&old, &[], &Options::default()));
    assert!(problems[0].contains("table `items`"), "{problems:?}");
    let plan = plan(&old, &[], &Options::default().allow_drop(true)).unwrap();
    assert_eq!(plan.up, ["DROP TABLE \"items\""]);
    assert!(plan.down[0].starts_with("CREATE TABLE \"items\""));
}

#[test]
fn a_table_rename_renames_its_keys_and_indexes() {
    let mut old = items(vec![]);
    old.identities.push(UniqueIndex {
        identity: "unique_title".into(),
        name: "items_unique_title_index".into(),
        columns: vec!["title".into()],
        nulls_distinct: true,
    });
    let mut new = old.clone();
    new.table = "things".into();
    new.identities[0].name = "things_unique_title_index".into();
    let problems = refused(plan(
        std::slice::from_ref(&old),
        std::slice::from_ref(&new),
        &Options::default(),
    ));
    assert!(
        problems[0].contains("--rename-table items=things"),
        "{problems:?}"
    );
    let plan = plan(
        &[old],
        &[new],
        &Options::default().rename_table("items", "things"),
    )
    .unwrap();
    assert_eq!(
        plan.up,
        [
            "ALTER TABLE \"items\" RENAME TO \"things\"",
            "ALTER INDEX \"items_pkey\" RENAME TO \"things_pkey\"",
            "ALTER INDEX \"items_unique_title_index\" RENAME TO \"things_unique_title_index\"",
        ]
    );
    assert_eq!(
        plan.down,
        [
            "ALTER TABLE \"things\" RENAME TO \"items\"",
            "ALTER INDEX \"things_pkey\" RENAME TO \"items_pkey\"",
            "ALTER INDEX \"things_unique_title_index\" RENAME TO \"items_unique_title_index\"",
        ]
    );
}

#[test]
fn renames_and_fills_that_do_not_apply_are_refused() {
    let t = [items(vec![])];
    let problems = refused(plan(
        &t,
        &t,
        &Options::default()
            .rename_column("items", "nope", "title")
            .fill("items", "title", "'x'"),
    ));
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[test]
fn identities_and_foreign_keys_are_diffed() {
    let old = items(vec![col("owner_id", "uuid", true, None)]);
    let mut new = old.clone();
    new.identities.push(UniqueIndex {
        identity: "unique_title".into(),
        name: "items_unique_title_index".into(),
        columns: vec!["title".into()],
        nulls_distinct: true,
    });
    new.foreign_keys.push(ForeignKey {
        name: "items_owner_id_fkey".into(),
        columns: vec!["owner_id".into()],
        references_schema: None,
        references_table: "users".into(),
        references_columns: vec!["id".into()],
        on_delete: Some("cascade".into()),
        on_update: None,
    });
    let plan = plan(&[old], &[new], &Options::default()).unwrap();
    assert_eq!(
        plan.up,
        [
            "CREATE UNIQUE INDEX \"items_unique_title_index\" ON \"items\" (\"title\")",
            "ALTER TABLE \"items\" ADD CONSTRAINT \"items_owner_id_fkey\" FOREIGN KEY (\"owner_id\") REFERENCES \"users\" (\"id\") ON DELETE CASCADE",
        ]
    );
    assert_eq!(
        plan.down,
        [
            "ALTER TABLE \"items\" DROP CONSTRAINT \"items_owner_id_fkey\"",
            "DROP INDEX \"items_unique_title_index\"",
        ]
    );
}

#[test]
fn differences_report_without_refusing() {
    let old = [items(vec![col("body", "text", true, None)])];
    let changes = differences(&old, &[items(vec![])]);
    assert_eq!(changes[0].to_string(), "items: drop column body");
}

#[test]
fn snapshots_are_stable_pretty_json() {
    let json = snapshot_json(&items(vec![]));
    assert!(
        json.starts_with("{\n  \"table\": \"items\",\n  \"columns\": [\n"),
        "{json}"
    );
    assert!(json.contains("\"foreign_keys\": []"));
    let back: Table = serde_json::from_str(&json).unwrap();
    assert_eq!(back, items(vec![]));
}
