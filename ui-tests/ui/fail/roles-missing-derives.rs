#[derive(warden::Roles)]
enum Role {
    Admin,
}

fn main() {}
