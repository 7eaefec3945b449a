// Every mistake is reported at once, each at its own token.
#[warden::user_model(id = u64)]
pub struct Member {
    #[user(read, create)]
    pub id: String,
    #[user(read)]
    pub plan: String,
    #[user(create, default = 1.5)]
    pub age: i32,
}

fn main() {}
