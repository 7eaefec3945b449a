#[warden::user_model]
pub struct Member {
    #[user(read, update)]
    pub plan: String,
}

fn main() {}
