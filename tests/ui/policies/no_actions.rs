use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[policies(policy(always(), authorize_if(always())))]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
}

#[domain]
#[resources(Post)]
pub struct Domain;

fn main() {
    let _ = Domain::new();
}
