// `sqlx::migrate!` embeds the migrations at build time; without this, a migration added to
// the directory is not seen until something else in this crate changes.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
