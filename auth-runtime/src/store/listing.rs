//! Listing users for operators ([`UserStore::list`](super::UserStore::list)): the
//! filters, and the order every store pages in (ascending id, so a page boundary
//! never moves when users are added: new UUIDs land anywhere, but each user is on
//! exactly one page of a walk, and new integer ids land at the end).

use crate::model::FieldValue;

/// What [`UserStore::list`](super::UserStore::list) keeps: every given condition
/// holds (absent ones do not filter).
///
/// ```
/// use warden_runtime::store::UserFilter;
/// let filter = UserFilter::default().email_prefix("Ada@").active(true);
/// assert_eq!(filter.email_prefix.as_deref(), Some("ada@"));
/// assert_eq!(filter.is_active, Some(true));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserFilter {
    /// The e-mail starts with this, compared in lower case (ASCII case folding in
    /// SQLite, Unicode in PostgreSQL and memory).
    pub email_prefix: Option<String>,
    /// `is_active` is this.
    pub is_active: Option<bool>,
    /// `is_verified` is this.
    pub is_verified: Option<bool>,
    /// `is_superuser` is this.
    pub is_superuser: Option<bool>,
    /// The user holds the role of this name (a model with a `#[user(roles)]` field;
    /// none match in a model without one).
    pub role: Option<String>,
}

impl UserFilter {
    /// E-mails starting with `prefix` (case-insensitively).
    pub fn email_prefix(mut self, prefix: &str) -> Self {
        self.email_prefix = Some(prefix.to_lowercase());
        self
    }

    /// Active, or inactive, users.
    pub fn active(mut self, active: bool) -> Self {
        self.is_active = Some(active);
        self
    }

    /// Verified, or unverified, users.
    pub fn verified(mut self, verified: bool) -> Self {
        self.is_verified = Some(verified);
        self
    }

    /// Superusers, or not.
    pub fn superuser(mut self, superuser: bool) -> Self {
        self.is_superuser = Some(superuser);
        self
    }

    /// Users holding the role `name`.
    pub fn role(mut self, name: &str) -> Self {
        self.role = Some(name.to_owned());
        self
    }
}

/// The name of a model's roles column, if it has one.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn roles_column(fields: &[crate::model::Field]) -> Option<&'static str> {
    fields
        .iter()
        .find(|field| matches!(field.kind, crate::model::FieldKind::Roles(_)))
        .map(|field| field.name)
}

/// `prefix` as a `LIKE` pattern matching every text that starts with it: `%`, `_`
/// and the escape `\` itself escaped (`ESCAPE '\'`), then `%`.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Orders ids as the SQL stores do: integers by value, UUIDs by their text.
pub(crate) fn id_order(a: &FieldValue, b: &FieldValue) -> std::cmp::Ordering {
    match (a, b) {
        (FieldValue::Int(a), FieldValue::Int(b)) => a.cmp(b),
        (FieldValue::Text(a), FieldValue::Text(b)) => a.cmp(b),
        _ => std::cmp::Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_prefix("ada"), "ada%");
        assert_eq!(like_prefix("a_b%c\\"), "a\\_b\\%c\\\\%");
    }
}
