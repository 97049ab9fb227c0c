//! Actions on resources of the `models` crate, through the domain of the `app` crate.

use app::App;
use ash_rs::prelude::*;
use models::accounts::AddressUpdateInput;

#[test]
fn the_seed_across_crates() {
    let app = App::new();
    let address = ash_rs::block_on(app.create_address("FL", "Pinellas")).unwrap();
    let updated =
        ash_rs::block_on(app.update_address(&address, AddressUpdateInput::new().state("NC")))
            .unwrap();
    assert_eq!(updated.version, 2);
    // The stale copy is refused, as in one crate.
    let stale = ash_rs::block_on(
        app.update_address(&address, AddressUpdateInput::new().county("Miami-Dade")),
    );
    assert!(stale.unwrap_err().is_stale());
    let fresh = ash_rs::block_on(app.get_address(address.id)).unwrap();
    assert_eq!(fresh, updated);
}

#[tokio::test]
async fn two_resources_named_address_and_a_raw_identifier() {
    let app = App::new();
    let billing = app.create_billing_address("ann@example.com").await.unwrap();
    assert_eq!(app.billing_addresses().await.unwrap(), [billing]);

    let invoice = app
        .create_invoice("monthly", 1200, models::InvoiceCreateInput::new())
        .await
        .unwrap();
    assert_eq!(models::describe(&invoice), "monthly invoice of 1200 cents");
    let found = app.invoices_of_type("monthly").await.unwrap().unwrap();
    assert_eq!(found.id, invoice.id);
    let paid = app.pay(&invoice, Some("thanks".to_owned())).await.unwrap();
    assert!(paid.paid);
    assert_eq!(app.invoices_of_type("yearly").await.unwrap(), None);

    // JSON input names the attribute `type`.
    let input: models::InvoiceCreateInput =
        ash_rs::input::from_json(r#"{"type": "once", "total": 5}"#).unwrap();
    let once = ash_rs::api::create(&app, input).await.unwrap();
    assert_eq!(once.r#type, "once");
    let all: Vec<models::Invoice> =
        ash_rs::api::read(&app, models::InvoiceReadInput::new(), Query::new())
            .await
            .unwrap();
    assert_eq!(all.len(), 2);
}

#[test]
fn clones_share_the_tables() {
    let app = App::new();
    let copy = app.clone();
    ash_rs::block_on(copy.create_billing_address("b@example.com")).unwrap();
    assert_eq!(ash_rs::block_on(app.billing_addresses()).unwrap().len(), 1);
    assert!(format!("{app:?}").starts_with("App { tables: "));
}
