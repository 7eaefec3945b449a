#[warden::user_model]
pub struct Member {
    #[user(roles)]
    pub roles: String,
}

fn main() {}
