#[warden::user_model]
pub struct Member {
    #[user(reed, create)]
    pub first_name: String,
}

fn main() {}
