//! Integration tests: the real server over HTTP, on SQLite and on PostgreSQL.

mod accounts;
mod archive;
mod audit;
mod crash;
mod dashboard_links;
mod delivery;
mod endpoint_throttle;
mod endpoints;
mod event_types;
mod filters;
mod guards;
mod health;
pub mod helpers;
mod jobs;
mod logs;
mod openapi;
mod ops;
mod pages;
mod platform;
mod read_only;
mod replay;
mod secrets;
mod sessions;
mod ssrf;
mod staff;
mod throttle;
