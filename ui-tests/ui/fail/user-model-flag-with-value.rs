#[warden::user_model]
pub struct Member {
    #[user(read = true, create)]
    pub first_name: String,
}

fn main() {}
