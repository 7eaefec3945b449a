#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
enum Role {
    #[role("Content Editor")]
    ContentEditor,
    #[role("")]
    Empty,
}

fn main() {}
