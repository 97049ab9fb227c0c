// The domain struct keeps the user's derives and attributes; resources need not derive
// `Clone` (the macro does); more than twelve resources, written by a `macro_rules!` (each
// companion macro is unique although the tokens are the same).
use ash_rs::prelude::*;

macro_rules! resources {
    ($($name:ident),*) => {$(
        #[resource]
        #[actions(defaults(read, create = [n]))]
        #[derive(Debug, PartialEq)]
        pub struct $name {
            #[uuid_primary_key]
            pub id: Uuid,
            pub n: i64,
        }
    )*};
}

resources!(R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, R12, R13);

mod a {
    use ash_rs::prelude::*;
    resources!(Same);
}
mod b {
    use ash_rs::prelude::*;
    resources!(Same);
}

/// The whole application.
#[domain]
#[resources(
    R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, R12,
    R13(define(create_r13, action = create, args = [n]), define(r13s, action = read)),
    a::Same(define(create_a, action = create, args = [n])),
    b::Same(define(create_b, action = create, args = [n])),
)]
#[derive(Debug, Clone, Default)]
#[allow(dead_code)]
pub struct App;

fn main() {
    let app = App::default();
    let copy = app.clone();
    ash_rs::block_on(app.create_r13(1)).unwrap();
    assert_eq!(ash_rs::block_on(copy.r13s()).unwrap().len(), 1);
    let a = ash_rs::block_on(app.create_a(2)).unwrap();
    let b = ash_rs::block_on(app.create_b(3)).unwrap();
    assert_eq!((a.n, b.n), (2, 3));
    let debug = format!("{app:?}");
    assert!(debug.starts_with("App { tables: "), "{debug}");
}
