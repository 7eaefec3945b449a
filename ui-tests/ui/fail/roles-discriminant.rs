#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
enum Role {
    Admin,
    Viewer = 7,
}

fn main() {}
