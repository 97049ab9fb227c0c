//! Resources in a crate of their own: a `models` crate that knows no domain. Any domain,
//! here the one of the `app` crate, can list them (a resource that names `domain = D`
//! belongs to `D`, which must then be in the same crate).

use ash_rs::prelude::*;

/// Money in cents, named by a `crate::` path: the domain's methods show the type.
pub type Cents = i64;

/// Where people live.
pub mod accounts {
    use ash_rs::prelude::*;

    /// A postal address, with the seed's optimistic lock.
    #[resource]
    #[actions(
        defaults(read, create = [state, county]),
        update(update, accept = [state, county], change = optimistic_lock(version)),
    )]
    #[derive(Debug, PartialEq)]
    pub struct Address {
        /// The key.
        #[uuid_primary_key]
        pub id: Uuid,
        /// Bumped by every update.
        #[attribute(default = 1)]
        pub version: i64,
        /// The state.
        pub state: String,
        /// The county.
        pub county: String,
    }
}

/// Where invoices go: another resource called `Address`, in another module.
pub mod billing {
    use ash_rs::prelude::*;

    /// A billing address.
    #[resource]
    #[actions(defaults(read, create = [email]))]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Address {
        /// The key.
        #[uuid_primary_key]
        pub id: Uuid,
        /// Where invoices are sent.
        pub email: String,
    }
}

/// An invoice, with a raw identifier and a type that only resolves in this crate.
#[resource]
#[actions(
    defaults(read, create = [r#type, total, memo]),
    update(pay, accept = [memo], change = set_attribute(paid, true)),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    /// The key.
    #[uuid_primary_key]
    pub id: Uuid,
    /// `type` in JSON and errors.
    pub r#type: String,
    /// The amount.
    pub total: crate::Cents,
    /// A note.
    pub memo: Option<String>,
    /// Whether it was paid.
    #[attribute(default = false)]
    pub paid: bool,
}

/// A helper the resources' crate offers: the code interface is not needed to run actions.
pub fn describe(invoice: &Invoice) -> String {
    format!("{} invoice of {} cents", invoice.r#type, invoice.total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_know_their_names() {
        let names: Vec<&str> = <Invoice as Resource>::ATTRIBUTES
            .iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, ["id", "type", "total", "memo", "paid"]);
        assert_eq!(<accounts::Address as Resource>::NAME, "Address");
    }
}
