#[warden::user_model]
pub struct Member {
    #[user(read, default = "yes")]
    pub newsletter: bool,
}

fn main() {}
