//! Everything the API tests share, in one place. Each helper says in its name or its arguments
//! what it sets up (a plan, the private-URL policy, an API key, an owner, a staff account), and
//! checks that each step of the setup succeeded. Nothing here reads the developer's environment:
//! the server starts from [`server::Config::defaults`], and the `herald` binary runs with an
//! empty environment (see [`herald_cli`]). Only `REQUIRE_POSTGRES` is read, to choose between
//! skipping and failing when PostgreSQL is not reachable.

mod accounts;
mod api;
mod app;
mod db;
mod delivery;
mod mail;
mod sink;

pub use accounts::{platform_key, signed_in_staff, system, tenant_with_key, tenant_with_owner_and_key, Plan, PrivateUrls, OWNER_PASSWORD};
pub use api::{api_get, delete, patch, plain_client, post, session_call, Reply};
pub use app::{eventually, herald_cli, within_limit, RunningWorker, TestApp};
pub use db::{Backend, TempDir};
pub use delivery::{add_endpoint, attempts, deliveries, run_one_event_through_every_attempt, send_event};
pub use sink::{Answer, Sink};

/// Defines `#[tokio::test]`s that run the same async fn on SQLite and on PostgreSQL, each on a
/// fresh app (see [`within_limit`]).
#[macro_export]
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::helpers::within_limit($crate::helpers::Backend::Sqlite, super::$name).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::helpers::within_limit($crate::helpers::Backend::Postgres, super::$name).await
            })*
        }
    };
}
