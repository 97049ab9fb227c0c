//! The seed's resource and domain (examples/prevent_concurrent_writes.rs, plus the
//! `update_validated` action of issue 3), and the hand-written `dashmap` code that does the
//! same work: what the ETS benchmarks compare.

#![allow(dead_code)]

use ash_rs::prelude::*;
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

#[resource(domain = Domain, data_layer = Ets)]
#[actions(
    defaults(read, create = [state, county]),
    update(update, accept = [state, county], change = optimistic_lock(version)),
    update(
        update_validated,
        accept = [state, county],
        change = optimistic_lock(version),
        validate = string_length(state, min = 1, max = 40),
        validate = present(county),
    ),
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
    define(update_address_validated, action = update_validated),
))]
pub struct Domain;

// ---------------------------------------------------------------------------------------
// The hand-written counterpart: the same struct, the same map, the same work.

#[derive(Debug, Clone, PartialEq)]
pub struct HandAddress {
    pub id: Uuid,
    pub version: i64,
    pub state: String,
    pub county: String,
}

#[derive(Debug, PartialEq)]
pub enum HandError {
    AlreadyExists,
    NotFound,
    Stale,
    Overflow,
    Invalid,
}

#[derive(Default)]
pub struct HandTable {
    pub rows: DashMap<Uuid, HandAddress>,
}

impl HandTable {
    pub fn create(&self, state: &str, county: &str) -> Result<HandAddress, HandError> {
        let record = HandAddress {
            id: Uuid::new_v4(),
            version: 1,
            state: state.to_owned(),
            county: county.to_owned(),
        };
        match self.rows.entry(record.id) {
            Entry::Occupied(_) => Err(HandError::AlreadyExists),
            Entry::Vacant(slot) => {
                slot.insert(record.clone());
                Ok(record)
            }
        }
    }

    pub fn update(
        &self,
        record: &HandAddress,
        state: Option<&str>,
        county: Option<&str>,
    ) -> Result<HandAddress, HandError> {
        let state = state.map(str::to_owned);
        let county = county.map(str::to_owned);
        let mut stored = self.rows.get_mut(&record.id).ok_or(HandError::NotFound)?;
        if stored.version != record.version {
            return Err(HandError::Stale);
        }
        let version = stored.version.checked_add(1).ok_or(HandError::Overflow)?;
        if let Some(state) = state {
            stored.state = state;
        }
        if let Some(county) = county {
            stored.county = county;
        }
        stored.version = version;
        Ok(stored.clone())
    }

    /// `update` behind the two checks of the `update_validated` action: the new (or
    /// current) state has 1 to 40 characters, and a county is present.
    pub fn update_validated(
        &self,
        record: &HandAddress,
        state: Option<&str>,
        county: Option<&str>,
    ) -> Result<HandAddress, HandError> {
        let len = state.unwrap_or(&record.state).chars().count();
        if !(1..=40).contains(&len) {
            return Err(HandError::Invalid);
        }
        if county.is_none() && record.county.is_empty() {
            return Err(HandError::Invalid);
        }
        self.update(record, state, county)
    }

    pub fn get(&self, id: Uuid) -> Option<HandAddress> {
        self.rows.get(&id).map(|r| r.clone())
    }
}
