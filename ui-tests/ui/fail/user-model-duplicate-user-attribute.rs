#[warden::user_model]
pub struct Member {
    #[user(read)]
    #[user(create)]
    pub first_name: String,
}

fn main() {}
