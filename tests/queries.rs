//! Read actions and typed queries: every operator (with nils), combinations, sorting,
//! limit and offset edges, `get`, offset and keyset pages.

use ash_rs::prelude::*;
use std::collections::HashSet;

#[resource(domain = Catalog)]
#[actions(
    defaults(read, create = [name, price, stock, note, tags]),
    read(in_stock, filter = Product::STOCK.gt(0)),
    read(only_cheap, get = true, filter = Product::PRICE.lt(2)),
    read(pages, pagination(offset, keyset, default_limit = 2, max_page_size = 3, countable)),
    read(offset_only, pagination(offset = true, default_limit = 10)),
    read(
        by_price,
        argument(max_price: i64),
        argument(min_stock: i64, default = 0),
        filter = Product::PRICE.lte(args.max_price.unwrap_or_default()) & Product::STOCK.gte(args.min_stock.unwrap_or_default()),
    ),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    #[uuid_primary_key]
    pub id: Uuid,
    pub name: String,
    pub price: i64,
    #[attribute(default = 0)]
    pub stock: i64,
    pub note: Option<String>,
    #[attribute(default = Vec::new())]
    pub tags: Vec<String>,
}

#[domain]
#[resources(Product(
    define(add, action = create, args = [name, price]),
    define(in_stock),
    define(only_cheap, not_found_error = false),
    define(pages),
    define(offset_only),
    define(product_by_name, action = read, get_by = [name]),
    define(by_price, args = [max_price]),
))]
pub struct Catalog;

/// name, price, stock, note, tags
type Row = (
    &'static str,
    i64,
    i64,
    Option<&'static str>,
    &'static [&'static str],
);

async fn seed() -> Catalog {
    let c = Catalog::new();
    let rows: [Row; 5] = [
        ("apple", 3, 10, Some("red fruit"), &["fruit", "red"]),
        ("banana", 1, 0, None, &["fruit"]),
        ("carrot", 2, 5, Some("orange root"), &["vegetable"]),
        ("date", 5, 0, Some("sweet"), &["fruit", "dried"]),
        ("eggplant", 4, 2, None, &[]),
    ];
    for (name, price, stock, note, tags) in rows {
        c.add(
            name,
            price,
            ProductCreateInput::new()
                .stock(stock)
                .note(note.map(str::to_owned))
                .tags(tags.iter().map(|t| t.to_string()).collect::<Vec<_>>()),
        )
        .await
        .unwrap();
    }
    c
}

async fn names(c: &Catalog, query: Query<Product>) -> Vec<String> {
    ash_rs::api::read(
        c,
        ProductReadInput::new(),
        query.sort_by(Product::NAME.asc()),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|p| p.name)
    .collect()
}

async fn filtered(c: &Catalog, filter: Filter<Product>) -> Vec<String> {
    names(c, Query::new().filter(filter)).await
}

#[tokio::test]
async fn comparison_operators() {
    let c = seed().await;
    assert_eq!(filtered(&c, Product::PRICE.eq(3)).await, ["apple"]);
    assert_eq!(
        filtered(&c, Product::PRICE.not_eq(3)).await,
        ["banana", "carrot", "date", "eggplant"]
    );
    assert_eq!(
        filtered(&c, Product::PRICE.lt(3)).await,
        ["banana", "carrot"]
    );
    assert_eq!(
        filtered(&c, Product::PRICE.lte(3)).await,
        ["apple", "banana", "carrot"]
    );
    assert_eq!(
        filtered(&c, Product::PRICE.gt(3)).await,
        ["date", "eggplant"]
    );
    assert_eq!(
        filtered(&c, Product::PRICE.gte(3)).await,
        ["apple", "date", "eggplant"]
    );
    assert_eq!(
        filtered(&c, Product::NAME.is_in(["date", "apple", "zucchini"])).await,
        ["apple", "date"]
    );
    assert!(filtered(&c, Product::NAME.is_in(Vec::<String>::new()))
        .await
        .is_empty());
    assert_eq!(
        filtered(&c, Product::NAME.contains("an")).await,
        ["banana", "eggplant"]
    );
    assert_eq!(
        filtered(&c, Product::TAGS.contains(vec!["fruit".to_owned()])).await,
        ["apple", "banana", "date"]
    );
}

#[tokio::test]
async fn nil_matches_no_comparison() {
    let c = seed().await;
    assert_eq!(
        filtered(&c, Product::NOTE.is_nil()).await,
        ["banana", "eggplant"]
    );
    assert_eq!(
        filtered(&c, !Product::NOTE.is_nil()).await,
        ["apple", "carrot", "date"]
    );
    // `note != "sweet"` is not true for nil notes, as in Ash.
    assert_eq!(
        filtered(&c, Product::NOTE.not_eq("sweet")).await,
        ["apple", "carrot"]
    );
    assert_eq!(filtered(&c, Product::NOTE.eq("sweet")).await, ["date"]);
    assert_eq!(
        filtered(&c, Product::NOTE.contains("r")).await,
        ["apple", "carrot"]
    );
    assert_eq!(
        filtered(&c, Product::NOTE.gt("a")).await,
        ["apple", "carrot", "date"]
    );
}

#[tokio::test]
async fn combinations() {
    let c = seed().await;
    assert_eq!(
        filtered(&c, Product::PRICE.gt(1) & Product::STOCK.eq(0)).await,
        ["date"]
    );
    assert_eq!(
        filtered(&c, Product::PRICE.eq(1) | Product::PRICE.eq(5)).await,
        ["banana", "date"]
    );
    assert_eq!(
        filtered(
            &c,
            !(Product::PRICE.eq(1) | Product::PRICE.eq(5)) & Product::NOTE.is_nil()
        )
        .await,
        ["eggplant"]
    );
    // Two `.filter` calls are ANDed.
    assert_eq!(
        names(
            &c,
            Query::new()
                .filter(Product::PRICE.gt(1))
                .filter(Product::PRICE.lt(4))
        )
        .await,
        ["apple", "carrot"]
    );
}

#[tokio::test]
async fn sorting_with_nils_and_ties() {
    let c = seed().await;
    async fn sorted(c: &Catalog, key: (ProductField, SortOrder)) -> Vec<String> {
        ash_rs::api::read(c, ProductReadInput::new(), Query::new().sort_by(key))
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect()
    }
    assert_eq!(
        sorted(&c, Product::PRICE.asc()).await,
        ["banana", "carrot", "apple", "eggplant", "date"]
    );
    assert_eq!(
        sorted(&c, Product::PRICE.desc()).await,
        ["date", "eggplant", "apple", "carrot", "banana"]
    );
    // nils last ascending, first descending.
    let nils_last = sorted(&c, Product::NOTE.asc()).await;
    assert_eq!(&nils_last[..3], ["carrot", "apple", "date"]);
    let mut tail = nils_last[3..].to_vec();
    tail.sort();
    assert_eq!(tail, ["banana", "eggplant"]);
    let nils_first = sorted(&c, Product::NOTE.desc()).await;
    let mut head = nils_first[..2].to_vec();
    head.sort();
    assert_eq!(head, ["banana", "eggplant"]);
    assert_eq!(&nils_first[2..], ["date", "apple", "carrot"]);
    // Equal keys keep a stable order (by primary key): the same on every read.
    let first = sorted(&c, Product::STOCK.asc()).await;
    for _ in 0..5 {
        assert_eq!(sorted(&c, Product::STOCK.asc()).await, first);
    }
    // Several keys: stock descending, then name descending.
    let multi: Vec<String> = ash_rs::api::read(
        &c,
        ProductReadInput::new(),
        Query::new()
            .sort_by(Product::STOCK.asc())
            .sort_by(Product::NAME.desc()),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|p| p.name)
    .collect();
    assert_eq!(multi, ["date", "banana", "eggplant", "carrot", "apple"]);
}

#[tokio::test]
async fn limit_and_offset_edges() {
    let c = seed().await;
    assert!(names(&c, Query::new().limit(0)).await.is_empty());
    assert_eq!(names(&c, Query::new().limit(2)).await, ["apple", "banana"]);
    assert_eq!(
        names(&c, Query::new().offset(3)).await,
        ["date", "eggplant"]
    );
    assert_eq!(
        names(&c, Query::new().offset(4).limit(10)).await,
        ["eggplant"]
    );
    assert!(names(&c, Query::new().offset(5)).await.is_empty());
    assert!(names(&c, Query::new().offset(usize::MAX).limit(usize::MAX))
        .await
        .is_empty());
}

#[tokio::test]
async fn read_actions_with_filters_and_get() {
    let c = seed().await;
    let mut in_stock: Vec<String> = c
        .in_stock()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    in_stock.sort();
    assert_eq!(in_stock, ["apple", "carrot", "eggplant"]);
    // `get = true`: exactly one record below price 2.
    assert_eq!(
        c.only_cheap().await.unwrap().map(|p| p.name).as_deref(),
        Some("banana")
    );
    c.add("fig", 1, ProductCreateInput::new()).await.unwrap();
    let err = c.only_cheap().await.unwrap_err();
    assert!(matches!(err.errors(), [ErrorKind::MultipleResults(m)] if m.count == 2));

    assert_eq!(c.product_by_name("carrot").await.unwrap().price, 2);
    assert!(c.product_by_name("kiwi").await.unwrap_err().is_not_found());
    // A get through the action's own filter: the record must match it too.
    let banana = c.product_by_name("banana").await.unwrap();
    let in_stock_banana = ash_rs::api::read_one(
        &c,
        ProductInStockInput::new(),
        Query::new().filter(Product::ID.eq(banana.id)),
    )
    .await
    .unwrap();
    assert_eq!(in_stock_banana, None, "banana has no stock");
}

#[tokio::test]
async fn offset_pages() {
    let c = seed().await;
    let page = c.pages(PageRequest::offset(0).count()).await.unwrap();
    assert_eq!(
        (page.results.len(), page.limit, page.count, page.more),
        (2, 2, Some(5), true)
    );
    let last = c.pages(PageRequest::offset(4)).await.unwrap();
    assert_eq!(
        (last.results.len(), last.more, last.count),
        (1, false, None)
    );
    // max_page_size clamps the requested limit.
    assert_eq!(
        c.pages(PageRequest::offset(0).limit(100))
            .await
            .unwrap()
            .results
            .len(),
        3
    );
    // Not countable: an error, not a silent missing count.
    let err = c
        .offset_only(PageRequest::offset(0).count())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }));
    // Keyset pages on an offset-only action are refused.
    assert!(c.offset_only(PageRequest::first()).await.is_err());
    // Offsets that add up past usize::MAX are a typed error naming the page, not a panic.
    let huge = ash_rs::api::read_page(
        &c,
        ProductPagesInput::new(),
        Query::new().offset(usize::MAX),
        PageRequest::offset(1),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&huge, Error::Invalid { errors } if errors[0].field() == Some("page")),
        "{huge:?}"
    );
    // Each alone is fine: far past the end, nothing.
    let far = c.pages(PageRequest::offset(usize::MAX)).await.unwrap();
    assert!(far.results.is_empty() && !far.more);
}

#[tokio::test]
async fn keyset_pages_visit_every_record_once() {
    let c = seed().await;
    let mut seen = Vec::new();
    let mut request = PageRequest::first();
    loop {
        let page = c.pages(request).await.unwrap();
        seen.extend(page.results.iter().map(|p| p.name.clone()));
        match page.next {
            Some(next) => request = PageRequest::after(next),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["apple", "banana", "carrot", "date", "eggplant"]);
}

#[tokio::test]
async fn keyset_pages_are_stable_under_concurrent_inserts() {
    let c = Catalog::new();
    for i in 0..200 {
        c.add(format!("p{i:04}"), i, ProductCreateInput::new())
            .await
            .unwrap();
    }
    let before: HashSet<Uuid> = ash_rs::api::read(&c, ProductReadInput::new(), Query::new())
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    let writer = {
        let c = c.clone();
        // An OS thread on the sync path, writing while the test pages.
        std::thread::spawn(move || {
            for i in 0..500 {
                ash_rs::block_on(c.add(format!("new{i}"), i % 300, ProductCreateInput::new()))
                    .unwrap();
            }
        })
    };
    let mut seen: Vec<Uuid> = Vec::new();
    let query = || Query::new().sort_by(Product::PRICE.asc());
    let mut page = ash_rs::api::read_page(
        &c,
        ProductPagesInput::new(),
        query(),
        PageRequest::first().limit(3),
    )
    .await
    .unwrap();
    loop {
        seen.extend(page.results.iter().map(|p| p.id));
        let Some(next) = page.next.clone() else { break };
        page = ash_rs::api::read_page(
            &c,
            ProductPagesInput::new(),
            query(),
            PageRequest::after(next).limit(3),
        )
        .await
        .unwrap();
    }
    writer.join().unwrap();
    let unique: HashSet<Uuid> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no record is seen twice");
    assert!(
        before.is_subset(&unique),
        "every record present before paging is seen"
    );
}

#[tokio::test]
async fn read_action_arguments() {
    let c = seed().await;
    let mut cheap: Vec<String> = c
        .by_price(3, ProductByPriceInput::new())
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    cheap.sort();
    assert_eq!(cheap, ["apple", "banana", "carrot"]);
    let mut stocked: Vec<String> = c
        .by_price(3, ProductByPriceInput::new().min_stock(1))
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    stocked.sort();
    assert_eq!(stocked, ["apple", "carrot"]);
    // A required argument left out is `Required { type: argument }`.
    let err = ash_rs::api::read(&c, ProductByPriceInput::new(), Query::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }));
    assert_eq!(
        err.errors()[0].to_string(),
        "argument max_price is required"
    );
}

/// `get` by primary key takes a short path when the query is only a filter; every other
/// shape (the action's own filter, an offset, a limit, a sort, a key inside an `and`) must
/// give the answer the general path gives.
#[tokio::test]
async fn get_by_key_agrees_with_the_general_path() {
    let c = seed().await;
    let banana = c.product_by_name("banana").await.unwrap();
    let carrot = c.product_by_name("carrot").await.unwrap();
    let get = |query| ash_rs::api::get(&c, ProductReadInput::new(), query);
    let get_in_stock = |query| ash_rs::api::get(&c, ProductInStockInput::new(), query);

    // Exactly the key: found, or NotFound naming the key.
    let found = get(Query::new().filter(Product::ID.eq(banana.id))).await;
    assert_eq!(found.unwrap(), banana);
    let missing = Uuid::new_v4();
    let err = get(Query::new().filter(Product::ID.eq(missing)))
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert!(err.to_string().contains(&missing.to_string()), "{err}");

    // The action's own filter still applies: banana has no stock, carrot has.
    let err = get_in_stock(Query::new().filter(Product::ID.eq(banana.id)))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let found = get_in_stock(Query::new().filter(Product::ID.eq(carrot.id))).await;
    assert_eq!(found.unwrap(), carrot);

    // An offset past the one match finds nothing; a limit or a sort changes nothing.
    let key = || Query::new().filter(Product::ID.eq(carrot.id));
    assert!(get(key().offset(1)).await.unwrap_err().is_not_found());
    assert!(get(key().limit(0)).await.unwrap_err().is_not_found());
    assert_eq!(get(key().limit(1)).await.unwrap(), carrot);
    let read_one = |query| ash_rs::api::read_one(&c, ProductReadInput::new(), query);
    assert_eq!(read_one(key().offset(1)).await.unwrap(), None);
    assert_eq!(read_one(key()).await.unwrap(), Some(carrot.clone()));
    assert_eq!(
        get(key().sort_by(Product::NAME.desc())).await.unwrap(),
        carrot
    );

    // The key inside an `and`: the rest of the filter is checked on the record.
    let and =
        |price: i64| Query::new().filter(Product::ID.eq(carrot.id) & Product::PRICE.eq(price));
    assert_eq!(get(and(2)).await.unwrap(), carrot);
    assert!(get(and(3)).await.unwrap_err().is_not_found());
}
