//! Property tests: random filters over random records agree with a plain
//! `iter().filter()` model, and random action sequences agree with a sequential model.
//! The cases run through `ash_rs::block_on`, the sync way in (ETS futures never suspend).

use ash_rs::block_on;
use ash_rs::prelude::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

#[resource(domain = Store)]
#[actions(
    defaults(read, create = [key, a, b, s]),
    update(update, accept = [a], change = optimistic_lock(version)),
    destroy(destroy, change = optimistic_lock(version)),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    #[primary_key]
    pub key: i64,
    #[attribute(default = 1)]
    pub version: i64,
    pub a: i64,
    pub b: Option<i64>,
    pub s: String,
}

#[domain]
#[resources(Item(
    define(create_item, action = create),
    define(get_item, action = read, get_by = [key], not_found_error = false),
    define(update_item, action = update, args = [a]),
    define(destroy_item, action = destroy),
))]
pub struct Store;

/// A filter, as data the test can both build and evaluate by hand.
#[derive(Debug, Clone)]
enum F {
    AEq(i64),
    ALt(i64),
    AGte(i64),
    BEq(i64),
    BNotEq(i64),
    BGt(i64),
    BIsNil,
    SContains(String),
    AIn(Vec<i64>),
    And(Box<F>, Box<F>),
    Or(Box<F>, Box<F>),
    Not(Box<F>),
}

impl F {
    fn build(&self) -> Filter<Item> {
        match self {
            F::AEq(v) => Item::A.eq(*v),
            F::ALt(v) => Item::A.lt(*v),
            F::AGte(v) => Item::A.gte(*v),
            F::BEq(v) => Item::B.eq(*v),
            F::BNotEq(v) => Item::B.not_eq(*v),
            F::BGt(v) => Item::B.gt(*v),
            F::BIsNil => Item::B.is_nil(),
            F::SContains(s) => Item::S.contains(s.clone()),
            F::AIn(vs) => Item::A.is_in(vs.clone()),
            F::And(x, y) => x.build() & y.build(),
            F::Or(x, y) => x.build() | y.build(),
            F::Not(x) => !x.build(),
        }
    }

    /// Ash's semantics: a comparison with nil is never true.
    fn eval(&self, i: &Item) -> bool {
        match self {
            F::AEq(v) => i.a == *v,
            F::ALt(v) => i.a < *v,
            F::AGte(v) => i.a >= *v,
            F::BEq(v) => i.b == Some(*v),
            F::BNotEq(v) => i.b.is_some_and(|b| b != *v),
            F::BGt(v) => i.b.is_some_and(|b| b > *v),
            F::BIsNil => i.b.is_none(),
            F::SContains(s) => i.s.contains(s.as_str()),
            F::AIn(vs) => vs.contains(&i.a),
            F::And(x, y) => x.eval(i) && y.eval(i),
            F::Or(x, y) => x.eval(i) || y.eval(i),
            F::Not(x) => !x.eval(i),
        }
    }
}

fn leaf() -> impl Strategy<Value = F> {
    prop_oneof![
        (-5i64..5).prop_map(F::AEq),
        (-5i64..5).prop_map(F::ALt),
        (-5i64..5).prop_map(F::AGte),
        (-5i64..5).prop_map(F::BEq),
        (-5i64..5).prop_map(F::BNotEq),
        (-5i64..5).prop_map(F::BGt),
        Just(F::BIsNil),
        "[ab]{0,2}".prop_map(F::SContains),
        proptest::collection::vec(-5i64..5, 0..4).prop_map(F::AIn),
    ]
}

fn filter() -> impl Strategy<Value = F> {
    leaf().prop_recursive(3, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(x, y)| F::And(Box::new(x), Box::new(y))),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| F::Or(Box::new(x), Box::new(y))),
            inner.prop_map(|x| F::Not(Box::new(x))),
        ]
    })
}

fn record() -> impl Strategy<Value = (i64, Option<i64>, String)> {
    (-5i64..5, proptest::option::of(-5i64..5), "[abc]{0,4}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn filters_agree_with_a_plain_filter(
        records in proptest::collection::vec(record(), 0..30),
        f in filter(),
        limit in proptest::option::of(0usize..10),
        offset in 0usize..10,
    ) {
        let store = Store::new();
        let mut model = Vec::new();
        for (key, (a, b, s)) in records.into_iter().enumerate() {
            let item = block_on(store.create_item(ItemCreateInput::new().key(key as i64).a(a).b(b).s(s)))
                .unwrap();
            model.push(item);
        }
        let mut query = Query::new().filter(f.build()).sort_by(Item::A.asc()).sort_by(Item::KEY.desc()).offset(offset);
        if let Some(limit) = limit {
            query = query.limit(limit);
        }
        let got = block_on(ash_rs::api::read(&store, ItemReadInput::new(), query)).unwrap();

        let mut expected: Vec<Item> = model.iter().filter(|i| f.eval(i)).cloned().collect();
        expected.sort_by(|x, y| x.a.cmp(&y.a).then(y.key.cmp(&x.key)));
        let expected: Vec<Item> = expected.into_iter().skip(offset).take(limit.unwrap_or(usize::MAX)).collect();
        prop_assert_eq!(got, expected);
    }
}

#[derive(Debug, Clone)]
enum Op {
    Create { key: i64, a: i64 },
    Update { key: i64, stale: bool, a: i64 },
    Destroy { key: i64, stale: bool },
    Get { key: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0i64..4;
    prop_oneof![
        (key.clone(), -100i64..100).prop_map(|(key, a)| Op::Create { key, a }),
        (key.clone(), any::<bool>(), -100i64..100).prop_map(|(key, stale, a)| Op::Update {
            key,
            stale,
            a
        }),
        (key.clone(), any::<bool>()).prop_map(|(key, stale)| Op::Destroy { key, stale }),
        key.prop_map(|key| Op::Get { key }),
    ]
}

/// What the caller holds for a key: the stored record, or an older copy of it.
fn handle(stored: Option<&Item>, key: i64, stale: bool) -> Item {
    let mut item = stored.cloned().unwrap_or(Item {
        key,
        version: 1,
        a: 0,
        b: None,
        s: String::new(),
    });
    if stale {
        item.version -= 1;
    }
    item
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn action_sequences_agree_with_a_sequential_model(ops in proptest::collection::vec(op(), 1..40)) {
        let store = Store::new();
        let mut model: BTreeMap<i64, Item> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Create { key, a } => {
                    let result = block_on(store.create_item(ItemCreateInput::new().key(key).a(a).s("x")));
                    match model.entry(key) {
                        std::collections::btree_map::Entry::Occupied(_) => {
                            let err = result.unwrap_err();
                            prop_assert!(matches!(err.errors(), [ErrorKind::AlreadyExists(_)]));
                        }
                        std::collections::btree_map::Entry::Vacant(slot) => {
                            let item = result.unwrap();
                            prop_assert_eq!(item.version, 1);
                            slot.insert(item);
                        }
                    }
                }
                Op::Update { key, stale, a } => {
                    let held = handle(model.get(&key), key, stale);
                    let result = block_on(store.update_item(&held, a));
                    match model.get_mut(&key) {
                        Some(stored) if !stale => {
                            let item = result.unwrap();
                            stored.a = a;
                            stored.version += 1;
                            prop_assert_eq!(&item, &*stored);
                        }
                        _ => prop_assert!(result.unwrap_err().is_stale()),
                    }
                }
                Op::Destroy { key, stale } => {
                    let held = handle(model.get(&key), key, stale);
                    let result = block_on(store.destroy_item(&held));
                    if model.contains_key(&key) && !stale {
                        result.unwrap();
                        model.remove(&key);
                    } else {
                        prop_assert!(result.unwrap_err().is_stale());
                    }
                }
                Op::Get { key } => {
                    prop_assert_eq!(block_on(store.get_item(key)).unwrap(), model.get(&key).cloned());
                }
            }
            // After every step the store holds exactly the model.
            let all = block_on(ash_rs::api::read(&store, ItemReadInput::new(), Query::new().sort_by(Item::KEY.asc()))).unwrap();
            prop_assert_eq!(all, model.values().cloned().collect::<Vec<_>>());
        }
    }
}
