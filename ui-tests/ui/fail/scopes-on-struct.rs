#[derive(warden::Scopes)]
struct Scope {
    name: String,
}

fn main() {}
