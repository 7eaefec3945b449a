#[derive(warden::Roles)]
struct Role {
    name: String,
}

fn main() {}
