use axum::Router;
use axum::routing::get;
use warden::role::{AnyRole, Roles, role_bits};
use warden::{Active, CurrentUser, UserModel, Warden, protected, user_model};

#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)]
pub enum Role {
    Admin,
    ContentEditor,
    #[role("billing:viewer")]
    Billing,
}

#[user_model(id = i64)]
pub struct Member {
    #[user(read, create)]
    pub name: String,
    #[user(roles)]
    pub roles: Vec<Role>,
}

#[protected(active, role = Role::ContentEditor)]
async fn edit(member: Member) -> String {
    member.name
}

#[protected(active, verified, any_role(Role::ContentEditor, Role::Admin))]
async fn publish(member: Member) -> String {
    member.name
}

#[protected(optional, role = Role::Billing)]
async fn invoices(member: Option<Member>) -> String {
    member.map(|m| m.name).unwrap_or_default()
}

type Admins = AnyRole<Role, { role_bits(&[Role::Admin as usize]) }>;

async fn by_hand(CurrentUser { user, .. }: CurrentUser<(Active, Admins), Member>) -> String {
    user.name
}

fn main() {
    assert_eq!(Role::ContentEditor.name(), "content_editor");
    assert_eq!(<Member as UserModel>::ROLES, ["admin", "content_editor", "billing:viewer"]);
    let _app: Router<Warden<Member>> = Router::new()
        .route("/edit", get(edit))
        .route("/publish", get(publish))
        .route("/invoices", get(invoices))
        .route("/by-hand", get(by_hand));
}
