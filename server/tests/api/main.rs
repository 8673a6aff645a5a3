//! Integration tests: the real server over HTTP, on SQLite and on PostgreSQL.

mod accounts;
mod archive;
mod audit;
mod crash;
mod delivery;
mod endpoints;
mod logs;
mod replay;
mod guards;
pub mod helpers;
mod sink;
mod staff;
