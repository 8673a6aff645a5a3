//! Integration tests: the real server over HTTP, on SQLite and on PostgreSQL.

mod accounts;
mod endpoints;
mod guards;
pub mod helpers;
