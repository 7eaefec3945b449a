#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
enum Role {
    Admin,
    Editor(u8),
}

fn main() {}
