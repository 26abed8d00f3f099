//! Tenantry's HTTP API.
//!
//! Requests flow one way: an extractor authenticates and parses, the handler calls one service
//! function of `tenantry_core` and shapes the response; rules live in the services.

pub mod audit_export;
pub mod auth;
pub mod client_addr;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod key_auth;
pub mod mailer;
pub mod metrics;
pub mod openapi;
pub mod request_id;
pub mod request_log;
pub mod routes;
pub mod security_events;
pub mod startup;
pub mod state;
pub mod views;
pub mod webhooks;

pub use config::Config;
pub use startup::Application;
