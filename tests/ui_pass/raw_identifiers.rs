// Raw identifiers everywhere the DSL names something: the name is the one without `r#`
// in errors, JSON and the data layer; generated names are valid for keywords.
use ash_rs::prelude::*;

#[resource(domain = Catalog)]
#[actions(
    defaults(read, create = [r#type, r#match, self_]),
    update(r#move, accept = [type], argument(r#ref: String, default = String::from("x"))),
    update(r#struct, accept = [r#match], change = set_attribute(r#type, arg(r#in)), argument(r#in: String)),
)]
#[changes(optimistic_lock(r#loop, on = [update], where = action_is([r#move])))]
#[validations(present(r#type, on = [create]))]
#[derive(Debug, PartialEq)]
pub struct Item {
    #[uuid_primary_key]
    pub id: Uuid,
    pub r#type: String,
    pub r#match: Option<i64>,
    #[attribute(default = 1)]
    pub r#loop: i64,
    // `Self` is no identifier: the generated names fall back to valid ones.
    #[attribute(default = 0)]
    pub self_: i64,
}

#[domain]
#[resources(Item(
    define(r#use, action = create, args = [r#type, match]),
    define(r#where, action = read, get_by = [type], not_found_error = false),
    define(r#move, args = [r#ref]),
    define(r#struct, args = [r#in]),
))]
pub struct Catalog;

fn main() {
    let names: Vec<&str> = <Item as Resource>::ATTRIBUTES
        .iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["id", "type", "match", "loop", "self_"]);
    assert_eq!(<Item as Resource>::field_name(ItemField::Type), "type");

    let catalog = Catalog::new();
    let item = ash_rs::block_on(catalog.r#use("book", Some(3), ItemCreateInput::new())).unwrap();
    assert_eq!(
        (item.r#type.as_str(), item.r#match, item.r#loop),
        ("book", Some(3), 1)
    );
    let moved =
        ash_rs::block_on(catalog.r#move(&item, "r", ItemMoveInput::new().r#type("film"))).unwrap();
    assert_eq!((moved.r#type.as_str(), moved.r#loop), ("film", 2));
    // The lock holds on `move`: the stale copy is refused.
    let stale = ash_rs::block_on(catalog.r#move(&item, "r", ItemMoveInput::new()));
    assert!(stale.unwrap_err().is_stale());
    let renamed = ash_rs::block_on(catalog.r#struct(&moved, "tv", ItemStructInput::new())).unwrap();
    assert_eq!(renamed.r#type, "tv");
    let found = ash_rs::block_on(catalog.r#where("tv")).unwrap();
    assert_eq!(found.map(|i| i.id), Some(item.id));
    let by_handle = Query::<Item>::new().filter(Item::TYPE.eq("tv"));
    let _ = by_handle;

    // JSON keys are the names without `r#`.
    let input: ItemCreateInput =
        ash_rs::input::from_json(r#"{"type": "game", "match": null, "self_": 2}"#).unwrap();
    assert_eq!(input.r#type.as_deref(), Some("game"));
    let err = ash_rs::input::from_json::<ItemCreateInput>(r#"{"r#type": "x"}"#).unwrap_err();
    assert!(err.to_string().contains("r#type"), "{err}");
}
