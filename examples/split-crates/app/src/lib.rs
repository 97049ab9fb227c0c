//! A domain in one crate over resources of another (`models`, the `split-crates-models`
//! package): each resource's companion macro is exported from `models` and reached through
//! the resource's path, so `#[resources(..)]` lists them like local ones.

use models::accounts::Address;

/// The application's domain.
#[ash_rs::domain]
#[resources(
    Address(
        define(get_address, action = read, get_by = [id]),
        define(create_address, action = create, args = [state, county]),
        define(update_address, action = update),
    ),
    models::billing::Address(
        define(create_billing_address, action = create, args = [email]),
        define(billing_addresses, action = read),
    ),
    models::Invoice(
        define(create_invoice, action = create, args = [r#type, total]),
        define(invoices_of_type, action = read, get_by = [r#type], not_found_error = false),
        define(pay, args = [memo]),
    ),
)]
#[derive(Debug, Clone)]
pub struct App;
