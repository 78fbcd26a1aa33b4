//! The command line, run as the real binary against a fresh database directory:
//! `migrate`, `user create`, `user set-password`, `backup`, `check`, `seed` and `recount`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use newsdesk::auth::password;
use newsdesk::db::DbConn;
use newsdesk::domain::users::{self, UserRow};

/// A password the CLI accepts.
const GOOD: &str = "a long enough passphrase";
/// Another one.
const NEWER: &str = "another long passphrase";

/// What a run of the binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts success, showing stderr (never stdout, which may hold a first admin's
    /// password) when it failed.
    #[track_caller]
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "stderr: {}", self.stderr);
        self
    }

    /// Asserts a failure with this exit code and a single line on stderr; returns it.
    #[track_caller]
    fn fails(self, code: i32) -> String {
        assert_eq!(self.code, code, "stderr: {}", self.stderr);
        let line = self.stderr.trim_end();
        assert_eq!(line.lines().count(), 1, "one line: {line:?}");
        line.to_owned()
    }
}

/// A fresh directory with a database path in it (the file is not created).
struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("newsdesk.db")
    }

    /// Runs `newsdesk ARGS` (split at spaces) on this desk's database, with only `env`
    /// in the environment and `stdin` on standard input.
    fn run_with(&self, args: &str, env: &[(&str, &str)], stdin: &str) -> Run {
        let args: Vec<&str> = args.split_whitespace().collect();
        self.run_on(&self.db(), &args, env, stdin)
    }

    /// Runs `newsdesk ARGS` on the database `db`, from the desk's directory (so no
    /// `.env` is read).
    fn run_on(&self, db: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_newsdesk"))
            .arg("--database-url")
            .arg(db)
            .args(args)
            .env_clear()
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the newsdesk binary runs");
        // A command that does not read its input may have exited already.
        let _ = child
            .stdin
            .take()
            .expect("piped")
            .write_all(stdin.as_bytes());
        let out = child.wait_with_output().expect("the newsdesk binary exits");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn run(&self, args: &str) -> Run {
        self.run_with(args, &[], "")
    }

    /// `backup TO` of this desk's database.
    fn backup(&self, to: &Path) -> Run {
        self.run_on(&self.db(), &["backup", to.to_str().unwrap()], &[], "")
    }

    /// `check` of the database `db`.
    fn check(&self, db: &Path) -> Run {
        self.run_on(db, &["check"], &[], "")
    }

    /// `user create` with the password in `NEWSDESK_PASSWORD`.
    fn create_user(&self, email: &str, role: &str, pw: &str) -> Run {
        self.run_with(
            &format!("user create --email {email} --name Staff --role {role}"),
            &[("NEWSDESK_PASSWORD", pw)],
            "",
        )
    }

    fn conn(&self) -> DbConn {
        DbConn::establish(&self.db().to_string_lossy()).expect("open the database")
    }

    /// The stored account with this email.
    fn user(&self, email: &str) -> Option<UserRow> {
        users::find_by_email(&mut self.conn(), email).unwrap()
    }

    fn articles(&self) -> i64 {
        use newsdesk::schema::articles;
        articles::table
            .count()
            .get_result(&mut self.conn())
            .unwrap()
    }
}

#[test]
fn migrate_creates_the_database_and_runs_again_harmlessly() {
    let desk = Desk::new();
    assert!(!desk.db().exists());
    let first = desk.run("migrate").ok();
    assert!(desk.db().exists());
    assert_eq!(
        first.stdout.trim_end(),
        format!("migrations applied to {}", desk.db().display())
    );
    desk.run("migrate").ok();
    desk.run("check").ok();
    assert_eq!(desk.articles(), 0);
    assert!(desk.user("anyone@example.com").is_none());
}

#[test]
fn user_create_makes_an_account_that_signs_in_with_its_password() {
    let desk = Desk::new();
    let run = desk.create_user("Ed@Example.com", "editor", GOOD).ok();
    let user = desk.user("ed@example.com").expect("the account exists");
    assert_eq!(
        run.stdout.trim_end(),
        format!("created ed@example.com (editor) with id {}", user.id)
    );
    assert_eq!(
        (user.role.as_str(), user.name.as_str()),
        ("editor", "Staff")
    );
    assert!(!user.disabled);
    assert!(password::verify(GOOD, &user.password_hash));
    assert!(!password::verify(NEWER, &user.password_hash));
    assert!(!run.stdout.contains(GOOD) && !run.stderr.contains(GOOD));

    // The password may come on standard input instead.
    desk.run_with(
        "user create --email w@example.com --name W --role writer",
        &[],
        &format!("{GOOD}\n"),
    )
    .ok();
    let writer = desk.user("w@example.com").expect("the account exists");
    assert_eq!(writer.role, "writer");
    assert!(password::verify(GOOD, &writer.password_hash));
}

#[test]
fn user_create_refuses_a_bad_role_a_short_password_and_a_taken_email() {
    let desk = Desk::new();
    desk.create_user("ed@example.com", "editor", GOOD).ok();

    // Roles are checked by the parser: its usage error, first line naming the value.
    let bad_role = desk.create_user("boss@example.com", "boss", GOOD);
    assert_eq!(bad_role.code, 2, "stderr: {}", bad_role.stderr);
    assert!(
        bad_role
            .stderr
            .starts_with("error: invalid value 'boss' for '--role <ROLE>'"),
        "{}",
        bad_role.stderr
    );
    assert!(desk.user("boss@example.com").is_none());

    let short = desk
        .create_user("short@example.com", "writer", "tiny")
        .fails(1);
    assert!(short.starts_with("newsdesk: password"), "{short}");
    assert!(short.contains("at least 10 characters"), "{short}");
    let short_stdin = desk
        .run_with(
            "user create --email short@example.com --name S --role writer",
            &[],
            "tiny\n",
        )
        .fails(1);
    assert!(
        short_stdin.contains("password must be at least 10 characters"),
        "{short_stdin}"
    );
    assert!(desk.user("short@example.com").is_none());

    let taken = desk.create_user("ED@example.com", "writer", NEWER).fails(1);
    assert!(taken.starts_with("newsdesk: "), "{taken}");
    assert!(taken.to_lowercase().contains("email"), "{taken}");
    let kept = desk.user("ed@example.com").unwrap();
    assert_eq!(kept.role, "editor", "the first account is untouched");
    assert!(password::verify(GOOD, &kept.password_hash));
}

#[test]
fn user_set_password_replaces_the_password_and_ends_tokens() {
    let desk = Desk::new();
    desk.create_user("ed@example.com", "editor", GOOD).ok();
    let before = desk.user("ed@example.com").unwrap();
    let run = desk
        .run_with(
            "user set-password --email ed@example.com",
            &[("NEWSDESK_PASSWORD", NEWER)],
            "",
        )
        .ok();
    assert_eq!(
        run.stdout.trim_end(),
        "password changed for ed@example.com; its existing tokens no longer work"
    );
    let after = desk.user("ed@example.com").unwrap();
    assert!(password::verify(NEWER, &after.password_hash));
    assert!(
        !password::verify(GOOD, &after.password_hash),
        "the old password no longer works"
    );
    assert!(after.token_version > before.token_version);

    // Too short, or an unknown account: refused, nothing changed.
    let short = desk
        .run_with(
            "user set-password --email ed@example.com",
            &[("NEWSDESK_PASSWORD", "tiny")],
            "",
        )
        .fails(1);
    assert!(
        short.contains("password must be at least 10 characters"),
        "{short}"
    );
    let nobody = desk
        .run_with(
            "user set-password --email nobody@example.com",
            &[],
            &format!("{GOOD}\n"),
        )
        .fails(1);
    assert!(nobody.contains("not found"), "{nobody}");
    let unchanged = desk.user("ed@example.com").unwrap();
    assert_eq!(unchanged.password_hash, after.password_hash);
}

#[test]
fn backup_writes_a_sound_copy_and_never_overwrites() {
    let desk = Desk::new();
    desk.create_user("ed@example.com", "admin", GOOD).ok();
    desk.run("seed --articles 20").ok();
    let copy = desk.dir.path().join("copy.db");
    let copy_arg = copy.to_str().unwrap();
    let run = desk.backup(&copy).ok();
    assert!(
        run.stdout.starts_with(&format!(
            "backed up {} to {copy_arg} (",
            desk.db().display()
        )),
        "{}",
        run.stdout
    );
    let checked = desk.check(&copy).ok();
    assert_eq!(checked.stdout, "ok\n");
    let mut conn = DbConn::establish(copy_arg).unwrap();
    let copied: i64 = newsdesk::schema::articles::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(copied, 20);
    assert!(
        users::find_by_email(&mut conn, "ed@example.com")
            .unwrap()
            .is_some()
    );

    let size = std::fs::metadata(&copy).unwrap().len();
    let refused = desk.backup(&copy).fails(1);
    assert!(refused.contains("already exists"), "{refused}");
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), size);
}

#[test]
fn check_says_ok_on_a_sound_database_and_fails_on_a_damaged_one() {
    let desk = Desk::new();
    desk.create_user("ed@example.com", "admin", GOOD).ok();
    desk.run("seed --articles 50").ok();
    assert_eq!(desk.run("check").ok().stdout, "ok\n");

    // A file of random bytes is no database at all.
    let noise = desk.dir.path().join("noise.db");
    let bytes: Vec<u8> = (0..64 * 1024).map(|_| rand::random::<u8>()).collect();
    std::fs::write(&noise, bytes).unwrap();
    let run = desk.check(&noise);
    assert_eq!(run.stdout, "");
    let refused = run.fails(1);
    assert!(refused.contains("not a database"), "{refused}");

    // A readable database whose index no longer matches its table: the integrity
    // check's own findings are printed, and the exit says it is damaged.
    let damaged = desk.dir.path().join("damaged.db");
    desk.backup(&damaged).ok();
    let mut conn = DbConn::establish(damaged.to_str().unwrap()).unwrap();
    conn.batch_execute("PRAGMA writable_schema = ON").unwrap();
    let changed = diesel::sql_query(
        "UPDATE sqlite_schema SET sql = 'CREATE INDEX articles_title_idx ON articles \
         (status, slug, id)' WHERE name = 'articles_title_idx'",
    )
    .execute(&mut conn)
    .unwrap();
    assert_eq!(changed, 1, "the index to damage exists");
    drop(conn);
    let run = desk.check(&damaged);
    assert_eq!(run.code, 1, "stdout: {}", run.stdout);
    assert!(
        run.stdout
            .starts_with("row 1 missing from index articles_title_idx"),
        "{}",
        run.stdout
    );
    assert_eq!(run.stderr, "newsdesk: the database file is damaged\n");

    let missing = desk.check(&desk.dir.path().join("missing.db")).fails(1);
    assert!(missing.ends_with("does not exist"), "{missing}");
}

#[test]
fn seed_fills_an_empty_database_then_adds_articles() {
    let desk = Desk::new();
    desk.create_user("ed@example.com", "admin", GOOD).ok();
    let demo = desk.run("seed --demo").ok();
    assert!(
        demo.stdout
            .starts_with("demo newsroom ready: 60 articles, "),
        "{}",
        demo.stdout
    );
    assert_eq!(desk.articles(), 60);
    let more = desk.run("seed --articles 50").ok();
    assert!(
        more.stdout.starts_with("added 50 articles in "),
        "{}",
        more.stdout
    );
    assert_eq!(desk.articles(), 110);
    // The demo goes on an empty database only; asking for nothing is a usage error.
    desk.run("seed --demo").fails(1);
    assert_eq!(desk.articles(), 110);
    assert_eq!(desk.run("seed").code, 2);
}

/// Every maintained count's key and sum (non-zero), in order.
fn count_sums(db: &Path) -> Vec<(i32, i32, i64)> {
    #[derive(QueryableByName)]
    struct Sum {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        kind: i32,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        ref_id: i32,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = DbConn::establish(db.to_str().unwrap()).unwrap();
    let rows: Vec<Sum> = diesel::sql_query(
        "SELECT kind, ref_id, SUM(n) AS n FROM article_counts GROUP BY kind, ref_id \
         HAVING SUM(n) <> 0 ORDER BY kind, ref_id",
    )
    .load(&mut conn)
    .unwrap();
    rows.into_iter().map(|r| (r.kind, r.ref_id, r.n)).collect()
}

#[test]
fn recount_rebuilds_the_counts_the_seed_kept() {
    let desk = Desk::new();
    desk.create_user("ed@example.com", "admin", GOOD).ok();
    desk.run("seed --articles 90").ok();
    let kept = count_sums(&desk.db());
    // All, sections, tags, bylines, regions and blocks, and each but blocks per language.
    let kinds: std::collections::BTreeSet<i32> = kept.iter().map(|k| k.0).collect();
    assert!(kinds.len() >= 6 + 5 * 3, "{kinds:?}");
    assert!(kept.contains(&(0, 0, 90)), "{kept:?}");
    let mut conn = DbConn::establish(desk.db().to_str().unwrap()).unwrap();
    conn.batch_execute(
        "DELETE FROM article_counts WHERE kind = 2 OR kind >= 8;
         UPDATE article_counts SET n = n + 7 WHERE kind = 0;",
    )
    .unwrap();
    drop(conn);
    assert_ne!(count_sums(&desk.db()), kept);
    let run = desk.run("recount").ok();
    assert!(
        run.stdout.starts_with("counts rebuilt from the stories: "),
        "{}",
        run.stdout
    );
    assert_eq!(count_sums(&desk.db()), kept);

    // A mistyped path is refused, and no database is made there.
    let missing = desk.dir.path().join("typo.db");
    let refused = desk.run_on(&missing, &["recount"], &[], "").fails(1);
    assert!(refused.contains("does not exist"), "{refused}");
    assert!(!missing.exists());
}

#[test]
fn bad_or_unreachable_postgres_urls_stop_with_one_line_naming_the_setting() {
    let desk = Desk::new();
    let on = |url: &str, args: &[&str]| desk.run_on(Path::new(url), args, &[], "");
    // Nothing listens on port 1: the start stops at once with the reason.
    for args in [&["migrate"][..], &["check"], &[]] {
        let line = on("postgres://newsdesk:hunter2@127.0.0.1:1/newsroom", args).fails(1);
        assert!(line.contains("DATABASE_URL"), "{args:?}: {line}");
        assert!(
            !line.contains("hunter2"),
            "the password is never shown: {line}"
        );
    }
    let line = on("postgres:///newsroom", &["migrate"]).fails(2);
    assert!(line.contains("DATABASE_URL"), "{line}");
    let line = on("mysql://db/newsroom", &["migrate"]).fails(2);
    assert!(
        line.contains("DATABASE_URL") && line.contains("mysql"),
        "{line}"
    );
}

#[test]
fn backup_on_postgres_points_to_pg_dump() {
    let desk = Desk::new();
    let line = desk
        .run_on(
            Path::new("postgres://newsdesk@127.0.0.1:1/newsroom"),
            &["backup", "/tmp/never.db"],
            &[],
            "",
        )
        .fails(1);
    assert!(line.contains("pg_dump"), "{line}");
}

#[test]
fn env_example_lists_every_setting() {
    use clap::CommandFactory;
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example"))
        .expect("read .env.example");
    let listed: Vec<&str> = example
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .collect();
    let command = newsdesk::cli::Cli::command();
    let mut missing = Vec::new();
    for arg in command.get_arguments() {
        if arg.is_hide_set() {
            continue;
        }
        if let Some(name) = arg.get_env().and_then(|n| n.to_str())
            && !listed.contains(&name)
        {
            missing.push(name.to_owned());
        }
    }
    assert!(missing.is_empty(), ".env.example lacks {missing:?}");
    // The S3 store's credentials keep their usual names and are listed too.
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_ENDPOINT",
    ] {
        assert!(listed.contains(&name), ".env.example lacks {name}");
    }
}

#[test]
fn export_then_import_moves_a_newsroom_and_reports_refused_lines() {
    let desk = Desk::new();
    desk.create_user("ed@example.com", "admin", GOOD).ok();
    desk.run("seed --demo").ok();
    let file = desk.dir.path().join("newsroom.ndjson");
    let exported = desk
        .run_on(
            &desk.db(),
            &["export", "-o", file.to_str().unwrap()],
            &[],
            "",
        )
        .ok();
    // In a pipe: no progress bar, one summary line.
    assert!(
        exported.stderr.starts_with("exported ") && exported.stderr.lines().count() == 1,
        "{}",
        exported.stderr
    );
    assert!(exported.stdout.is_empty());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.lines().count() > 150);
    assert!(
        !text.contains("$argon2"),
        "no hashes without --with-credentials"
    );
    // Never overwrites.
    desk.run_on(
        &desk.db(),
        &["export", "-o", file.to_str().unwrap()],
        &[],
        "",
    )
    .fails(1);

    let other = desk.dir.path().join("other.db");
    let admin = [
        ("ADMIN_EMAIL", "boss@example.com"),
        ("ADMIN_PASSWORD", GOOD),
    ];
    let imported = desk
        .run_on(&other, &["import", file.to_str().unwrap()], &admin, "")
        .ok();
    assert!(
        imported.stderr.contains("imported 19"),
        "{}",
        imported.stderr
    );
    let mut conn = DbConn::establish(&other.to_string_lossy()).unwrap();
    use newsdesk::schema::articles;
    let n: i64 = articles::table.count().get_result(&mut conn).unwrap();
    assert_eq!(n, 60);
    // A second import into the now full database is refused, naming --merge.
    let again = desk
        .run_on(&other, &["import", file.to_str().unwrap()], &admin, "")
        .fails(1);
    assert!(again.contains("--merge"), "{again}");

    // A file with bad lines: each is listed with its line and reason; exit 1.
    let bad = desk.dir.path().join("bad.ndjson");
    let header = text
        .lines()
        .next()
        .unwrap()
        .replace("export_id\":\"", "export_id\":\"x");
    std::fs::write(
        &bad,
        format!(
            "{header}\n{}\n{{\"type\": \"tag\", \"data\": {{}}}}\nnot json\n",
            json_tag("Kept")
        ),
    )
    .unwrap();
    let third = desk.dir.path().join("third.db");
    let run = desk.run_on(&third, &["import", bad.to_str().unwrap()], &admin, "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("line 3: tag: name:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("line 4: record: not a JSON object"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("imported 1 records"), "{}", run.stderr);
    // Not an export at all.
    let wxr = desk.dir.path().join("site.xml");
    std::fs::write(&wxr, "<rss/>").unwrap();
    let refused = desk
        .run_on(&third, &["import", wxr.to_str().unwrap()], &admin, "")
        .fails(1);
    assert!(refused.contains("--from wordpress"), "{refused}");
}

fn json_tag(name: &str) -> String {
    format!("{{\"type\": \"tag\", \"data\": {{\"name\": \"{name}\"}}}}")
}

#[test]
fn json_logs_carry_the_request_id() {
    use std::io::{BufRead, BufReader, Read};
    let desk = Desk::new();
    let port = 20_000 + (std::process::id() % 20_000) as u16;
    let mut server = Command::new(env!("CARGO_BIN_EXE_newsdesk"))
        .args(["--database-url", desk.db().to_str().unwrap()])
        .args(["--bind-addr", &format!("127.0.0.1:{port}")])
        .env_clear()
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("ADMIN_EMAIL", "logs@example.com")
        .env("ADMIN_PASSWORD", GOOD)
        .current_dir(desk.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stream = None;
    for _ in 0..100 {
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            stream = Some(s);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut stream = stream.expect("the server listens");
    stream
        .write_all(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-me-42\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(
        response
            .to_lowercase()
            .contains("x-request-id: trace-me-42")
    );
    let stderr = server.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut found = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        let value: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            value["timestamp"].is_string() && value["level"].is_string(),
            "{line}"
        );
        if value["message"] == "request" {
            found = Some(value);
            break;
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    let entry = found.expect("an access log line");
    assert_eq!(entry["request_id"], "trace-me-42");
    assert_eq!(entry["path"], "/healthz");
    assert_eq!(entry["status"], 200);
}
