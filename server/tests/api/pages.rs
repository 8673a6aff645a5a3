//! Dashboard pages render whole, whatever else the process is doing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::both_databases;
use crate::helpers::TestApp;

both_databases!(pages_render_whole_while_other_servers_start_in_the_same_process,);

/// Starting a server lists the dashboard's routes by running the app with resource loading
/// switched off process-wide; a page render that first polled a resource meanwhile never
/// finished (one test in a few hundred hung this way, since every test starts a server).
async fn pages_render_whole_while_other_servers_start_in_the_same_process(app: TestApp) {
    let owner = app.owner("ana@lotus.example", "Lotus").await;
    let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
    let starting = {
        let (herald, stop) = (app.herald.clone(), stop.0.clone());
        tokio::task::spawn_blocking(move || {
            let mut started = 0;
            while !stop.load(Ordering::Relaxed) {
                drop(server::router(herald.clone(), &server::Config::defaults()));
                started += 1;
            }
            started
        })
    };
    for n in 0..100 {
        let page = tokio::time::timeout(std::time::Duration::from_secs(10), app.get(&owner, "/endpoints")).await;
        let page = page.unwrap_or_else(|_| panic!("page {n} never finished rendering"));
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("No endpoints yet") && page.text.contains("</html>"), "page {n} is whole: {}", page.text);
    }
    drop(stop);
    let started = starting.await.unwrap();
    assert!(started > 0, "servers were started while the pages rendered");
}

/// Stops the servers starting when the test ends, passed or failed (a runtime waits for its
/// blocking tasks before it shuts down).
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
