// A resource in one module, its domain in another, reached by path; trailing commas.
mod models {
    use ash_rs::prelude::*;

    #[resource(domain = crate::app::App, data_layer = Ets,)]
    #[actions(defaults(read, create = [state,],),)]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Address {
        #[uuid_primary_key]
        pub id: Uuid,
        pub state: String,
    }
}

mod app {
    #[ash_rs::domain]
    #[resources(crate::models::Address(define(create_address, action = create, args = [state],),),)]
    pub struct App;
}

// The sync way in: no runtime.
fn main() {
    let app = app::App::new();
    let address = ash_rs::block_on(app.create_address("FL")).unwrap();
    assert_eq!(address.state, "FL");
}
