// Every kind of attribute and change option that is valid.
use ash_rs::prelude::*;
use std::time::SystemTime;

fn trim(changeset: &mut Changeset<Item>) {
    if let Some(name) = &mut changeset.changes_mut().name {
        *name = name.trim().to_owned();
    }
}

fn named(changeset: &Changeset<Item>) -> Result<(), ErrorKind> {
    match &changeset.changes().name {
        Some(_) => Ok(()),
        None => Err(ErrorKind::unknown("no name")),
    }
}

#[resource(domain = Shop)]
#[actions(
    defaults(read, destroy, create = [name, note, tags]),
    update(update, accept = [name, note], change = optimistic_lock(rev), change = trim),
)]
#[changes(trim(on = [create], where = named))]
#[changes(optimistic_lock(rev, on = [update, destroy], where = action_is([update, destroy])))]
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    #[primary_key]
    #[attribute(default = ash_rs::prelude::Uuid::new_v4().to_string())]
    pub sku: String,
    #[attribute(default = 0, writable = false)]
    pub rev: u32,
    pub name: String,
    pub note: Option<String>,
    #[attribute(default = Vec::new())]
    pub tags: Vec<String>,
    #[create_timestamp]
    pub inserted_at: SystemTime,
    #[update_timestamp]
    pub updated_at: SystemTime,
}

#[domain]
#[resources(Item(
    define(create_item, action = create, args = [name]),
    define(update_item, action = update),
    define(items, action = read),
    define(remove_item, action = destroy),
))]
pub struct Shop;

#[tokio::main]
async fn main() {
    let shop = Shop::new();
    let item = shop
        .create_item(
            "  pen ",
            ItemCreateInput::new().note(Some("blue".to_owned())),
        )
        .await
        .unwrap();
    assert_eq!(item.name, "pen");
    assert_eq!(item.rev, 0);
    let item = shop
        .update_item(&item, ItemUpdateInput::new().note(None))
        .await
        .unwrap();
    assert_eq!((item.rev, item.note.clone()), (1, None));
    shop.remove_item(&item).await.unwrap();
    assert!(shop.items().await.unwrap().is_empty());
}
