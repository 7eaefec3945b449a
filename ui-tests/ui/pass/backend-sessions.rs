use warden::{AuthBackend, SessionConfig, StrategyConfig, auth_backend};

#[auth_backend(name = "jwt", lifetime = 900, refresh = 1209600, max_session_age = 2592000)]
pub struct Rotating;

#[auth_backend(name = "db", lifetime = 3600, strategy = "database")]
pub struct Db;

#[auth_backend(name = "redis", lifetime = 3600, strategy = "redis", redis_url = env("CACHE_URL"))]
pub struct Redis;

#[auth_backend(name = "forever", lifetime = forever)]
pub struct Forever;

fn main() {
    assert_eq!(
        Rotating::CONFIG.sessions,
        SessionConfig { refresh: Some(1_209_600), max_age: Some(2_592_000) }
    );
    assert_eq!(Db::CONFIG.strategy, StrategyConfig::Database);
    assert_eq!(Db::CONFIG.sessions, SessionConfig::DEFAULT);
    assert!(matches!(Redis::CONFIG.strategy, StrategyConfig::Redis { .. }));
    assert_eq!(Forever::CONFIG.sessions.max_age, None);
}
