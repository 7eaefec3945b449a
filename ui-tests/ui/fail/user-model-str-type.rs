#[warden::user_model]
pub struct Member {
    #[user(read, default = "x")]
    pub name: &'static str,
}

fn main() {}
