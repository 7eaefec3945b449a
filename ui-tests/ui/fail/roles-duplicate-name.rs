#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
enum Role {
    Admin,
    #[role("admin")]
    Root,
}

fn main() {}
