//! A database of its own for each test that needs PostgreSQL, on the server the test command
//! starts (`CONTINUITY_TEST_POSTGRES`, an address whose user may create databases), dropped
//! when the test ends.

/// Set by `cargo xtask test`, which starts a throwaway PostgreSQL cluster for the run.
pub const SERVER: &str = "CONTINUITY_TEST_POSTGRES";

/// A fresh, empty database; dropped (with anything still connected to it) on drop.
pub struct Database {
    url: String,
    name: String,
    admin: String,
}

impl Database {
    /// `None` when no PostgreSQL server was given (a plain `cargo test`): the test says it
    /// did not run. Under the test command, which always gives one, a missing server fails.
    pub fn fresh() -> Option<Database> {
        let Ok(admin) = std::env::var(SERVER) else {
            assert!(
                std::env::var_os("CONTINUITY_REQUIRE_POSTGRES").is_none(),
                "{SERVER} is not set: the PostgreSQL tests must run under the test command"
            );
            eprintln!("{SERVER} is not set: skipping a PostgreSQL test (cargo xtask test runs it)");
            return None;
        };
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        // On a thread of its own: the blocking client cannot run inside a tokio test.
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut client = postgres::Client::connect(&admin, postgres::NoTls)
                    .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server at {admin}: {e}"));
                client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
            })
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
        });
        let url = match admin.rfind('/') {
            Some(slash) if slash > "postgres://".len() => format!("{}/{name}", &admin[..slash]),
            _ => format!("{admin}/{name}"),
        };
        Some(Database { url, name, admin })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // From a thread of its own, as above.
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            if let Ok(mut client) = postgres::Client::connect(&admin, postgres::NoTls) {
                let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        })
        .join();
    }
}
