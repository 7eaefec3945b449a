#[warden::user_model]
pub struct Member {
    #[user(create)]
    pub password: String,
}

fn main() {}
