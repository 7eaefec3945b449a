//! Reading `#[oauth_client(...)]` with darling.

use darling::FromMeta;
use darling::util::SpannedValue;

use crate::backend::parse::{AudienceArg, KeyArg};

/// The options as written. Unknown options are refused by darling, with a
/// "did you mean" among these names.
#[derive(FromMeta)]
pub(crate) struct ClientArgs {
    pub name: Option<SpannedValue<String>>,
    pub issuer: Option<KeyArg>,
    pub provider: Option<SpannedValue<String>>,
    pub github_url: Option<KeyArg>,
    pub github_api_url: Option<KeyArg>,
    pub client_id: Option<KeyArg>,
    pub client_secret: Option<KeyArg>,
    /// A list of strings, read as the backend's audience list is.
    pub scopes: Option<AudienceArg>,
    #[darling(rename = "crate")]
    pub krate: Option<crate::CratePath>,
}
