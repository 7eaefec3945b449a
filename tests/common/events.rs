//! A security-event sink that keeps what it receives, for tests that assert which
//! events a flow emits.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use warden::async_trait;
use warden::runtime::audit::{SecurityEvent, SecuritySink};

/// Every event, as JSON with its name.
#[derive(Clone, Default)]
pub struct Collect(Arc<Mutex<Vec<Value>>>);

#[async_trait]
impl SecuritySink for Collect {
    async fn record(&self, at: i64, event: &SecurityEvent) {
        assert!(at > 0);
        self.0
            .lock()
            .unwrap()
            .push(serde_json::to_value(event).unwrap());
    }
}

impl Collect {
    /// Waits (at most 2 s) until `n` events arrived, and returns them.
    pub async fn first(&self, n: usize) -> Vec<Value> {
        for _ in 0..400 {
            if self.0.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.0.lock().unwrap().clone()
    }

    /// Waits (at most 2 s) until an event named `name` (`{"event": name, ...}`)
    /// arrived, and returns every one so named.
    pub async fn named(&self, name: &str) -> Vec<Value> {
        let named = || -> Vec<Value> {
            let events = self.0.lock().unwrap();
            events
                .iter()
                .filter(|event| event["event"] == name)
                .cloned()
                .collect()
        };
        for _ in 0..400 {
            if !named().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        named()
    }
}
