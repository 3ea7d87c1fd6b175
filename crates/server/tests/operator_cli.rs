//! `refshare operator add` as an administrator runs it for the first operator of a fresh
//! install: on a migrated database it adds the operator (role `admin` unless told) and
//! prints it; the same address again is exit 1; bad input is exit 2 with one line; a
//! database that does not exist is exit 2 and is not created.

use std::process::{Command, Output};

fn operator_add(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_refshare"))
        .args(["operator", "add"])
        .args(args)
        .args(["--database-url", url])
        .env_remove("REFSHARE_DATABASE_URL")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn remove(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[test]
fn operator_add_creates_the_first_operator_and_refuses_duplicates_and_bad_input() {
    let path = std::env::temp_dir().join(format!("refshare-operator-add-{}.db", std::process::id()));
    remove(&path);
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let migrated = Command::new(env!("CARGO_BIN_EXE_refshare")).args(["migrate", "--database-url", &url]).output().unwrap();
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));

    let out = operator_add(&url, &["Root@Platform.test"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    assert!(line.contains("<root@platform.test>") && line.contains("role admin") && line.contains("status invited"), "{line}");
    assert!(line.starts_with("operator added: root <"), "name defaults to the local part: {line}");

    let out = operator_add(&url, &["vera@platform.test", "--name", "Vera Viewer", "--role", "viewer"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Vera Viewer <vera@platform.test> role viewer"), "{}", text(&out.stdout));

    // The same address in another case: refused, exit 1, one line.
    let out = operator_add(&url, &["ROOT@platform.test"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.starts_with("refshare: operator add: ") && err.contains("already exists") && err.trim_end().lines().count() == 1, "{err}");

    // Bad input: exit 2, one line naming each argument.
    let out = operator_add(&url, &["not-an-address", "--role", "owner"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("EMAIL: ") && err.contains("--role: must be `admin` or `viewer`") && err.trim_end().lines().count() == 1, "{err}");

    // Both operators are stored: the store reads them back.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let stored = rt.block_on(async {
        let store = refshare_store::Store::open(&url).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let page = tx.operators_page(refshare_store::PageReq { page: 1, size: 10 }).await.unwrap();
        let entries = tx.audit(Some("operator"), None).await.unwrap();
        drop(tx);
        store.close().await;
        (page, entries)
    });
    let ((ops, total), audit) = stored;
    assert_eq!(total, 2);
    assert_eq!(
        ops.iter().map(|o| (o.email.as_str(), o.role.as_str())).collect::<Vec<_>>(),
        [("root@platform.test", "admin"), ("vera@platform.test", "viewer")]
    );
    assert!(audit.iter().all(|a| a.actor == "cli" && a.action == "operator.created") && audit.len() == 2, "{audit:?}");
    remove(&path);
}

#[test]
fn operator_add_never_creates_a_database() {
    let path = std::env::temp_dir().join(format!("refshare-operator-missing-{}.db", std::process::id()));
    remove(&path);
    let out = operator_add(&format!("sqlite://{}", path.display()), &["root@platform.test"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("does not exist"), "{}", text(&out.stderr));
    assert!(!path.exists(), "nothing was created");
}
