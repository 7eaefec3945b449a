//! Reading `#[auth_backend(...)]` with darling. Values darling has no parser for
//! (`env("VAR")`, `forever`, `bearer`) get `FromMeta` impls that keep their spans.

use darling::util::SpannedValue;
use darling::{Error, FromMeta};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Lit};

use crate::suggest::closest;

/// The options as written. Unknown options are refused by darling, with a
/// "did you mean" among these names.
#[derive(FromMeta)]
pub(crate) struct BackendArgs {
    pub name: Option<SpannedValue<String>>,
    pub lifetime: Option<LifetimeArg>,
    pub algorithm: Option<SpannedValue<String>>,
    pub secret: Option<KeyArg>,
    pub public_key: Option<KeyArg>,
    pub verify_keys: Option<KeyListArg>,
    pub audience: Option<AudienceArg>,
    pub transport: Option<TransportArg>,
    pub strategy: Option<SpannedValue<String>>,
    pub redis_url: Option<KeyArg>,
    pub refresh: Option<Seconds>,
    pub max_session_age: Option<Seconds>,
    #[darling(rename = "crate")]
    pub krate: Option<crate::CratePath>,
}

/// `lifetime = 3600` or `lifetime = forever`.
pub(crate) enum LifetimeArg {
    Seconds(u64, Span),
    Forever(Span),
}

impl LifetimeArg {
    /// Where the value was written.
    pub(crate) fn span(&self) -> Span {
        match self {
            Self::Seconds(_, span) | Self::Forever(span) => *span,
        }
    }
}

impl FromMeta for LifetimeArg {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        const HINT: &str =
            "write a number of seconds, e.g. `lifetime = 3600`, or `lifetime = forever`";
        match expr {
            Expr::Lit(lit) => match &lit.lit {
                // syn reads `-3600` as one negative literal (spanned at the `-`).
                Lit::Int(int) if int.base10_digits().starts_with('-') => {
                    Err(Error::custom(format!("lifetime must be positive; {HINT}")).with_span(int))
                }
                Lit::Int(int) => int
                    .base10_parse::<u64>()
                    .map(|seconds| Self::Seconds(seconds, int.span()))
                    .map_err(|_| {
                        Error::custom(format!("lifetime is too large; {HINT}")).with_span(int)
                    }),
                Lit::Str(_) => Err(Error::custom(format!(
                    "lifetime is a number, not a string; {HINT}"
                ))
                .with_span(lit)),
                _ => Err(
                    Error::custom(format!("lifetime must be an integer; {HINT}")).with_span(lit),
                ),
            },
            Expr::Path(path) if path.path.is_ident("forever") => Ok(Self::Forever(path.span())),
            Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) => {
                Err(Error::custom(format!("lifetime must be positive; {HINT}")).with_span(expr))
            }
            Expr::Group(group) => Self::from_expr(&group.expr),
            _ => Err(Error::custom(format!("unexpected lifetime; {HINT}")).with_span(expr)),
        }
    }
}

/// A number of seconds (`refresh`, `max_session_age`), spanned.
pub(crate) struct Seconds {
    pub value: u64,
    pub span: Span,
}

impl FromMeta for Seconds {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        const HINT: &str = "write a number of seconds, e.g. 604800 (7 days)";
        match expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(int), ..
            }) if !int.base10_digits().starts_with('-') => int
                .base10_parse::<u64>()
                .map(|value| Self {
                    value,
                    span: int.span(),
                })
                .map_err(|_| Error::custom(format!("too large; {HINT}")).with_span(int)),
            Expr::Group(group) => Self::from_expr(&group.expr),
            _ => Err(Error::custom(format!("expected a positive integer; {HINT}")).with_span(expr)),
        }
    }
}

/// Where a key comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Env,
    File,
    Literal,
}

/// `env("VAR")`, `file("path")` or `"literal"`.
pub(crate) struct KeyArg {
    pub kind: KeyKind,
    pub value: String,
    pub span: Span,
}

impl FromMeta for KeyArg {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        const HINT: &str = "write env(\"VAR\"), file(\"path/to/key.pem\") or a string literal";
        match expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Ok(Self {
                kind: KeyKind::Literal,
                value: s.value(),
                span: s.span(),
            }),
            Expr::Call(call) => {
                let Expr::Path(func) = &*call.func else {
                    return Err(Error::custom(format!("unexpected key source; {HINT}"))
                        .with_span(&call.func));
                };
                let name = func
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let kind = match name.as_str() {
                    "env" => KeyKind::Env,
                    "file" => KeyKind::File,
                    other => {
                        let suggestion = closest(other, &["env", "file"])
                            .map(|s| format!("did you mean `{s}`? "))
                            .unwrap_or_default();
                        return Err(Error::custom(format!(
                            "unknown key source `{other}`; {suggestion}{HINT}"
                        ))
                        .with_span(&call.func));
                    }
                };
                match call.args.iter().collect::<Vec<_>>().as_slice() {
                    [
                        Expr::Lit(syn::ExprLit {
                            lit: Lit::Str(s), ..
                        }),
                    ] => Ok(Self {
                        kind,
                        value: s.value(),
                        span: s.span(),
                    }),
                    _ => Err(Error::custom(format!(
                        "{name}(...) takes one string literal, e.g. {name}(\"{}\")",
                        if kind == KeyKind::Env {
                            "WARDEN_SECRET"
                        } else {
                            "keys/private.pem"
                        }
                    ))
                    .with_span(&call.args)),
                }
            }
            Expr::Group(group) => Self::from_expr(&group.expr),
            _ => Err(Error::custom(format!("unexpected key source; {HINT}")).with_span(expr)),
        }
    }
}

/// `verify_keys = [file("next.pem"), env("OLD_PUBLIC_KEY")]` (or one key source).
pub(crate) struct KeyListArg {
    pub keys: Vec<KeyArg>,
    pub span: Span,
}

impl FromMeta for KeyListArg {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        match expr {
            Expr::Array(array) => {
                let mut errors = Error::accumulator();
                let keys = array
                    .elems
                    .iter()
                    .filter_map(|e| errors.handle(KeyArg::from_expr(e)))
                    .collect();
                errors.finish_with(Self {
                    keys,
                    span: expr.span(),
                })
            }
            Expr::Group(group) => Self::from_expr(&group.expr),
            _ => Ok(Self {
                keys: vec![KeyArg::from_expr(expr)?],
                span: expr.span(),
            }),
        }
    }
}

/// `audience = ["a", "b"]` (or one string).
pub(crate) struct AudienceArg {
    pub values: Vec<(String, Span)>,
    pub span: Span,
}

impl FromMeta for AudienceArg {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        let string = |e: &Expr| match e {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Ok((s.value(), s.span())),
            other => Err(Error::custom("an audience is a string literal").with_span(other)),
        };
        match expr {
            Expr::Array(array) => {
                let mut errors = Error::accumulator();
                let values = array
                    .elems
                    .iter()
                    .filter_map(|e| errors.handle(string(e)))
                    .collect();
                errors.finish_with(Self {
                    values,
                    span: expr.span(),
                })
            }
            Expr::Lit(_) => Ok(Self {
                values: vec![string(expr)?],
                span: expr.span(),
            }),
            Expr::Group(group) => Self::from_expr(&group.expr),
            _ => Err(Error::custom("write audience = [\"fastapi-users:auth\"]").with_span(expr)),
        }
    }
}

/// `transport = bearer`, `transport = cookie`, `transport = cookie(name = "...", ...)`
/// or `transport = header("X-API-Key")`.
pub(crate) enum TransportArg {
    Bearer,
    Cookie(CookieArgs),
    /// The header's name, and where the transport was written.
    Header(String, Span),
}

/// The options of `cookie(...)`, each with the span of its value.
#[derive(Default)]
pub(crate) struct CookieArgs {
    pub name: Option<(String, Span)>,
    pub max_age: Option<(u64, Span)>,
    pub path: Option<(String, Span)>,
    pub domain: Option<(String, Span)>,
    pub secure: Option<(bool, Span)>,
    pub http_only: Option<(bool, Span)>,
    pub same_site: Option<(String, Span)>,
}

const COOKIE_OPTIONS: [&str; 7] = [
    "name",
    "max_age",
    "path",
    "domain",
    "secure",
    "http_only",
    "same_site",
];

impl FromMeta for TransportArg {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        const HINT: &str = "expected `bearer` (the `Authorization: Bearer` header), `cookie(name = \"...\")` or, for API keys, `header(\"X-API-Key\")`";
        match expr {
            Expr::Path(path) if path.path.is_ident("bearer") => Ok(Self::Bearer),
            Expr::Path(path) if path.path.is_ident("cookie") => {
                Ok(Self::Cookie(CookieArgs::default()))
            }
            Expr::Call(call) if matches!(&*call.func, Expr::Path(p) if p.path.is_ident("cookie")) =>
            {
                let mut errors = Error::accumulator();
                let mut args = CookieArgs::default();
                for arg in &call.args {
                    if let Some(()) = errors.handle(cookie_option(&mut args, arg)) {}
                }
                errors.finish_with(Self::Cookie(args))
            }
            Expr::Call(call) if matches!(&*call.func, Expr::Path(p) if p.path.is_ident("header")) =>
            {
                match call.args.iter().collect::<Vec<_>>().as_slice() {
                    [
                        Expr::Lit(syn::ExprLit {
                            lit: Lit::Str(s), ..
                        }),
                    ] => Ok(Self::Header(s.value(), s.span())),
                    _ => Err(Error::custom(
                        "header(...) takes the header's name as one string literal, e.g. header(\"X-API-Key\")",
                    )
                    .with_span(&call.args)),
                }
            }
            Expr::Group(group) => Self::from_expr(&group.expr),
            _ => Err(Error::custom(format!("unknown transport; {HINT}")).with_span(expr)),
        }
    }
}

fn cookie_option(args: &mut CookieArgs, arg: &Expr) -> darling::Result<()> {
    let Expr::Assign(assign) = arg else {
        return Err(Error::custom(
            "cookie options are written `key = value`, e.g. cookie(name = \"auth\")",
        )
        .with_span(arg));
    };
    let key = match &*assign.left {
        Expr::Path(path) => path
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default(),
        other => return Err(Error::custom("expected a cookie option name").with_span(other)),
    };
    let value = &*assign.right;
    let span = value.span();
    let duplicate =
        || Error::custom(format!("cookie option `{key}` is given twice")).with_span(&assign.left);
    let string = || match value {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.value()),
        _ => Err(
            Error::custom(format!("cookie option `{key}` takes a string literal")).with_span(value),
        ),
    };
    let boolean = || match value {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        _ => Err(
            Error::custom(format!("cookie option `{key}` takes `true` or `false`"))
                .with_span(value),
        ),
    };
    macro_rules! set {
        ($field:ident, $value:expr) => {{
            if args.$field.is_some() {
                return Err(duplicate());
            }
            args.$field = Some(($value, span));
        }};
    }
    match key.as_str() {
        "name" => set!(name, string()?),
        "path" => set!(path, string()?),
        "domain" => set!(domain, string()?),
        "same_site" => set!(same_site, string()?),
        "secure" => set!(secure, boolean()?),
        "http_only" => set!(http_only, boolean()?),
        "max_age" => match value {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(int), ..
            }) if !int.base10_digits().starts_with('-') => {
                let seconds = int
                    .base10_parse::<u64>()
                    .map_err(|_| Error::custom("max_age is too large").with_span(int))?;
                set!(max_age, seconds)
            }
            _ => {
                return Err(Error::custom(
                    "max_age takes a number of seconds, e.g. max_age = 3600",
                )
                .with_span(value));
            }
        },
        other => {
            let suggestion = closest(other, &COOKIE_OPTIONS)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            return Err(Error::custom(format!(
                "unknown cookie option `{other}`; {suggestion}expected one of {}",
                COOKIE_OPTIONS.join(", ")
            ))
            .with_span(&assign.left));
        }
    }
    Ok(())
}
