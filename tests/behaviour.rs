//! The behaviour table of DESIGN.md section 4, row by row, for action-level and global
//! locks.

use ash_rs::error::{ErrorKind, InputType};
use ash_rs::prelude::*;
use ash_rs::value::Value;

// Action-level locks on update and destroy, plus unlocked actions of both types.
#[resource(domain = Locks)]
#[actions(
    defaults(read, create = [title]),
    update(update, accept = [title], change = optimistic_lock(version)),
    update(rename, accept = [title]),
    destroy(destroy, change = optimistic_lock(version)),
    destroy(force_destroy),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub title: String,
    pub summary: Option<String>,
}

// A global lock on every action type.
#[resource(domain = Locks)]
#[actions(defaults(read, create = [title], update = [title], destroy))]
#[changes(optimistic_lock(version, on = [create, update, destroy]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub title: String,
}

// A global lock with the default `on`: create and update, not destroy.
#[resource(domain = Locks)]
#[actions(defaults(read, create = [title], update = [title], destroy))]
#[changes(optimistic_lock(version))]
#[derive(Debug, Clone, PartialEq)]
pub struct Memo {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub title: String,
}

// A global lock on a list of actions; `action_is` is still limited by `on`.
#[resource(domain = Locks)]
#[actions(
    defaults(read, create = [title]),
    update(publish, accept = [title]),
    update(edit, accept = [title]),
    destroy(archive),
)]
#[changes(optimistic_lock(version, where = action_is([publish, archive])))]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub title: String,
}

// `on` widened to destroy, with `action_is`.
#[resource(domain = Locks)]
#[actions(defaults(read, create = [title]), destroy(archive), destroy(purge))]
#[changes(optimistic_lock(version, on = [destroy], where = action_is([archive])))]
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub title: String,
}

// A natural primary key, to create duplicates; the version is writable to test overflow.
#[resource(domain = Locks)]
#[actions(
    defaults(read, create = [code, name, version]),
    update(update, accept = [name], change = optimistic_lock(version)),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Country {
    #[primary_key]
    pub code: String,
    #[attribute(default = 1)]
    pub version: i64,
    pub name: String,
}

#[domain]
#[resources(
    Doc(
        define(create_doc, action = create, args = [title]),
        define(create_doc_from, action = create),
        define(get_doc, action = read, get_by = [id]),
        define(find_doc_by_title, action = read, get_by = [title], not_found_error = false),
        define(get_doc_by_title, action = read, get_by = [title]),
        define(list_docs, action = read),
        define(update_doc, action = update),
        define(update_doc_by_id, action = update, get_by = [id]),
        define(rename_doc, action = rename, args = [title]),
        define(destroy_doc, action = destroy),
        define(force_destroy_doc, action = force_destroy),
    ),
    Note(
        define(create_note, action = create, args = [title]),
        define(get_note, action = read, get_by = [id]),
        define(update_note, action = update, args = [title]),
        define(destroy_note, action = destroy),
    ),
    Memo(
        define(create_memo, action = create, args = [title]),
        define(update_memo, action = update, args = [title]),
        define(destroy_memo, action = destroy),
        define(get_memo, action = read, get_by = [id], not_found_error = false),
    ),
    Post(
        define(create_post, action = create, args = [title]),
        define(publish, args = [title]),
        define(edit, args = [title]),
        define(archive),
        define(get_post, action = read, get_by = [id], not_found_error = false),
    ),
    Page(
        define(create_page, action = create, args = [title]),
        define(archive_page, action = archive),
        define(purge_page, action = purge),
        define(get_page, action = read, get_by = [id], not_found_error = false),
    ),
    Country(
        define(create_country, action = create, args = [code, name]),
        define(create_country_with, action = create),
        define(get_country, action = read, get_by = [code]),
        define(update_country, action = update, args = [name]),
    ),
)]
pub struct Locks;

fn stale(err: &Error) -> &ash_rs::error::StaleRecord {
    assert!(
        matches!(err, Error::Invalid { .. }),
        "expected Invalid, got {err:?}"
    );
    assert_eq!(err.errors().len(), 1, "{err:?}");
    err.stale_record()
        .unwrap_or_else(|| panic!("expected StaleRecord, got {err:?}"))
}

#[test]
fn create_stores_the_default_version() {
    let d = Locks::new();
    assert_eq!(d.create_doc("a").unwrap().version, 1);
    // Even with the lock applied to create, the version keeps its default (Ash 3.32 stores 2).
    assert_eq!(d.create_note("a").unwrap().version, 1);
    assert_eq!(d.create_memo("a").unwrap().version, 1);
}

#[test]
fn update_with_matching_version_bumps_it_also_when_nothing_else_changes() {
    let d = Locks::new();
    let doc = d.create_doc("a").unwrap();
    let same = d.update_doc(&doc, DocUpdateInput::new()).unwrap();
    assert_eq!((same.version, same.title.as_str()), (2, "a"));
    let changed = d
        .update_doc(&same, DocUpdateInput::new().title("b"))
        .unwrap();
    assert_eq!((changed.version, changed.title.as_str()), (3, "b"));
    assert_eq!(d.get_doc(doc.id).unwrap(), changed);
}

#[test]
fn stale_update_is_refused_and_writes_nothing() {
    let d = Locks::new();
    let doc = d.create_doc("a").unwrap();
    let fresh = d
        .update_doc(&doc, DocUpdateInput::new().title("b"))
        .unwrap();
    let err = d
        .update_doc(&doc, DocUpdateInput::new().title("c"))
        .unwrap_err();
    let s = stale(&err);
    assert_eq!(s.resource, "Doc");
    assert_eq!(s.filter.get("version"), Some(&Value::Int(1)));
    assert_eq!(
        s.to_string(),
        "Attempted to update stale record of Doc with filter: version == 1"
    );
    assert_eq!(d.get_doc(doc.id).unwrap(), fresh);
    // A stale handle keeps failing on retry.
    assert!(d
        .update_doc(&doc, DocUpdateInput::new())
        .unwrap_err()
        .is_stale());
    assert_eq!(d.get_doc(doc.id).unwrap(), fresh);
}

#[test]
fn actions_without_the_lock_do_not_check_or_bump() {
    let d = Locks::new();
    let doc = d.create_doc("a").unwrap();
    let renamed = d.rename_doc(&doc, "b").unwrap();
    assert_eq!(renamed.version, 1);
    // Same stale snapshot, unlocked action: last write wins, as the user asked.
    let again = d.rename_doc(&doc, "c").unwrap();
    assert_eq!((again.version, again.title.as_str()), (1, "c"));
}

#[test]
fn update_or_destroy_of_a_missing_record_is_stale_with_the_primary_key() {
    let d = Locks::new();
    let doc = d.create_doc("a").unwrap();
    d.force_destroy_doc(&doc).unwrap();
    let err = d
        .update_doc(&doc, DocUpdateInput::new().title("b"))
        .unwrap_err();
    let s = stale(&err);
    assert_eq!(s.filter.get("id"), Some(&Value::Uuid(doc.id)));
    assert_eq!(
        s.to_string(),
        format!(
            "Attempted to update stale record of Doc with filter: id == \"{}\"",
            doc.id
        )
    );
    let err = d.destroy_doc(&doc).unwrap_err();
    assert_eq!(stale(&err).operation, "destroy");
    assert_eq!(stale(&err).filter.get("id"), Some(&Value::Uuid(doc.id)));
    // And an unlocked destroy of a missing record too: it is not silently "ok".
    assert!(d.force_destroy_doc(&doc).unwrap_err().is_stale());
    assert!(d.list_docs().unwrap().is_empty());
}

#[test]
fn destroy_with_the_lock_compares_only() {
    let d = Locks::new();
    let doc = d.create_doc("a").unwrap();
    let fresh = d
        .update_doc(&doc, DocUpdateInput::new().title("b"))
        .unwrap();
    let err = d.destroy_doc(&doc).unwrap_err();
    let s = stale(&err);
    assert_eq!(
        s.to_string(),
        "Attempted to destroy stale record of Doc with filter: version == 1"
    );
    assert_eq!(d.get_doc(doc.id).unwrap(), fresh, "the row stays");
    d.destroy_doc(&fresh).unwrap();
    assert!(d.get_doc(doc.id).unwrap_err().is_not_found());
}

#[test]
fn global_lock_on_all_types() {
    let d = Locks::new();
    let note = d.create_note("a").unwrap();
    let fresh = d.update_note(&note, "b").unwrap();
    assert_eq!(fresh.version, 2);
    assert!(d.update_note(&note, "c").unwrap_err().is_stale());
    let err = d.destroy_note(&note).unwrap_err();
    assert_eq!(stale(&err).operation, "destroy");
    assert_eq!(d.get_note(note.id).unwrap(), fresh);
    d.destroy_note(&fresh).unwrap();
    assert!(d.get_note(note.id).unwrap_err().is_not_found());
}

#[test]
fn global_lock_defaults_to_create_and_update() {
    let d = Locks::new();
    let memo = d.create_memo("a").unwrap();
    let fresh = d.update_memo(&memo, "b").unwrap();
    assert!(d.update_memo(&memo, "c").unwrap_err().is_stale());
    assert_eq!(d.get_memo(memo.id).unwrap(), Some(fresh));
    // Destroy is not in the default `on`: a stale destroy goes through.
    d.destroy_memo(&memo).unwrap();
    assert_eq!(d.get_memo(memo.id).unwrap(), None);
}

#[test]
fn global_lock_where_action_is_is_limited_by_on() {
    let d = Locks::new();
    let post = d.create_post("a").unwrap();
    let published = d.publish(&post, "b").unwrap();
    assert_eq!(published.version, 2);
    assert!(d.publish(&post, "c").unwrap_err().is_stale());
    // `edit` is not listed: no check, no bump.
    let edited = d.edit(&post, "d").unwrap();
    assert_eq!(edited.version, 2);
    // `archive` is listed but is a destroy, and `on` defaults to [create, update].
    d.archive(&post).unwrap();
    assert_eq!(d.get_post(post.id).unwrap(), None);

    let page = d.create_page("a").unwrap();
    let other = d.create_page("b").unwrap();
    // `on = [destroy]` with `action_is([archive])`: archive is locked, purge is not.
    let stale_page = Page {
        version: 0,
        ..page.clone()
    };
    assert!(d.archive_page(&stale_page).unwrap_err().is_stale());
    assert!(d.get_page(page.id).unwrap().is_some());
    d.archive_page(&page).unwrap();
    d.purge_page(&Page {
        version: 0,
        ..other.clone()
    })
    .unwrap();
    assert_eq!(d.get_page(other.id).unwrap(), None);
}

#[test]
fn duplicate_primary_key_on_create_is_invalid_and_never_overwrites() {
    let d = Locks::new();
    let fr = d
        .create_country("FR", "France", CountryCreateInput::new())
        .unwrap();
    let err = d
        .create_country("FR", "Frankreich", CountryCreateInput::new())
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }));
    assert!(
        matches!(err.errors(), [ErrorKind::AlreadyExists(_)]),
        "{err:?}"
    );
    assert_eq!(
        err.errors()[0].to_string(),
        "Country with code == \"FR\" already exists"
    );
    assert_eq!(d.get_country("FR").unwrap(), fr);
}

#[test]
fn get_by_returns_exactly_one() {
    let d = Locks::new();
    let a = d.create_doc("same").unwrap();
    d.create_doc("same").unwrap();
    let c = d.create_doc("unique").unwrap();

    assert_eq!(d.get_doc_by_title("unique").unwrap(), c);
    assert_eq!(d.find_doc_by_title("unique").unwrap(), Some(c));
    assert_eq!(d.find_doc_by_title("none").unwrap(), None);

    let err = d.get_doc_by_title("none").unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }));
    assert!(err.is_not_found());
    assert_eq!(
        err.errors()[0].to_string(),
        "record of Doc with title == \"none\" not found"
    );

    let err = d.get_doc_by_title("same").unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }));
    assert!(matches!(&err.errors()[0], ErrorKind::MultipleResults(m) if m.count == 2));
    assert!(matches!(
        d.find_doc_by_title("same").unwrap_err().errors(),
        [ErrorKind::MultipleResults(_)]
    ));

    assert_eq!(d.get_doc(a.id).unwrap(), a);
    assert!(d.get_doc(Uuid::new_v4()).unwrap_err().is_not_found());
    assert_eq!(d.list_docs().unwrap().len(), 3);
}

#[test]
fn update_through_get_by_reads_the_fresh_record() {
    let d = Locks::new();
    let doc = d.create_doc("a").unwrap();
    d.update_doc(&doc, DocUpdateInput::new().title("b"))
        .unwrap();
    let updated = d
        .update_doc_by_id(doc.id, DocUpdateInput::new().title("c"))
        .unwrap();
    assert_eq!((updated.version, updated.title.as_str()), (3, "c"));
    assert!(d
        .update_doc_by_id(Uuid::new_v4(), DocUpdateInput::new())
        .unwrap_err()
        .is_not_found());
}

#[test]
fn missing_required_attribute_on_create() {
    let d = Locks::new();
    let err = d.create_doc_from(DocCreateInput::new()).unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }));
    let [ErrorKind::Required(required)] = err.errors() else {
        panic!("{err:?}")
    };
    assert_eq!(required.field, "title");
    assert_eq!(required.r#type, InputType::Attribute);
    assert_eq!(required.resource, "Doc");
    assert_eq!(err.errors()[0].to_string(), "attribute title is required");
    assert!(d.list_docs().unwrap().is_empty(), "nothing stored");

    // Several missing attributes are all reported.
    let err = d
        .create_country_with(CountryCreateInput::new())
        .unwrap_err();
    let fields: Vec<_> = err.errors().iter().filter_map(ErrorKind::field).collect();
    assert_eq!(fields, ["code", "name"]);
}

#[test]
fn nilable_attributes_default_to_none() {
    let d = Locks::new();
    let doc = d.create_doc("a").unwrap();
    assert_eq!(doc.summary, None);
}

#[test]
fn version_overflow_is_an_error_and_writes_nothing() {
    let d = Locks::new();
    let max = d
        .create_country_with(
            CountryCreateInput::new()
                .code("XX")
                .name("Max")
                .version(i64::MAX),
        )
        .unwrap();
    let err = d.update_country(&max, "Wrapped").unwrap_err();
    assert!(
        matches!(err.errors(), [ErrorKind::Overflow(o)] if o.field == "version"),
        "{err:?}"
    );
    assert_eq!(d.get_country("XX").unwrap(), max);
}

#[test]
fn errors_serialize_with_their_class_and_fields() {
    let d = Locks::new();
    let doc = d.create_doc("a").unwrap();
    d.update_doc(&doc, DocUpdateInput::new()).unwrap();
    let err = d.update_doc(&doc, DocUpdateInput::new()).unwrap_err();
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["class"], "invalid");
    assert_eq!(json["errors"][0]["type"], "stale_record");
    assert_eq!(json["errors"][0]["resource"], "Doc");
    assert_eq!(json["errors"][0]["filter"]["cmp"]["field"], "version");
    assert_eq!(json["errors"][0]["filter"]["cmp"]["value"], 1);
}
