use ash_rs::prelude::*;

// Three mistakes in a resource that a domain lists and code uses: three errors, none from
// the domain or the code using the resource.
#[resource(domain = Domain)]
#[actions(
    defaults(read, create = [state]),
    update(update, accept = [state], change = optimistic_lock(versoin)),
)]
#[changes(optimistic_lock(version, on = [read]))]
#[validations(present(state, where = action_is([nope])))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
}

#[domain]
#[resources(Address(
    define(get_address, action = read, get_by = [id]),
    define(create_address, action = create, args = [state]),
    define(update_address, action = update),
))]
pub struct Domain;

async fn run(domain: &Domain) -> Result<(), Error> {
    let address = domain.create_address("FL").await?;
    let address = domain.get_address(address.id).await?;
    domain
        .update_address(&address, AddressUpdateInput::new().state("NC"))
        .await?;
    let _ = Query::<Address>::new().filter(Address::STATE.eq("NC"));
    Ok(())
}

fn main() {
    let _ = run;
}
