//! The livebook "Prevent concurrent writes", as a test: every step and its result.

use ash_rs::error::ErrorKind;
use ash_rs::prelude::*;

#[resource(domain = Domain, data_layer = Ets)]
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

#[domain]
#[resources(Address(
    define(get_address, action = read, get_by = [id]),
    define(create_address, action = create, args = [state, county]),
    define(update_address, action = update),
))]
pub struct Domain;

#[tokio::test]
async fn triggering_a_stale_record_error() {
    let domain = Domain::new();
    let address = domain.create_address("FL", "Pinellas").await.unwrap();
    assert_eq!(address.version, 1);
    assert_eq!(
        (address.state.as_str(), address.county.as_str()),
        ("FL", "Pinellas")
    );

    let updated = domain
        .update_address(
            &address,
            AddressUpdateInput::new().state("NC").county("Guilford"),
        )
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.id, address.id);

    // `address` still has a version of 1, so the optimistic lock catches it.
    let err = domain
        .update_address(&address, AddressUpdateInput::new().county("Miami-Dade"))
        .await
        .unwrap_err();
    let Error::Invalid { errors } = &err else {
        panic!("expected Error::Invalid, got {err:?}")
    };
    let [ErrorKind::StaleRecord(stale)] = errors.as_slice() else {
        panic!("expected one StaleRecord, got {errors:?}")
    };
    assert_eq!(stale.resource, "Address");
    assert_eq!(
        stale.filter.get("version"),
        Some(&ash_rs::value::Value::Int(1))
    );
    assert_eq!(stale.filter.to_string(), "version == 1");
    assert_eq!(
        stale.to_string(),
        "Attempted to update stale record of Address with filter: version == 1"
    );

    // Nothing was written.
    let stored = domain.get_address(address.id).await.unwrap();
    assert_eq!(stored, updated);
}

#[tokio::test]
async fn refetching_a_record_to_get_the_latest_version() {
    let domain = Domain::new();
    let address = domain.create_address("FL", "Pinellas").await.unwrap();
    domain
        .update_address(
            &address,
            AddressUpdateInput::new().state("NC").county("Guilford"),
        )
        .await
        .unwrap();

    let result = match domain
        .update_address(&address, AddressUpdateInput::new().county("Miami-Dade"))
        .await
    {
        Err(Error::Invalid { errors }) if matches!(errors[..], [ErrorKind::StaleRecord(_)]) => {
            let address = domain.get_address(address.id).await.unwrap();
            domain
                .update_address(&address, AddressUpdateInput::new().county("Miami-Dade"))
                .await
                .unwrap()
        }
        other => panic!("expected a stale record error, got {other:?}"),
    };
    assert_eq!(result.version, 3);
    assert_eq!(result.state, "NC");
    assert_eq!(result.county, "Miami-Dade");
    assert_eq!(domain.get_address(address.id).await.unwrap(), result);
}

#[tokio::test]
async fn domains_are_isolated_and_clones_share_tables() {
    let a = Domain::new();
    let b = Domain::new();
    let record = a.create_address("FL", "Pinellas").await.unwrap();
    assert!(b.get_address(record.id).await.unwrap_err().is_not_found());
    let a2 = a.clone();
    assert_eq!(a2.get_address(record.id).await.unwrap(), record);

    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Domain>();
}
