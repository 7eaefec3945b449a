//! The application's own operations in warden's document: `#[protected]` handlers
//! documented with `#[utoipa::path]` carry a placeholder security requirement
//! (`warden`, its scopes naming the policy); here it becomes the warden's real
//! schemes, with the 401 and 403 answers the guard gives.

use serde_json::{Map, Value, json};
use utoipa::openapi::OpenApi;

use super::{ApiSpec, Op, document_of, paths};

/// The placeholder scheme `#[protected]` writes.
const PLACEHOLDER: &str = "warden";

/// Warden's document of `ops`, with the application's operations merged in.
pub(crate) fn merged(spec: &ApiSpec, ops: Vec<Op>, app: Option<&OpenApi>) -> Value {
    let mut doc = document_of(spec, ops);
    if let Some(app) = app {
        doc.merge(app.clone());
    }
    let mut json = serde_json::to_value(doc).unwrap_or_else(|error| {
        // Strings, numbers and maps only: this cannot fail; answer an empty document
        // rather than take the server down if it ever does.
        tracing::error!(%error, "the OpenAPI document did not serialise");
        Value::Null
    });
    resolve_guards(&mut json, &paths::scheme_names(spec), spec);
    json
}

fn error_response(detail: &str, description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ErrorModel"},
            "example": {"detail": detail}
        }}
    })
}

/// Replaces every placeholder requirement with the warden's schemes (any one of
/// them authenticates, as the guard tries every backend), and adds the guard's
/// answers unless the operation documents them itself.
fn resolve_guards(doc: &mut Value, schemes: &[String], spec: &ApiSpec) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for operation in item.values_mut() {
            let Some(operation) = operation.as_object_mut() else {
                continue;
            };
            let Some(scopes) = placeholder_scopes(operation) else {
                continue;
            };
            let has = |scope: &str| scopes.iter().any(|s| s == scope);
            let named = |prefix: &str, known: &[(&str, &'static str)]| -> Vec<&'static str> {
                scopes
                    .iter()
                    .filter_map(|s| s.strip_prefix(prefix))
                    .filter_map(|variant| {
                        known
                            .iter()
                            .find(|(known, _)| *known == variant)
                            .map(|(_, name)| *name)
                    })
                    .collect()
            };
            // The scope an API key needs, in each requirement's list (OpenAPI 3.1
            // §4.8.30: for schemes other than OAuth2 the list names what the
            // operation requires).
            let needed = named("scope:", &spec.scopes);
            let roles = named("role:", &spec.roles);
            let mut security: Vec<Value> = schemes
                .iter()
                .map(|scheme| json!({ scheme.as_str(): needed }))
                .collect();
            if has("optional") {
                // OpenAPI's spelling of "authentication is optional".
                security.push(json!({}));
            }
            operation.insert("security".into(), Value::Array(security));
            let responses = operation
                .entry("responses")
                .or_insert_with(|| Value::Object(Map::new()));
            let Some(responses) = responses.as_object_mut() else {
                continue;
            };
            if !has("optional") {
                let description = if has("active") {
                    "No valid token, or the user is unknown or inactive."
                } else {
                    "No valid token, or the user is unknown."
                };
                responses
                    .entry("401")
                    .or_insert_with(|| error_response("Unauthorized", description));
            }
            let mut refusals = Vec::new();
            match (has("verified"), has("superuser")) {
                (true, true) => {
                    refusals.push("The user is not verified, or not a superuser.".to_owned())
                }
                (true, false) => refusals.push("The user is not verified.".to_owned()),
                (false, true) => refusals.push("The user is not a superuser.".to_owned()),
                (false, false) => {}
            }
            if !roles.is_empty() {
                refusals.push(format!(
                    "The user holds none of the roles {}.",
                    quoted(&roles)
                ));
            }
            if let [scope] = needed.as_slice() {
                refusals.push(format!(
                    "An API key without the scope `{scope}` (`WWW-Authenticate: Bearer error=\"insufficient_scope\"`)."
                ));
            }
            if !refusals.is_empty() && !has("optional") {
                let description = refusals.join(" ");
                responses
                    .entry("403")
                    .or_insert_with(|| error_response("Forbidden", &description));
            }
        }
    }
}

/// `a`, `b` as `` `a`, `b` ``.
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The application's documented routes, for the route table: `(method, path, what)`,
/// `what` being the operation's summary, else its `#[protected(...)]` flags.
pub(crate) fn app_routes(api: &OpenApi) -> Vec<(String, String, String)> {
    let Ok(doc) = serde_json::to_value(api) else {
        return Vec::new();
    };
    let mut routes = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return routes;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, operation) in item {
            let Some(operation) = operation.as_object() else {
                continue;
            };
            let what = match (operation.get("summary"), placeholder_scopes(operation)) {
                (Some(Value::String(summary)), _) => summary.clone(),
                (_, Some(scopes)) => {
                    // `scope:ReportsRead` as written: `scope = ReportsRead`.
                    let written: Vec<String> =
                        scopes.iter().map(|s| s.replacen(':', " = ", 1)).collect();
                    format!("#[protected({})]", written.join(", "))
                }
                _ => String::new(),
            };
            routes.push((method.to_ascii_uppercase(), path.clone(), what));
        }
    }
    routes
}

/// The scopes of the placeholder requirement, if the operation has one.
fn placeholder_scopes(operation: &Map<String, Value>) -> Option<Vec<String>> {
    operation
        .get("security")?
        .as_array()?
        .iter()
        .find_map(|requirement| requirement.get(PLACEHOLDER))
        .and_then(Value::as_array)
        .map(|scopes| {
            scopes
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_the_schemes_and_the_guard_answers() {
        let mut doc = json!({"paths": {
            "/admin": {"get": {"security": [{"warden": ["active", "superuser"]}],
                               "responses": {"200": {"description": "ok"}}}},
            "/maybe": {"get": {"security": [{"warden": ["optional"]}]}},
            "/open": {"get": {"responses": {}}}
        }});
        resolve_guards(
            &mut doc,
            &["OAuth2PasswordBearer".into(), "APIKeyCookie".into()],
            &ApiSpec::new("app", Vec::new()),
        );
        let admin = &doc["paths"]["/admin"]["get"];
        assert_eq!(
            admin["security"],
            json!([{"OAuth2PasswordBearer": []}, {"APIKeyCookie": []}])
        );
        assert_eq!(
            admin["responses"]["403"]["description"],
            "The user is not a superuser."
        );
        assert!(admin["responses"]["401"].is_object());
        let maybe = &doc["paths"]["/maybe"]["get"];
        assert_eq!(maybe["security"][2], json!({}));
        assert!(maybe["responses"].get("401").is_none());
        assert!(doc["paths"]["/open"]["get"].get("security").is_none());
    }

    #[test]
    fn scopes_and_roles_are_shown_by_name() {
        let mut doc = json!({"paths": {
            "/reports": {"get": {"security": [{"warden": ["active", "scope:ReportsRead", "role:Editor", "role:Admin"]}]}},
            "/unknown": {"get": {"security": [{"warden": ["active", "scope:Gone"]}]}}
        }});
        let spec = ApiSpec {
            scopes: vec![("ReportsRead", "reports:read")],
            roles: vec![("Admin", "admin"), ("Editor", "editor")],
            ..ApiSpec::new("app", Vec::new())
        };
        resolve_guards(&mut doc, &["HTTPBearer".into()], &spec);
        let reports = &doc["paths"]["/reports"]["get"];
        assert_eq!(
            reports["security"],
            json!([{"HTTPBearer": ["reports:read"]}])
        );
        assert_eq!(
            reports["responses"]["403"]["description"],
            "The user holds none of the roles `editor`, `admin`. An API key without the \
             scope `reports:read` (`WWW-Authenticate: Bearer error=\"insufficient_scope\"`)."
        );
        // A scope the warden was not told of (`scopes::<S>()`) is left out.
        let unknown = &doc["paths"]["/unknown"]["get"];
        assert_eq!(unknown["security"], json!([{"HTTPBearer": []}]));
        assert!(unknown["responses"].get("403").is_none());
    }
}
