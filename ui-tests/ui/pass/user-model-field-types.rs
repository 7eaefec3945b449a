// Every supported field type, UUID ids, fields with no flags at all but a default,
// and a model with only the base fields.
use warden::{UserModel, user_model};

#[user_model]
pub struct Profile {
    #[user(read, create, update, default = 18)]
    pub age: i32,
    #[user(read)]
    pub small: Option<i16>,
    pub big: Option<i64>,
    #[user(read, update, default = 0.5)]
    pub ratio: f64,
    #[user(create, default = 1)]
    pub weight: f32,
    #[user(update, default = true)]
    pub newsletter: bool,
    #[user(default = "it's \"quoted\"")]
    pub note: String,
    #[user(read, create)]
    pub r#type: Option<String>,
}

#[user_model(id = uuid::Uuid)]
pub struct Bare {}

fn main() {
    // No required registration field: the extras have a `Default`.
    let create = ProfileCreate::default();
    assert_eq!((create.age, create.weight, create.r#type), (18, 1.0, None));
    assert_eq!(Profile::FIELDS.len(), 8);
    assert_eq!(Profile::FIELDS[6].default, Some(r#""it's \"quoted\"""#));
    assert!(Bare::FIELDS.is_empty());
}
