#[warden::user_model]
pub struct Member {
    #[user(read, default = 5)]
    pub plan: String,
}

fn main() {}
