//! `manage_relationship`, one suite expanded for ETS and for PostgreSQL
//! (`manage_relationship!` below): every type, the order of operations, an absent argument
//! against an explicit empty list, child actions with their own validations and locks,
//! error paths, what a failure leaves behind (PostgreSQL: nothing, one transaction; ETS:
//! exactly the writes before the failure), and statement counts on PostgreSQL.

#[cfg(feature = "postgres")]
#[path = "pg_support/mod.rs"]
mod pg_support;

macro_rules! manage_relationship {
    (data_layer = [$($data_layer:tt)*], transactions = $transactions:expr $(,)?) => {
        use ash_rs::error::{ErrorKind, PathSegment};
        use ash_rs::manage::NoAction;
        use ash_rs::prelude::*;

        /// Whether the layer rolls back a failed action's earlier writes.
        const TRANSACTIONS: bool = $transactions;

        type LineInput = Managed<OrderLine, OrderLineCreateInput, OrderLineUpdateInput>;

        #[resource(domain = Shop, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read, destroy),
            create(create, accept = [customer],
                argument(lines: Vec<LineInput>, allow_nil = true),
                change = manage_relationship(lines, type = direct_control)),
            update(update, accept = [customer],
                argument(lines: Vec<LineInput>, allow_nil = true),
                change = manage_relationship(lines, type = direct_control)),
            create(create_with_lines, accept = [customer],
                argument(lines: Vec<OrderLineCreateInput>),
                change = manage_relationship(lines, type = create)),
            update(relate_lines, argument(line_ids: Vec<Uuid>),
                change = manage_relationship(line_ids, lines, type = append_and_remove)),
            update(replace_lines, argument(line_ids: Vec<Uuid>),
                change = manage_relationship(line_ids, lines, type = replace)),
            update(append_lines, argument(line_ids: Vec<Uuid>),
                change = manage_relationship(line_ids, lines, type = append)),
            update(remove_lines, argument(line_ids: Vec<Uuid>),
                change = manage_relationship(line_ids, lines, type = remove)),
            update(set_receipt, accept = [customer],
                argument(receipt: Option<ReceiptInput>, allow_nil = true),
                change = manage_relationship(receipt, type = direct_control)),
            update(relate_receipt,
                argument(receipt_id: Option<Managed<Receipt, NoAction<Receipt>, ReceiptUpdateInput>>, allow_nil = true),
                change = manage_relationship(receipt_id, receipt, type = append_and_remove)),
            create(create_with_receipt, accept = [customer],
                argument(receipt: Managed<Receipt, ReceiptCreateInput, NoAction<Receipt>>),
                change = manage_relationship(receipt, type = create)),
            update(append_receipt, argument(receipt_id: ReceiptKey, allow_nil = true),
                change = manage_relationship(receipt_id, receipt, type = append)),
            update(remove_receipt, argument(receipt_id: ReceiptKey, allow_nil = true),
                change = manage_relationship(receipt_id, receipt, type = remove)),
            update(set_tags, accept = [customer],
                argument(tags: Vec<TagInput>, allow_nil = true),
                change = manage_relationship(tags, type = direct_control)),
            create(create_with_tags, accept = [customer],
                argument(tags: Vec<TagCreateInput>),
                change = manage_relationship(tags, type = create)),
            update(tag, argument(tag_ids: Vec<Uuid>),
                change = manage_relationship(tag_ids, tags, type = append_and_remove)),
            update(append_tags, argument(tag_ids: Vec<Uuid>),
                change = manage_relationship(tag_ids, tags, type = append)),
            update(remove_tags, argument(tag_ids: Vec<Uuid>),
                change = manage_relationship(tag_ids, tags, type = remove)),
        )]
        #[relationships(
            has_many(lines, OrderLine, destination_attribute = order_id),
            has_one(receipt, Receipt, destination_attribute = order_id),
            many_to_many(tags, Tag, through = OrderTag),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Order {
            #[uuid_primary_key]
            pub id: Uuid,
            pub customer: String,
        }

        #[resource(domain = Shop, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read, destroy),
            create(create, accept = [product, qty, order_id], validate = compare(qty, greater_than = 0)),
            update(update, accept = [product, qty], change = optimistic_lock(version),
                validate = compare(qty, greater_than = 0)),
            create(create_for_order, accept = [product, qty],
                argument(order: Managed<Order, OrderCreateInput, NoAction<Order>>),
                change = manage_relationship(order, type = create)),
            update(move_to_order,
                argument(order: Option<Managed<Order, NoAction<Order>, OrderUpdateInput>>, allow_nil = true),
                change = manage_relationship(order, type = append_and_remove)),
        )]
        #[relationships(belongs_to(order, Order))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct OrderLine {
            #[uuid_primary_key]
            pub id: Uuid,
            pub product: String,
            pub qty: i64,
            #[attribute(default = 1)]
            pub version: i64,
        }

        type ReceiptInput = Managed<Receipt, ReceiptCreateInput, ReceiptUpdateInput>;
        type ReceiptKey = Option<Managed<Receipt, NoAction<Receipt>, ReceiptUpdateInput>>;

        #[resource(domain = Shop, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read, destroy),
            create(create, accept = [total, order_id], validate = compare(total, greater_than = 0)),
            update(update, accept = [total], validate = compare(total, greater_than = 0)),
        )]
        #[relationships(belongs_to(order, Order))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Receipt {
            #[uuid_primary_key]
            pub id: Uuid,
            pub total: i64,
        }

        type TagInput = Managed<Tag, TagCreateInput, TagUpdateInput>;

        #[resource(domain = Shop, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read, destroy),
            create(create, accept = [label, rank], validate = compare(rank, greater_than = 0)),
            update(update, accept = [label, rank], validate = compare(rank, greater_than = 0)),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Tag {
            #[uuid_primary_key]
            pub id: Uuid,
            pub label: String,
            pub rank: i64,
        }

        #[resource(domain = Shop, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [order_id, tag_id]))]
        #[relationships(belongs_to(order, Order, allow_nil = false), belongs_to(tag, Tag, allow_nil = false))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct OrderTag {
            #[uuid_primary_key]
            pub id: Uuid,
        }

        #[domain]
        #[resources(
            Order(define(orders, action = read), define(update_order, action = update)),
            OrderLine(define(order_lines, action = read), define(update_line, action = update)),
            Receipt(define(receipts, action = read)),
            Tag(define(all_tags, action = read)),
            OrderTag(define(order_tags, action = read)),
        )]
        pub struct Shop;

        fn line(product: &str, qty: i64) -> LineInput {
            Managed::Create(OrderLineCreateInput::new().product(product).qty(qty))
        }

        fn change(stored: &OrderLine, qty: i64) -> LineInput {
            Managed::Update(stored.clone(), OrderLineUpdateInput::new().qty(qty))
        }

        async fn create_order(shop: &Shop, lines: Vec<LineInput>) -> Result<Order, Error> {
            ash_rs::api::create(shop, OrderCreateInput::new().customer("ann").lines(lines)).await
        }

        /// Every stored line, sorted by product.
        async fn stored_lines(shop: &Shop) -> Vec<OrderLine> {
            let mut lines = shop.order_lines().await.unwrap();
            lines.sort_by(|a, b| a.product.cmp(&b.product));
            lines
        }

        fn products(lines: &[OrderLine]) -> Vec<&str> {
            lines.iter().map(|l| l.product.as_str()).collect()
        }

        fn loaded(order: &Order) -> &[OrderLine] {
            order.lines.get().unwrap()
        }

        /// An order with lines a, b, c.
        async fn order_abc(shop: &Shop) -> Order {
            create_order(shop, vec![line("a", 1), line("b", 2), line("c", 3)]).await.unwrap()
        }

        /// A line of no order.
        async fn loose_line(shop: &Shop, product: &str) -> OrderLine {
            ash_rs::api::create(shop, OrderLineCreateInput::new().product(product).qty(1i64))
                .await
                .unwrap()
        }

        #[tokio::test]
        async fn direct_control_create_writes_the_order_and_its_lines() {
            let Some(shop) = connect().await else { return };
            let order = order_abc(&shop).await;
            assert_eq!(products(loaded(&order)), ["a", "b", "c"]);
            let stored = stored_lines(&shop).await;
            assert_eq!(products(&stored), ["a", "b", "c"]);
            assert!(stored.iter().all(|l| l.order_id == Some(order.id) && l.version == 1));
            assert_eq!(loaded(&order).iter().map(|l| l.id).collect::<Vec<_>>(),
                stored.iter().map(|l| l.id).collect::<Vec<_>>());
        }

        #[tokio::test]
        async fn an_absent_argument_does_nothing() {
            let Some(shop) = connect().await else { return };
            let order = order_abc(&shop).await;
            let updated = shop.update_order(&order, OrderUpdateInput::new().customer("bob")).await.unwrap();
            assert_eq!(updated.customer, "bob");
            assert!(!updated.lines.is_loaded());
            assert_eq!(products(&stored_lines(&shop).await), ["a", "b", "c"]);
        }

        #[tokio::test]
        async fn an_explicit_empty_list_destroys_every_line() {
            let Some(shop) = connect().await else { return };
            let order = order_abc(&shop).await;
            let updated = shop.update_order(&order, OrderUpdateInput::new().lines(vec![])).await.unwrap();
            assert!(loaded(&updated).is_empty());
            assert!(stored_lines(&shop).await.is_empty());
        }

        #[tokio::test]
        async fn direct_control_update_updates_creates_and_destroys() {
            let Some(shop) = connect().await else { return };
            let order = order_abc(&shop).await;
            let a = loaded(&order)[0].clone();
            let updated = shop
                .update_order(&order, OrderUpdateInput::new().lines(vec![line("d", 4), change(&a, 10)]))
                .await
                .unwrap();
            // The result in input order: d created, a updated.
            assert_eq!(products(loaded(&updated)), ["d", "a"]);
            let stored = stored_lines(&shop).await;
            assert_eq!(products(&stored), ["a", "d"]);
            assert_eq!((stored[0].qty, stored[0].version), (10, 2));
            assert_eq!((stored[1].qty, stored[1].version, stored[1].order_id), (4, 1, Some(order.id)));
        }

        #[tokio::test]
        async fn a_stale_line_fails_the_whole_update_at_its_path() {
            let Some(shop) = connect().await else { return };
            let order = order_abc(&shop).await;
            let [a, b, c] = <[OrderLine; 3]>::try_from(loaded(&order).to_vec()).unwrap();
            // Someone else changes c: the caller's copy is stale.
            shop.update_line(&c, OrderLineUpdateInput::new().qty(30)).await.unwrap();
            let err = shop
                .update_order(
                    &order,
                    OrderUpdateInput::new()
                        .customer("bob")
                        .lines(vec![change(&a, 11), change(&b, 12), change(&c, 13)]),
                )
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
            let stale = err.stale_record().unwrap();
            assert_eq!(stale.resource, "OrderLine");
            // The refusal brings line c as stored (the other writer's qty), through the path.
            let seen = err.stored_record::<OrderLine>().map(|l| (l.id, l.qty, l.version));
            assert_eq!(seen, Some((c.id, 30, 2)));
            assert_eq!(err.errors()[0].path(), [PathSegment::Name("lines"), PathSegment::Index(2)]);
            assert!(err.to_string().contains("lines[2]: Attempted to update stale record of OrderLine"), "{err}");
            let json = serde_json::to_value(&err).unwrap();
            assert_eq!(json["errors"][0]["code"], "nested");
            assert_eq!(json["errors"][0]["path"], serde_json::json!(["lines", 2]));
            assert_eq!(json["errors"][0]["error"]["code"], "stale_record");

            let stored = stored_lines(&shop).await;
            let order_now = shop.orders().await.unwrap().pop().unwrap();
            if TRANSACTIONS {
                // One transaction: the order and lines a and b are as they were.
                assert_eq!(order_now.customer, "ann");
                assert_eq!(stored.iter().map(|l| (l.qty, l.version)).collect::<Vec<_>>(),
                    [(1, 1), (2, 1), (30, 2)]);
            } else {
                // ETS: the writes before the stale line stay: the order's, a's and b's.
                assert_eq!(order_now.customer, "bob");
                assert_eq!(stored.iter().map(|l| (l.qty, l.version)).collect::<Vec<_>>(),
                    [(11, 2), (12, 2), (30, 2)]);
            }
        }

        #[tokio::test]
        async fn an_invalid_line_fails_the_create_at_its_path() {
            let Some(shop) = connect().await else { return };
            let err = create_order(&shop, vec![line("a", 1), line("b", 0), line("c", -1)])
                .await
                .unwrap_err();
            let paths: Vec<_> = err.errors().iter().map(|e| e.path().to_vec()).collect();
            assert_eq!(paths, [
                vec![PathSegment::Name("lines"), PathSegment::Index(1)],
                vec![PathSegment::Name("lines"), PathSegment::Index(2)],
            ]);
            assert!(matches!(err.errors()[0].innermost(), ErrorKind::InvalidAttribute(e) if e.field == "qty"), "{err:?}");
            // Every line is validated before any is written: none is stored.
            assert!(stored_lines(&shop).await.is_empty());
            let orders = shop.orders().await.unwrap();
            if TRANSACTIONS {
                assert!(orders.is_empty());
            } else {
                // ETS: the order's own write stays.
                assert_eq!(orders.len(), 1);
            }
        }

        #[tokio::test]
        async fn create_type_creates_from_create_inputs() {
            let Some(shop) = connect().await else { return };
            let input = OrderCreateWithLinesInput::new().customer("ann").lines(vec![
                OrderLineCreateInput::new().product("x").qty(1i64),
                OrderLineCreateInput::new().product("y").qty(2i64),
            ]);
            let order = ash_rs::api::create(&shop, input).await.unwrap();
            assert_eq!(products(loaded(&order)), ["x", "y"]);
            assert!(stored_lines(&shop).await.iter().all(|l| l.order_id == Some(order.id)));
        }

        #[tokio::test]
        async fn the_forced_key_wins_over_the_input() {
            let Some(shop) = connect().await else { return };
            let other = Uuid::new_v4();
            let order = create_order(&shop, vec![Managed::Create(
                OrderLineCreateInput::new().product("a").qty(1i64).order_id(Some(other)),
            )])
            .await
            .unwrap();
            assert_eq!(stored_lines(&shop).await[0].order_id, Some(order.id));
        }

        #[tokio::test]
        async fn append_and_remove_relates_the_inputs_and_unrelates_the_rest() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![line("a", 1), line("b", 1)]).await.unwrap();
            let b = loaded(&order)[1].clone();
            let loose = loose_line(&shop, "z").await;
            let updated = ash_rs::api::update(&shop, &order,
                OrderRelateLinesInput::new().line_ids(vec![b.id, loose.id])).await.unwrap();
            assert_eq!(products(loaded(&updated)), ["b", "z"]);
            let stored = stored_lines(&shop).await;
            let owners: Vec<_> = stored.iter().map(|l| (l.product.as_str(), l.order_id)).collect();
            assert_eq!(owners, [("a", None), ("b", Some(order.id)), ("z", Some(order.id))]);
        }

        #[tokio::test]
        async fn replace_is_append_and_remove() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![line("a", 1)]).await.unwrap();
            let loose = loose_line(&shop, "z").await;
            ash_rs::api::update(&shop, &order, OrderReplaceLinesInput::new().line_ids(vec![loose.id]))
                .await
                .unwrap();
            let owners: Vec<_> = stored_lines(&shop).await.iter().map(|l| l.order_id).collect();
            assert_eq!(owners, [None, Some(order.id)]);
        }

        #[tokio::test]
        async fn append_relates_without_unrelating() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![line("a", 1)]).await.unwrap();
            let loose = loose_line(&shop, "z").await;
            ash_rs::api::update(&shop, &order, OrderAppendLinesInput::new().line_ids(vec![loose.id]))
                .await
                .unwrap();
            let owners: Vec<_> = stored_lines(&shop).await.iter().map(|l| l.order_id).collect();
            assert_eq!(owners, [Some(order.id), Some(order.id)]);
        }

        #[tokio::test]
        async fn remove_unrelates_the_inputs_only() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![line("a", 1), line("b", 1)]).await.unwrap();
            let a = loaded(&order)[0].clone();
            let updated = ash_rs::api::update(&shop, &order, OrderRemoveLinesInput::new().line_ids(vec![a.id]))
                .await
                .unwrap();
            // The relationship as it is afterwards: b stays (on_missing is ignore).
            assert_eq!(products(loaded(&updated)), ["b"]);
            let owners: Vec<_> = stored_lines(&shop).await.iter().map(|l| l.order_id).collect();
            assert_eq!(owners, [None, Some(order.id)]);
        }

        #[tokio::test]
        async fn remove_of_an_unrelated_line_is_an_error_at_its_path() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![line("a", 1)]).await.unwrap();
            let loose = loose_line(&shop, "z").await;
            let err = ash_rs::api::update(&shop, &order, OrderRemoveLinesInput::new().line_ids(vec![loose.id]))
                .await
                .unwrap_err();
            assert!(err.is_not_found(), "{err:?}");
            assert_eq!(err.errors()[0].path(), [PathSegment::Name("line_ids"), PathSegment::Index(0)]);
        }

        #[tokio::test]
        async fn relating_a_missing_record_is_not_found_and_changes_nothing_in_a_transaction() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![line("a", 1)]).await.unwrap();
            let err = ash_rs::api::update(&shop, &order,
                OrderRelateLinesInput::new().line_ids(vec![Uuid::new_v4()])).await.unwrap_err();
            assert!(err.is_not_found(), "{err:?}");
            assert_eq!(err.to_string().matches("line_ids[0]: record of OrderLine").count(), 1, "{err}");
            // on_missing ran first and unrelated `a` before the lookup failed.
            let owner = stored_lines(&shop).await[0].order_id;
            if TRANSACTIONS {
                assert_eq!(owner, Some(order.id));
            } else {
                assert_eq!(owner, None);
            }
        }

        #[tokio::test]
        async fn belongs_to_create_writes_the_parent_before_the_record() {
            let Some(shop) = connect().await else { return };
            let input = OrderLineCreateForOrderInput::new().product("a").qty(1i64)
                .order(Managed::Create(OrderCreateInput::new().customer("zed")));
            let line = ash_rs::api::create(&shop, input).await.unwrap();
            let orders = shop.orders().await.unwrap();
            assert_eq!(orders.len(), 1);
            assert_eq!(orders[0].customer, "zed");
            assert_eq!(line.order_id, Some(orders[0].id));
            assert_eq!(line.order.get().unwrap().as_ref().map(|o| o.id), Some(orders[0].id));
        }

        #[tokio::test]
        async fn belongs_to_relates_and_an_explicit_nil_unrelates() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![]).await.unwrap();
            let loose = loose_line(&shop, "z").await;
            let moved = ash_rs::api::update(&shop, &loose,
                OrderLineMoveToOrderInput::new().order(Managed::Key(order.id))).await.unwrap();
            assert_eq!(moved.order_id, Some(order.id));
            assert_eq!(moved.order.get().unwrap().as_ref().map(|o| o.id), Some(order.id));
            // Not supplied: nothing happens.
            let same = ash_rs::api::update(&shop, &moved, OrderLineMoveToOrderInput::new()).await.unwrap();
            assert_eq!(same.order_id, Some(order.id));
            // An explicit nil: on_missing (unrelate) on the related order.
            let none: Option<Managed<Order, NoAction<Order>, OrderUpdateInput>> = None;
            let freed = ash_rs::api::update(&shop, &same, OrderLineMoveToOrderInput::new().order(none))
                .await
                .unwrap();
            assert_eq!(freed.order_id, None);
            assert_eq!(stored_lines(&shop).await[0].order_id, None);
            assert_eq!(shop.orders().await.unwrap().len(), 1);
        }

        #[tokio::test]
        async fn belongs_to_a_missing_parent_fails_before_the_write() {
            let Some(shop) = connect().await else { return };
            let loose = loose_line(&shop, "z").await;
            let err = ash_rs::api::update(&shop, &loose,
                OrderLineMoveToOrderInput::new().order(Managed::Key(Uuid::new_v4()))).await.unwrap_err();
            assert!(err.is_not_found(), "{err:?}");
            assert_eq!(err.errors()[0].path(), [PathSegment::Name("order")]);
            // Managed before the write: the line is untouched on every layer.
            let stored = stored_lines(&shop).await;
            assert_eq!((stored[0].order_id, stored[0].version), (None, 1));
        }

        fn receipt(total: i64) -> Option<ReceiptInput> {
            Some(Managed::Create(ReceiptCreateInput::new().total(total)))
        }

        /// Every stored receipt as (total, order), sorted by total.
        async fn stored_receipts(shop: &Shop) -> Vec<(i64, Option<Uuid>)> {
            let mut all: Vec<_> = shop.receipts().await.unwrap().into_iter().map(|r| (r.total, r.order_id)).collect();
            all.sort();
            all
        }

        async fn set_receipt(shop: &Shop, order: &Order, item: Option<ReceiptInput>) -> Result<Order, Error> {
            ash_rs::api::update(shop, order, OrderSetReceiptInput::new().receipt(item)).await
        }

        #[tokio::test]
        async fn has_one_direct_control_creates_replaces_updates_and_destroys() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![]).await.unwrap();
            let order = set_receipt(&shop, &order, receipt(10)).await.unwrap();
            let first = order.receipt.get().unwrap().clone().unwrap();
            assert_eq!((first.total, first.order_id), (10, Some(order.id)));
            assert_eq!(stored_receipts(&shop).await, [(10, Some(order.id))]);
            // A new record: on_missing destroys the one related, then the input is created.
            let order = set_receipt(&shop, &order, receipt(20)).await.unwrap();
            let second = order.receipt.get().unwrap().clone().unwrap();
            assert_ne!(second.id, first.id);
            assert_eq!(stored_receipts(&shop).await, [(20, Some(order.id))]);
            // The related record with changes: on_match updates it.
            let change = Some(Managed::Update(second.clone(), ReceiptUpdateInput::new().total(25)));
            let order = set_receipt(&shop, &order, change).await.unwrap();
            assert_eq!(order.receipt.get().unwrap().as_ref().map(|r| (r.id, r.total)), Some((second.id, 25)));
            assert_eq!(stored_receipts(&shop).await, [(25, Some(order.id))]);
            // Not supplied: nothing happens.
            let same = ash_rs::api::update(&shop, &order, OrderSetReceiptInput::new().customer("bob")).await.unwrap();
            assert!(!same.receipt.is_loaded());
            assert_eq!(stored_receipts(&shop).await, [(25, Some(order.id))]);
            // An explicit nil: on_missing destroys it.
            let cleared = set_receipt(&shop, &same, None).await.unwrap();
            assert_eq!(cleared.receipt.get().unwrap(), &None);
            assert!(stored_receipts(&shop).await.is_empty());
        }

        #[tokio::test]
        async fn has_one_append_and_remove_relates_and_an_explicit_nil_unrelates() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![]).await.unwrap();
            let loose = ash_rs::api::create(&shop, ReceiptCreateInput::new().total(5)).await.unwrap();
            let related = ash_rs::api::update(&shop, &order,
                OrderRelateReceiptInput::new().receipt_id(Some(Managed::Key(loose.id)))).await.unwrap();
            assert_eq!(related.receipt.get().unwrap().as_ref().map(|r| r.id), Some(loose.id));
            assert_eq!(stored_receipts(&shop).await, [(5, Some(order.id))]);
            let none: Option<Managed<Receipt, NoAction<Receipt>, ReceiptUpdateInput>> = None;
            let freed = ash_rs::api::update(&shop, &related, OrderRelateReceiptInput::new().receipt_id(none))
                .await
                .unwrap();
            assert_eq!(freed.receipt.get().unwrap(), &None);
            // Unrelated, not destroyed.
            assert_eq!(stored_receipts(&shop).await, [(5, None)]);
        }

        #[tokio::test]
        async fn has_one_create_append_and_remove_types() {
            let Some(shop) = connect().await else { return };
            let input = OrderCreateWithReceiptInput::new().customer("ann")
                .receipt(Managed::Create(ReceiptCreateInput::new().total(7)));
            let order = ash_rs::api::create(&shop, input).await.unwrap();
            let r = order.receipt.get().unwrap().clone().unwrap();
            assert_eq!(stored_receipts(&shop).await, [(7, Some(order.id))]);
            // remove: the named receipt is unrelated (its key set to nil), not destroyed.
            let order = ash_rs::api::update(&shop, &order,
                OrderRemoveReceiptInput::new().receipt_id(Some(Managed::Key(r.id)))).await.unwrap();
            assert_eq!(order.receipt.get().unwrap(), &None);
            assert_eq!(stored_receipts(&shop).await, [(7, None)]);
            // append: relates it again.
            let order = ash_rs::api::update(&shop, &order,
                OrderAppendReceiptInput::new().receipt_id(Some(Managed::Key(r.id)))).await.unwrap();
            assert_eq!(order.receipt.get().unwrap().as_ref().map(|x| x.id), Some(r.id));
            assert_eq!(stored_receipts(&shop).await, [(7, Some(order.id))]);
            // append with an explicit nil: on_missing is ignore, nothing changes.
            let none: ReceiptKey = None;
            let order = ash_rs::api::update(&shop, &order, OrderAppendReceiptInput::new().receipt_id(none))
                .await
                .unwrap();
            assert_eq!(order.receipt.get().unwrap().as_ref().map(|x| x.id), Some(r.id));
            assert_eq!(stored_receipts(&shop).await, [(7, Some(order.id))]);
        }

        #[tokio::test]
        async fn has_one_errors_are_at_the_argument_without_an_index() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![]).await.unwrap();
            let err = ash_rs::api::update(&shop, &order,
                OrderRelateReceiptInput::new().receipt_id(Some(Managed::Key(Uuid::new_v4())))).await.unwrap_err();
            assert!(err.is_not_found(), "{err:?}");
            assert_eq!(err.errors()[0].path(), [PathSegment::Name("receipt_id")]);
        }

        #[tokio::test]
        async fn a_failed_has_one_create_leaves_what_the_layer_allows() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![]).await.unwrap();
            let order = set_receipt(&shop, &order, receipt(10)).await.unwrap();
            let err = ash_rs::api::update(&shop, &order,
                OrderSetReceiptInput::new().customer("bob").receipt(receipt(0))).await.unwrap_err();
            assert_eq!(err.errors()[0].path(), [PathSegment::Name("receipt")]);
            assert!(matches!(err.errors()[0].innermost(), ErrorKind::InvalidAttribute(e) if e.field == "total"), "{err:?}");
            let customer = shop.orders().await.unwrap().pop().unwrap().customer;
            if TRANSACTIONS {
                assert_eq!(customer, "ann");
                assert_eq!(stored_receipts(&shop).await, [(10, Some(order.id))]);
            } else {
                // ETS: the order's write and the on_missing destroy of the old receipt stay.
                assert_eq!(customer, "bob");
                assert!(stored_receipts(&shop).await.is_empty());
            }
        }

        fn new_tag(label: &str, rank: i64) -> TagInput {
            Managed::Create(TagCreateInput::new().label(label).rank(rank))
        }

        async fn loose_tag(shop: &Shop, label: &str) -> Tag {
            ash_rs::api::create(shop, TagCreateInput::new().label(label).rank(1i64)).await.unwrap()
        }

        async fn set_tags(shop: &Shop, order: &Order, tags: Vec<TagInput>) -> Result<Order, Error> {
            ash_rs::api::update(shop, order, OrderSetTagsInput::new().tags(tags)).await
        }

        /// Every stored tag as (label, rank), sorted.
        async fn stored_tags(shop: &Shop) -> Vec<(String, i64)> {
            let mut all: Vec<_> = shop.all_tags().await.unwrap().into_iter().map(|t| (t.label, t.rank)).collect();
            all.sort();
            all
        }

        /// The labels of the tags the join records relate to `order`, sorted; a join
        /// record of another order or of a missing tag fails the test.
        async fn joined_labels(shop: &Shop, order: &Order) -> Vec<String> {
            let tags = shop.all_tags().await.unwrap();
            let mut labels: Vec<String> = shop.order_tags().await.unwrap().into_iter().map(|j| {
                assert_eq!(j.order_id, order.id);
                tags.iter().find(|t| t.id == j.tag_id).unwrap().label.clone()
            }).collect();
            labels.sort();
            labels
        }

        fn tag_labels(order: &Order) -> Vec<&str> {
            order.tags.get().unwrap().iter().map(|t| t.label.as_str()).collect()
        }

        #[tokio::test]
        async fn many_to_many_direct_control_creates_updates_and_destroys() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![]).await.unwrap();
            let order = set_tags(&shop, &order, vec![new_tag("a", 1), new_tag("b", 2)]).await.unwrap();
            assert_eq!(tag_labels(&order), ["a", "b"]);
            assert_eq!(joined_labels(&shop, &order).await, ["a", "b"]);
            let a = order.tags.get().unwrap()[0].clone();
            let change = Managed::Update(a.clone(), TagUpdateInput::new().rank(5));
            let order = set_tags(&shop, &order, vec![new_tag("c", 3), change]).await.unwrap();
            // Input order: c created, a updated; b's join record and b destroyed.
            assert_eq!(tag_labels(&order), ["c", "a"]);
            assert_eq!(joined_labels(&shop, &order).await, ["a", "c"]);
            assert_eq!(stored_tags(&shop).await, [("a".to_owned(), 5), ("c".to_owned(), 3)]);
        }

        #[tokio::test]
        async fn many_to_many_an_absent_argument_does_nothing_and_an_empty_list_destroys_all() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![]).await.unwrap();
            let order = set_tags(&shop, &order, vec![new_tag("a", 1), new_tag("b", 1)]).await.unwrap();
            let same = ash_rs::api::update(&shop, &order, OrderSetTagsInput::new().customer("bob")).await.unwrap();
            assert!(!same.tags.is_loaded());
            assert_eq!(joined_labels(&shop, &order).await, ["a", "b"]);
            let cleared = set_tags(&shop, &same, vec![]).await.unwrap();
            assert!(cleared.tags.get().unwrap().is_empty());
            assert!(shop.order_tags().await.unwrap().is_empty());
            assert!(stored_tags(&shop).await.is_empty());
        }

        #[tokio::test]
        async fn many_to_many_create_type_creates_tags_and_join_records() {
            let Some(shop) = connect().await else { return };
            let input = OrderCreateWithTagsInput::new().customer("ann").tags(vec![
                TagCreateInput::new().label("x").rank(1i64),
                TagCreateInput::new().label("y").rank(2i64),
            ]);
            let order = ash_rs::api::create(&shop, input).await.unwrap();
            assert_eq!(tag_labels(&order), ["x", "y"]);
            assert_eq!(joined_labels(&shop, &order).await, ["x", "y"]);
        }

        #[tokio::test]
        async fn many_to_many_append_and_remove_writes_join_records_only() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![]).await.unwrap();
            let [x, y, z] = [loose_tag(&shop, "x").await, loose_tag(&shop, "y").await, loose_tag(&shop, "z").await];
            let order = ash_rs::api::update(&shop, &order, OrderTagInput::new().tag_ids(vec![x.id, y.id])).await.unwrap();
            assert_eq!(tag_labels(&order), ["x", "y"]);
            assert_eq!(joined_labels(&shop, &order).await, ["x", "y"]);
            let order = ash_rs::api::update(&shop, &order, OrderTagInput::new().tag_ids(vec![z.id, y.id])).await.unwrap();
            // z related, y kept (ignore on match), x unrelated: its join record goes, x stays.
            assert_eq!(tag_labels(&order), ["z", "y"]);
            assert_eq!(joined_labels(&shop, &order).await, ["y", "z"]);
            assert_eq!(stored_tags(&shop).await.len(), 3);
        }

        #[tokio::test]
        async fn many_to_many_append_and_remove_types() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![]).await.unwrap();
            let [x, y] = [loose_tag(&shop, "x").await, loose_tag(&shop, "y").await];
            ash_rs::api::update(&shop, &order, OrderAppendTagsInput::new().tag_ids(vec![x.id])).await.unwrap();
            let order = ash_rs::api::update(&shop, &order, OrderAppendTagsInput::new().tag_ids(vec![y.id])).await.unwrap();
            // append: on_missing is ignore, x stays related.
            assert_eq!(tag_labels(&order), ["y", "x"]);
            assert_eq!(joined_labels(&shop, &order).await, ["x", "y"]);
            let order = ash_rs::api::update(&shop, &order, OrderRemoveTagsInput::new().tag_ids(vec![x.id])).await.unwrap();
            assert_eq!(tag_labels(&order), ["y"]);
            assert_eq!(joined_labels(&shop, &order).await, ["y"]);
            assert_eq!(stored_tags(&shop).await.len(), 2);
            // Removing a tag that is not related: NotFound at its path, nothing written.
            let err = ash_rs::api::update(&shop, &order, OrderRemoveTagsInput::new().tag_ids(vec![x.id])).await.unwrap_err();
            assert!(err.is_not_found(), "{err:?}");
            assert_eq!(err.errors()[0].path(), [PathSegment::Name("tag_ids"), PathSegment::Index(0)]);
        }

        #[tokio::test]
        async fn many_to_many_relating_a_missing_tag_leaves_what_the_layer_allows() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![]).await.unwrap();
            let x = loose_tag(&shop, "x").await;
            let order = ash_rs::api::update(&shop, &order, OrderTagInput::new().tag_ids(vec![x.id])).await.unwrap();
            let err = ash_rs::api::update(&shop, &order,
                OrderTagInput::new().tag_ids(vec![Uuid::new_v4()])).await.unwrap_err();
            assert!(err.is_not_found(), "{err:?}");
            assert_eq!(err.errors()[0].path(), [PathSegment::Name("tag_ids"), PathSegment::Index(0)]);
            if TRANSACTIONS {
                assert_eq!(joined_labels(&shop, &order).await, ["x"]);
            } else {
                // ETS: on_missing ran first and destroyed x's join record.
                assert!(joined_labels(&shop, &order).await.is_empty());
            }
            assert_eq!(stored_tags(&shop).await.len(), 1);
        }

        #[tokio::test]
        async fn many_to_many_an_invalid_tag_fails_at_its_path() {
            let Some(shop) = connect().await else { return };
            let order = create_order(&shop, vec![]).await.unwrap();
            let order = set_tags(&shop, &order, vec![new_tag("a", 1)]).await.unwrap();
            let err = ash_rs::api::update(&shop, &order, OrderSetTagsInput::new().customer("bob")
                .tags(vec![new_tag("b", 1), new_tag("c", 0)])).await.unwrap_err();
            assert_eq!(err.errors()[0].path(), [PathSegment::Name("tags"), PathSegment::Index(1)]);
            assert!(matches!(err.errors()[0].innermost(), ErrorKind::InvalidAttribute(e) if e.field == "rank"), "{err:?}");
            let customer = shop.orders().await.unwrap().pop().unwrap().customer;
            if TRANSACTIONS {
                assert_eq!(customer, "ann");
                assert_eq!(joined_labels(&shop, &order).await, ["a"]);
                assert_eq!(stored_tags(&shop).await, [("a".to_owned(), 1)]);
            } else {
                // ETS: the order's write and on_missing (a's join record, then a) stay;
                // b and c were validated together and neither was written.
                assert_eq!(customer, "bob");
                assert!(shop.order_tags().await.unwrap().is_empty());
                assert!(stored_tags(&shop).await.is_empty());
            }
        }

        #[tokio::test]
        async fn a_json_body_creates_lines() {
            let Some(shop) = connect().await else { return };
            let input: OrderCreateInput = ash_rs::input::from_json(
                r#"{"customer":"ann","lines":[{"product":"a","qty":1},{"product":"b","qty":2}]}"#,
            )
            .unwrap();
            let order = ash_rs::api::create(&shop, input).await.unwrap();
            assert_eq!(products(loaded(&order)), ["a", "b"]);
        }

        #[tokio::test]
        async fn a_relate_only_argument_refuses_new_records_from_json() {
            let err = ash_rs::input::from_json::<OrderRelateLinesInput>(r#"{"line_ids":[{"product":"a"}]}"#)
                .unwrap_err();
            assert!(err.to_string().contains("line_ids"), "{err}");
            let _ = std::marker::PhantomData::<NoAction<OrderLine>>;
        }
    };
}

mod ets {
    manage_relationship!(data_layer = [Ets], transactions = false);

    async fn connect() -> Option<Shop> {
        Some(Shop::new())
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use crate::pg_support::TestDb;
    manage_relationship!(
        data_layer = [ash_rs::postgres::Postgres],
        transactions = true
    );

    async fn connect() -> Option<Shop> {
        let db = TestDb::new().await?;
        let shop = Shop::connect(&db.pool).await.unwrap();
        // The schema is dropped with `db`: keep it for the test's lifetime.
        std::mem::forget(db);
        Some(shop)
    }

    fn statements(shop: &Shop) -> u64 {
        use ash_rs::domain::HasResource;
        HasResource::<Order>::data_layer(shop).statement_count()
            + HasResource::<OrderLine>::data_layer(shop).statement_count()
            + HasResource::<Receipt>::data_layer(shop).statement_count()
            + HasResource::<Tag>::data_layer(shop).statement_count()
            + HasResource::<OrderTag>::data_layer(shop).statement_count()
    }

    #[tokio::test]
    async fn an_order_with_100_lines_is_2_statements() {
        let Some(shop) = connect().await else { return };
        let lines: Vec<LineInput> = (0..100).map(|i| line(&format!("p{i:03}"), 1)).collect();
        let before = statements(&shop);
        let order = create_order(&shop, lines).await.unwrap();
        // One INSERT of the order, one multi-row INSERT of its 100 lines.
        assert_eq!(statements(&shop) - before, 2);
        assert_eq!(loaded(&order).len(), 100);
        assert_eq!(stored_lines(&shop).await.len(), 100);
    }

    #[tokio::test]
    async fn a_direct_control_update_counts_one_statement_per_write() {
        let Some(shop) = connect().await else { return };
        let order = order_abc(&shop).await;
        let a = loaded(&order)[0].clone();
        let before = statements(&shop);
        shop.update_order(
            &order,
            OrderUpdateInput::new().lines(vec![change(&a, 5), line("d", 1), line("e", 1)]),
        )
        .await
        .unwrap();
        // UPDATE the order, SELECT its lines, DELETE b, DELETE c, UPDATE a, one INSERT of d and e.
        assert_eq!(statements(&shop) - before, 6);
    }

    #[tokio::test]
    async fn a_belongs_to_create_is_2_statements() {
        let Some(shop) = connect().await else { return };
        let before = statements(&shop);
        let input = OrderLineCreateForOrderInput::new()
            .product("a")
            .qty(1i64)
            .order(Managed::Create(OrderCreateInput::new().customer("zed")));
        ash_rs::api::create(&shop, input).await.unwrap();
        // The order's INSERT, then the line's.
        assert_eq!(statements(&shop) - before, 2);
    }

    #[tokio::test]
    async fn a_has_one_replace_is_4_statements() {
        let Some(shop) = connect().await else { return };
        let order = create_order(&shop, vec![]).await.unwrap();
        let order = set_receipt(&shop, &order, receipt(10)).await.unwrap();
        let before = statements(&shop);
        set_receipt(&shop, &order, receipt(20)).await.unwrap();
        // UPDATE the order, SELECT its receipt, DELETE the old one, INSERT the new one.
        assert_eq!(statements(&shop) - before, 4);
    }

    #[tokio::test]
    async fn an_order_with_100_tags_is_3_statements() {
        let Some(shop) = connect().await else { return };
        let tags: Vec<TagCreateInput> = (0..100)
            .map(|i| TagCreateInput::new().label(format!("t{i:03}")).rank(1i64))
            .collect();
        let before = statements(&shop);
        let input = OrderCreateWithTagsInput::new().customer("ann").tags(tags);
        let order = ash_rs::api::create(&shop, input).await.unwrap();
        // INSERT the order, one INSERT of the 100 tags, one INSERT of the 100 join records.
        assert_eq!(statements(&shop) - before, 3);
        assert_eq!(tag_labels(&order).len(), 100);
        assert_eq!(joined_labels(&shop, &order).await.len(), 100);
    }

    #[tokio::test]
    async fn a_many_to_many_append_and_remove_counts_its_reads_and_writes() {
        let Some(shop) = connect().await else { return };
        let order = create_order(&shop, vec![]).await.unwrap();
        let [x, y, z] = [
            loose_tag(&shop, "x").await,
            loose_tag(&shop, "y").await,
            loose_tag(&shop, "z").await,
        ];
        let order = ash_rs::api::update(&shop, &order, OrderTagInput::new().tag_ids(vec![x.id]))
            .await
            .unwrap();
        let before = statements(&shop);
        ash_rs::api::update(
            &shop,
            &order,
            OrderTagInput::new().tag_ids(vec![y.id, z.id]),
        )
        .await
        .unwrap();
        // UPDATE the order, SELECT its join records, SELECT their tags, DELETE x's join
        // record, SELECT y, SELECT z, one INSERT of both join records.
        assert_eq!(statements(&shop) - before, 7);
    }

    #[tokio::test]
    async fn an_absent_argument_is_1_statement() {
        let Some(shop) = connect().await else { return };
        let order = order_abc(&shop).await;
        let before = statements(&shop);
        shop.update_order(&order, OrderUpdateInput::new().customer("bob"))
            .await
            .unwrap();
        assert_eq!(statements(&shop) - before, 1);
    }
}
