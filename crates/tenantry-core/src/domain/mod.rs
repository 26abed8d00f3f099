//! Value types of the domain. Each parses its input once, at the edge.

pub mod api_key;
pub mod audit;
pub mod email;
pub mod host_event;
pub mod ids;
pub mod invitation;
pub mod mfa;
pub mod models;
pub mod pagination;
pub mod password;
pub mod permission;
pub mod plan;
pub mod preset;
pub mod secret;
pub mod settings;
pub mod slug;
pub mod team;
pub mod usage;
pub mod webhook;
