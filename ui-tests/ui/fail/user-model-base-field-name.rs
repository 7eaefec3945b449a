#[warden::user_model]
pub struct Member {
    #[user(read, create)]
    pub email: String,
}

fn main() {}
