//! Migrations against PostgreSQL (issue 15): generated from versions of the same
//! resources (modules `v1`..`v4` declare the table `items` four ways), applied to a schema
//! of each test's own. Without a server the tests print one line and pass (unless `CI` is
//! set). The diff engine's own tests need no server: `ash-postgres/src/migrations/tests.rs`.

mod pg_support;

use ash_rs::postgres::migrations::{
    self, collect, domain, generate, run, MigrationError, Options, Outcome, Table, Target,
};
use pg_support::TestDb;
use std::path::{Path, PathBuf};

macro_rules! catalog {
    ($name:ident { $($field:tt)* } create = [$($accept:ident),*]) => {
        pub mod $name {
            use ash_rs::postgres::Postgres;
            use ash_rs::prelude::*;

            /// The seed's resource.
            #[resource(domain = Catalog, data_layer = Postgres(table = "addresses"))]
            #[actions(
                defaults(read, create = [state, county]),
                update(update, accept = [state, county], change = optimistic_lock(version)),
            )]
            #[derive(Debug, Clone, PartialEq)]
            pub struct Address {
                #[uuid_primary_key]
                pub id: Uuid,
                #[attribute(default = 1)]
                pub version: i64,
                pub state: String,
                pub county: String,
            }

            /// The resource that changes from one version to the next.
            #[resource(domain = Catalog, data_layer = Postgres(table = "items"))]
            #[actions(defaults(read, create = [$($accept),*]))]
            #[identities(identity(unique_sku, [sku]))]
            #[derive(Debug, Clone, PartialEq)]
            pub struct Item {
                #[uuid_primary_key]
                pub id: Uuid,
                #[attribute(default = 1)]
                pub version: i64,
                pub sku: String,
                $($field)*
            }

            /// A review of an item at an address: two belongs_to, two foreign keys (the
            /// item's cascading, the address's restricting by default).
            #[resource(domain = Catalog, data_layer = Postgres(table = "reviews"))]
            #[actions(defaults(read, create = [stars, item_id, address_id]))]
            #[relationships(
                belongs_to(item, Item, on_delete = cascade),
                belongs_to(address, Address, allow_nil = false),
            )]
            #[derive(Debug, Clone, PartialEq)]
            pub struct Review {
                #[uuid_primary_key]
                pub id: Uuid,
                pub stars: i64,
            }

            #[domain]
            #[resources(Review, Address, Item(define(create_item, action = create)))]
            pub struct Catalog;
        }
    };
}

catalog!(v1 { pub title: String, } create = [sku, title]);
catalog!(v2 { pub title: String, pub note: Option<String>, } create = [sku, title]);
catalog!(v3 { pub title: String, pub note: String, } create = [sku, title, note]);
catalog!(v4 { pub name: String, pub note: Option<String>, } create = [sku, name]);

fn tables<D: ash_rs::domain::HasResources>() -> Vec<Table> {
    collect(&[domain::<D>()]).expect("valid resources")
}

/// A directory of its own, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        let path =
            std::env::temp_dir().join(format!("ash_migrations_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    fn files(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["migrations", "snapshots"] {
            if let Ok(entries) = std::fs::read_dir(self.0.join(sub)) {
                for e in entries {
                    out.push(format!(
                        "{sub}/{}",
                        e.unwrap().file_name().to_string_lossy()
                    ));
                }
            }
        }
        out.sort();
        out
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.0.join(file)).unwrap()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn target(db: &TestDb) -> Target {
    Target::new(pg_support::url()).schema(Some(db.schema.clone()))
}

/// A test schema whose pool never creates tables: migrations must.
async fn db() -> Option<TestDb> {
    TestDb::with(|b| b.create_missing_tables(false)).await
}

/// The schema's columns (`information_schema.columns`) and indexes (`pg_indexes`),
/// without the record of migrations and with the schema's name taken out.
async fn schema_of(db: &TestDb) -> Vec<String> {
    let admin = db.admin().await;
    let mut out = Vec::new();
    for row in admin
        .query(
            "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text, \
             COALESCE(column_default::text, '') FROM information_schema.columns \
             WHERE table_schema = $1 AND table_name <> 'ash_schema_migrations' \
             ORDER BY table_name, column_name",
            &[&db.schema],
        )
        .await
        .unwrap()
    {
        let cells: Vec<String> = (0..5).map(|i| row.get::<_, String>(i)).collect();
        out.push(format!("column {}", cells.join(" ")));
    }
    for row in admin
        .query(
            "SELECT tablename::text, indexname::text, indexdef::text FROM pg_indexes \
             WHERE schemaname = $1 AND tablename <> 'ash_schema_migrations' \
             ORDER BY tablename, indexname",
            &[&db.schema],
        )
        .await
        .unwrap()
    {
        let def: String = row.get(2);
        out.push(format!(
            "index {} {} {}",
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            def.replace(&db.schema, "S")
        ));
    }
    // Foreign keys: their table, name and definition (columns, referenced table and
    // columns, `ON DELETE`).
    for row in admin
        .query(
            "SELECT c.conrelid::regclass::text, c.conname::text, pg_get_constraintdef(c.oid) \
             FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
             WHERE c.contype = 'f' AND n.nspname = $1 ORDER BY 1, 2",
            &[&db.schema],
        )
        .await
        .unwrap()
    {
        let cells: Vec<String> = (0..3).map(|i| row.get::<_, String>(i)).collect();
        out.push(format!("foreign key {}", cells.join(" ")).replace(&db.schema, "S"));
    }
    out
}

fn gen(dir: &Path, tables: &[Table], options: &Options) -> Option<migrations::Generated> {
    generate(dir, tables, options, None).expect("generate")
}

#[test]
fn unchanged_resources_generate_no_file() {
    let dir = Dir::new();
    let first = gen(&dir.0, &tables::<v1::Catalog>(), &Options::default()).unwrap();
    assert_eq!(first.migration.id(), "0001_create_reviews_and_more");
    let files = dir.files();
    assert_eq!(
        files,
        [
            "migrations/0001_create_reviews_and_more.down.sql",
            "migrations/0001_create_reviews_and_more.up.sql",
            "snapshots/addresses.json",
            "snapshots/items.json",
            "snapshots/reviews.json",
        ]
    );
    let before: Vec<String> = files.iter().map(|f| dir.read(f)).collect();
    assert!(gen(&dir.0, &tables::<v1::Catalog>(), &Options::default()).is_none());
    assert_eq!(dir.files(), files);
    let after: Vec<String> = files.iter().map(|f| dir.read(f)).collect();
    assert_eq!(before, after);
    let snapshot = dir.read("snapshots/items.json");
    assert!(
        snapshot.contains("\"name\": \"items_unique_sku_index\""),
        "{snapshot}"
    );
    assert!(snapshot.contains("\"default\": \"1\""), "{snapshot}");
    // The belongs_to relationships are in the snapshot and the migration as foreign keys.
    let reviews = dir.read("snapshots/reviews.json");
    assert!(
        reviews.contains("\"name\": \"reviews_item_id_fkey\"")
            && reviews.contains("\"on_delete\": \"CASCADE\"")
            && reviews.contains("\"on_delete\": \"RESTRICT\""),
        "{reviews}"
    );
    let up = dir.read("migrations/0001_create_reviews_and_more.up.sql");
    for statement in [
        "ALTER TABLE \"reviews\" ADD CONSTRAINT \"reviews_item_id_fkey\" FOREIGN KEY (\"item_id\") REFERENCES \"items\" (\"id\") ON DELETE CASCADE;",
        "ALTER TABLE \"reviews\" ADD CONSTRAINT \"reviews_address_id_fkey\" FOREIGN KEY (\"address_id\") REFERENCES \"addresses\" (\"id\") ON DELETE RESTRICT;",
    ] {
        assert!(up.contains(statement), "{up}");
    }
}

#[test]
fn adding_one_attribute_is_one_add_column() {
    let dir = Dir::new();
    gen(&dir.0, &tables::<v1::Catalog>(), &Options::default()).unwrap();
    let second = gen(&dir.0, &tables::<v2::Catalog>(), &Options::default()).unwrap();
    assert_eq!(second.migration.id(), "0002_add_items_note");
    let up = dir.read("migrations/0002_add_items_note.up.sql");
    let statements: Vec<&str> = up
        .lines()
        .filter(|l| !l.starts_with("--") && !l.is_empty())
        .collect();
    assert_eq!(
        statements,
        ["ALTER TABLE \"items\" ADD COLUMN \"note\" text;"],
        "{up}"
    );
    assert_eq!(up.matches("ADD COLUMN").count(), 1);
    let down = dir.read("migrations/0002_add_items_note.down.sql");
    assert!(
        down.contains("ALTER TABLE \"items\" DROP COLUMN \"note\";"),
        "{down}"
    );
}

#[tokio::test]
async fn making_a_column_required_on_a_table_with_rows_says_how_rows_are_filled() {
    let Some(db) = db().await else { return };
    let dir = Dir::new();
    gen(&dir.0, &tables::<v1::Catalog>(), &Options::default()).unwrap();
    gen(&dir.0, &tables::<v2::Catalog>(), &Options::default()).unwrap();
    assert_eq!(target(&db).migrate(&dir.0).await.unwrap().len(), 2);
    let catalog = v2::Catalog::connect(&db.pool).await.unwrap();
    catalog
        .create_item(v2::ItemCreateInput::new().sku("a-1").title("Anvil"))
        .await
        .unwrap();

    // `note` becomes a `String`, without a default: refused, saying what to pass.
    let err = generate(&dir.0, &tables::<v3::Catalog>(), &Options::default(), None).unwrap_err();
    let MigrationError::Refused { problems } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(problems.len(), 1);
    assert!(
        err.to_string().contains("`--fill items.note=<SQL>`"),
        "{err}"
    );
    assert_eq!(dir.files().len(), 7, "a refusal writes nothing");

    let fill = Options::default().fill("items", "note", "'none given'");
    let third = gen(&dir.0, &tables::<v3::Catalog>(), &fill).unwrap();
    let up = std::fs::read_to_string(&third.migration.up).unwrap();
    assert!(
        up.contains("UPDATE \"items\" SET \"note\" = ('none given') WHERE \"note\" IS NULL;"),
        "{up}"
    );
    target(&db).migrate(&dir.0).await.unwrap();
    let admin = db.admin().await;
    let row = admin
        .query_one(
            &format!("SELECT note, (SELECT is_nullable::text FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'items' AND column_name = 'note') FROM \"{}\".items", db.schema),
            &[&db.schema],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "none given");
    assert_eq!(row.get::<_, String>(1), "NO");
    // The required column now fits the v3 resource.
    v3::Catalog::connect(&db.pool).await.unwrap();
}

#[tokio::test]
async fn all_migrations_give_the_schema_of_create_missing_tables_and_check_is_clean() {
    let Some(migrated) = db().await else { return };
    let Some(created) = TestDb::new().await else {
        return;
    };
    let dir = Dir::new();
    gen(&dir.0, &tables::<v1::Catalog>(), &Options::default()).unwrap();
    gen(&dir.0, &tables::<v2::Catalog>(), &Options::default()).unwrap();
    target(&migrated).migrate(&dir.0).await.unwrap();
    v2::Catalog::connect(&created.pool).await.unwrap();
    let (a, b) = (schema_of(&migrated).await, schema_of(&created).await);
    assert!(
        a.iter().any(|l| l.contains("items_unique_sku_index")),
        "{a:#?}"
    );
    assert!(
        a.iter()
            .any(|l| l.starts_with("column items version bigint NO 1")),
        "{a:#?}"
    );
    // The relationship's foreign keys, the same both ways (the review's table is listed
    // before the tables it refers to: `create_missing_tables` adds its keys once they exist).
    assert!(
        a.contains(&"foreign key S.reviews reviews_item_id_fkey FOREIGN KEY (item_id) REFERENCES S.items(id) ON DELETE CASCADE".to_owned())
            && a.contains(&"foreign key S.reviews reviews_address_id_fkey FOREIGN KEY (address_id) REFERENCES S.addresses(id) ON DELETE RESTRICT".to_owned()),
        "{a:#?}"
    );
    assert_eq!(a, b);
    // The migrated schema is what the resources check for, and `check` reports nothing.
    v2::Catalog::connect(&migrated.pool).await.unwrap();
    assert!(migrations::check(&dir.0, &tables::<v2::Catalog>())
        .unwrap()
        .is_empty());
    let mut out = Vec::new();
    let args = ["check", "--dir", dir.0.to_str().unwrap()].map(String::from);
    let outcome = run(args, &[domain::<v2::Catalog>()], None, &mut out)
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Done, "{}", String::from_utf8_lossy(&out));
}

#[tokio::test]
async fn two_concurrent_migrate_runs_apply_each_migration_once() {
    let Some(db) = db().await else { return };
    let dir = Dir::new();
    gen(&dir.0, &tables::<v1::Catalog>(), &Options::default()).unwrap();
    gen(&dir.0, &tables::<v2::Catalog>(), &Options::default()).unwrap();
    let fill = Options::default().fill("items", "note", "''");
    gen(&dir.0, &tables::<v3::Catalog>(), &fill).unwrap();
    let (a, b) = (target(&db), target(&db));
    let (ra, rb) = tokio::join!(a.migrate(&dir.0), b.migrate(&dir.0));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.len() + rb.len(), 3, "{ra:?} {rb:?}");
    let mut versions: Vec<i64> = ra.iter().chain(&rb).map(|m| m.version).collect();
    versions.sort();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(target(&db).applied().await.unwrap(), [1, 2, 3]);
    assert!(target(&db).migrate(&dir.0).await.unwrap().is_empty());
}

#[tokio::test]
async fn rollback_then_migrate_returns_to_the_same_schema() {
    let Some(db) = db().await else { return };
    let dir = Dir::new();
    gen(&dir.0, &tables::<v1::Catalog>(), &Options::default()).unwrap();
    let after_first = {
        target(&db).migrate(&dir.0).await.unwrap();
        schema_of(&db).await
    };
    gen(&dir.0, &tables::<v2::Catalog>(), &Options::default()).unwrap();
    target(&db).migrate(&dir.0).await.unwrap();
    let full = schema_of(&db).await;
    assert_ne!(after_first, full);

    let undone = target(&db).rollback(&dir.0).await.unwrap().unwrap();
    assert_eq!(undone.id(), "0002_add_items_note");
    assert_eq!(schema_of(&db).await, after_first);
    assert_eq!(target(&db).applied().await.unwrap(), [1]);
    assert_eq!(target(&db).migrate(&dir.0).await.unwrap().len(), 1);
    assert_eq!(schema_of(&db).await, full);

    // All the way down and back up.
    target(&db).rollback(&dir.0).await.unwrap().unwrap();
    target(&db).rollback(&dir.0).await.unwrap().unwrap();
    assert!(target(&db).rollback(&dir.0).await.unwrap().is_none());
    assert!(schema_of(&db).await.is_empty());
    target(&db).migrate(&dir.0).await.unwrap();
    assert_eq!(schema_of(&db).await, full);
}

#[tokio::test]
async fn a_rename_is_refused_without_the_flag_and_keeps_the_data_with_it() {
    let Some(db) = db().await else { return };
    let dir = Dir::new();
    gen(&dir.0, &tables::<v2::Catalog>(), &Options::default()).unwrap();
    target(&db).migrate(&dir.0).await.unwrap();
    let catalog = v2::Catalog::connect(&db.pool).await.unwrap();
    catalog
        .create_item(v2::ItemCreateInput::new().sku("b-2").title("Bellows"))
        .await
        .unwrap();

    let err = generate(&dir.0, &tables::<v4::Catalog>(), &Options::default(), None).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("column `items.title` is gone and column `name` is new")
            && message.contains("--rename-column items.title=name")
            && message.contains("--allow-drop"),
        "{message}"
    );
    assert_eq!(dir.files().len(), 5, "a refusal writes nothing");

    // The same through the command line: exit status 1 with the message.
    let mut out = Vec::new();
    let args = ["generate", "--dir", dir.0.to_str().unwrap()].map(String::from);
    let refused = run(args, &[domain::<v4::Catalog>()], None, &mut out).await;
    assert!(matches!(refused, Err(MigrationError::Refused { .. })));

    let args = [
        "generate",
        "--dir",
        dir.0.to_str().unwrap(),
        "--rename-column",
        "items.title=name",
        "--name",
        "rename_title",
    ]
    .map(String::from);
    let outcome = run(args, &[domain::<v4::Catalog>()], None, &mut out)
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Done);
    let up = dir.read("migrations/0002_rename_title.up.sql");
    assert!(
        up.contains("ALTER TABLE \"items\" RENAME COLUMN \"title\" TO \"name\";"),
        "{up}"
    );
    assert!(!up.contains("DROP COLUMN"), "{up}");
    target(&db).migrate(&dir.0).await.unwrap();
    let admin = db.admin().await;
    let row = admin
        .query_one(&format!("SELECT name FROM \"{}\".items", db.schema), &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Bellows");
}

#[tokio::test]
async fn the_command_line_checks_migrates_and_keeps_the_password_out() {
    let dir = Dir::new();
    let d = dir.0.to_str().unwrap().to_owned();
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut out = Vec::new();
    let domains = [domain::<v1::Catalog>()];
    assert_eq!(
        run(args(&["check", "--dir", &d]), &domains, None, &mut out)
            .await
            .unwrap(),
        Outcome::Differs
    );
    let printed = String::from_utf8_lossy(&out).to_string();
    assert!(printed.contains("  * create table items"), "{printed}");
    run(args(&["generate", "--dir", &d]), &domains, None, &mut out)
        .await
        .unwrap();
    assert_eq!(
        run(args(&["check", "--dir", &d]), &domains, None, &mut out)
            .await
            .unwrap(),
        Outcome::Done
    );
    assert!(matches!(
        run(args(&["migrate", "--dir", &d]), &domains, None, &mut out).await,
        Err(MigrationError::MissingDatabaseUrl)
    ));
    assert!(matches!(
        run(args(&["frobnicate"]), &domains, None, &mut out).await,
        Err(MigrationError::Usage(_))
    ));
    assert!(matches!(
        run(args(&["check", "--allow-drop"]), &domains, None, &mut out).await,
        Err(MigrationError::Usage(_))
    ));
    let err = run(
        args(&["migrate", "--dir", &d]),
        &domains,
        Some("postgres://postgres:hunter2secret@127.0.0.1:1/test"),
        &mut out,
    )
    .await
    .unwrap_err();
    assert!(!err.to_string().contains("hunter2secret"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2secret"), "{err:?}");

    let Some(db) = db().await else { return };
    let url = pg_support::url();
    let migrate = args(&["migrate", "--dir", &d, "--schema", &db.schema]);
    run(migrate.clone(), &domains, Some(&url), &mut out)
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&out).to_string();
    assert!(
        printed.contains("Applied 0001_create_reviews_and_more"),
        "{printed}"
    );
    run(migrate, &domains, Some(&url), &mut out).await.unwrap();
    assert!(String::from_utf8_lossy(&out).contains("Nothing to migrate"));
    v1::Catalog::connect(&db.pool).await.unwrap();
}
