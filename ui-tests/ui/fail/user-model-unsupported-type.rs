#[warden::user_model]
pub struct Member {
    #[user(read, create)]
    pub tags: Vec<String>,
}

fn main() {}
