//! `konter serve --photos`: the binary on port 0, called with raw HTTP over std's TcpStream (an
//! independent client: no hyper on this side).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "test-token-0123456789abcdef";
const LEDGER_SERIAL: &str = "703423659660268";
const LEDGER_CODE: &str = "79214153447967";
const STAGED_SERIAL: &str = "511122223333";
const STAGED_CODE: &str = "9988776655443322";
const PLAIN_SERIAL: &str = "622233334444";

fn konter(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_konter"));
    c.env("KONTER_DATA_DIR", data)
        .env("KONTER_CONFIG", data.join("none.toml"))
        .env_remove("KONTER_OTOMAX_URL")
        .env_remove("KONTER_ROUTER_ADDR")
        .env_remove("KONTER_SERVE_TOKEN");
    c
}

fn run(data: &Path, args: &[&str]) -> Output {
    konter(data).args(args).output().unwrap()
}

/// A store with one ledger voucher and one staged voucher read from photos, and one ledger
/// voucher typed in without a photo.
fn shop() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    std::fs::write(d.join("none.toml"), "").unwrap();
    let o = run(&d, &["init", "--demo"]);
    assert!(o.status.success(), "{o:?}");
    let photos = d.join("photos");
    std::fs::create_dir(&photos).unwrap();
    let img = image::RgbImage::from_fn(400, 300, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    img.save(photos.join("IMG_0001.jpg")).unwrap();
    img.save(photos.join("IMG_0002.jpg")).unwrap();
    let c = rusqlite::Connection::open(d.join("konter.db")).unwrap();
    let product: String = c
        .query_row("SELECT code FROM products ORDER BY code LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    c.execute(
        "INSERT INTO vouchers (product, code, serial, expiry, entry_at, photo_path, photo_box)
         VALUES (?1, ?2, ?3, '2027-06-10', '2026-11-21T07:00:00', ?4, '40,30,200,100,-2.5')",
        rusqlite::params![
            product,
            LEDGER_CODE,
            LEDGER_SERIAL,
            photos.join("IMG_0001.jpg").to_str().unwrap()
        ],
    )
    .unwrap();
    c.execute(
        "INSERT INTO vouchers (product, code, serial, expiry, entry_at)
         VALUES (?1, '1231231231231231', ?2, '2027-06-10', '2026-11-21T07:00:00')",
        rusqlite::params![product, PLAIN_SERIAL],
    )
    .unwrap();
    c.execute(
        "INSERT INTO staging_batches (source, file_name, created_by, created_at, status_at)
         VALUES ('image', 'IMG_0002.jpg', 'test', '2026-11-21T07:00:00', '2026-11-21T07:00:00')",
        [],
    )
    .unwrap();
    let batch = c.last_insert_rowid();
    let row = (batch << 32) + 1;
    c.execute(
        "INSERT INTO staging_rows (id, product, code, serial, expiry)
         VALUES (?1, ?2, ?3, ?4, '2027-01-31')",
        rusqlite::params![row, product, STAGED_CODE, STAGED_SERIAL],
    )
    .unwrap();
    c.execute(
        "INSERT INTO staging_photos (row_id, photo_path, photo_box) VALUES (?1, ?2, '100,50,120,80,0')",
        rusqlite::params![row, photos.join("IMG_0002.jpg").to_str().unwrap()],
    )
    .unwrap();
    (dir, d)
}

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(data: &Path, token: &str, extra: &[&str]) -> Server {
        let mut child = konter(data)
            .args(["--json", "serve", "--photos", "--bind", "127.0.0.1:0"])
            .args(extra)
            .env("KONTER_SERVE_TOKEN", token)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("first line {line:?}: {e}"));
        let url = v["listening"].as_str().unwrap();
        Server {
            addr: url.trim_start_matches("http://").to_string(),
            child,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        assert!(
            self.header("content-type")
                .unwrap_or("")
                .starts_with("application/json"),
            "{:?}",
            self.headers
        );
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// One request on a fresh connection, read to its end.
fn http(addr: &str, method: &str, target: &str, headers: &[(&str, &str)]) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let body = raw[split + 4..].to_vec();
    let reply = Reply {
        status,
        headers,
        body,
    };
    if let Some(len) = reply.header("content-length") {
        assert_eq!(len.parse::<usize>().unwrap(), reply.body.len());
    }
    reply
}

fn get(addr: &str, target: &str) -> Reply {
    let auth = format!("Bearer {TOKEN}");
    http(addr, "GET", target, &[("Authorization", &auth)])
}

#[test]
fn finds_ledger_and_staged_photos_and_serves_the_card() {
    let (_dir, d) = shop();
    let srv = Server::start(&d, TOKEN, &[]);

    // Ledger, by serial (spaces inside, %-encoded, are ignored).
    let r = get(&srv.addr, "/photos?serial=7034%202365%209660268");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["count"], 1);
    assert_eq!(v["query"]["serial"], LEDGER_SERIAL);
    let hit = &v["vouchers"][0];
    assert_eq!(hit["serial"], LEDGER_SERIAL);
    assert_eq!(hit["code"], LEDGER_CODE);
    assert_eq!(hit["place"], "ledger");
    assert_eq!(hit["status"], "stock");
    assert_eq!(
        hit["photo"], "IMG_0001.jpg",
        "the file name, not the server's path"
    );
    assert_eq!(
        hit["box"],
        serde_json::json!({"x": 40, "y": 30, "w": 200, "h": 100, "angle": -2.5})
    );
    assert!(hit["product"].as_str().is_some_and(|p| !p.is_empty()));
    let url = hit["image_url"].as_str().unwrap();
    assert_eq!(
        url,
        format!(
            "http://{}/photos/image?serial={LEDGER_SERIAL}&n=0",
            srv.addr
        )
    );

    // The image URL it gave: the card's crop, as JPEG of the box's size.
    let path = hit["image_path"].as_str().unwrap();
    let img = get(&srv.addr, path);
    assert_eq!(img.status, 200);
    assert_eq!(img.header("content-type"), Some("image/jpeg"));
    assert_eq!(&img.body[..3], &[0xFF, 0xD8, 0xFF]);
    let card = image::load_from_memory_with_format(&img.body, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((card.width(), card.height()), (200, 100));

    // Staging, by code; the image by content negotiation on /photos.
    let r = get(&srv.addr, &format!("/photos?code={STAGED_CODE}"));
    assert_eq!(r.status, 200);
    let v = r.json();
    let hit = &v["vouchers"][0];
    assert_eq!(hit["place"], "staging");
    assert_eq!(hit["status"], "new");
    assert_eq!(hit["serial"], STAGED_SERIAL);
    assert_eq!(hit["photo"], "IMG_0002.jpg");
    assert_eq!(hit["box"]["w"], 120);
    let auth = format!("Bearer {TOKEN}");
    let img = http(
        &srv.addr,
        "GET",
        &format!("/photos?code={STAGED_CODE}"),
        &[("Authorization", &auth), ("Accept", "image/jpeg")],
    );
    assert_eq!(img.status, 200);
    assert_eq!(img.header("content-type"), Some("image/jpeg"));
    let card = image::load_from_memory_with_format(&img.body, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((card.width(), card.height()), (120, 80));

    // A voucher typed in without a photo: found, with no photo, and its image is a clear 404.
    let v = get(&srv.addr, &format!("/photos?serial={PLAIN_SERIAL}")).json();
    assert_eq!(v["vouchers"][0]["photo"], serde_json::Value::Null);
    assert_eq!(v["vouchers"][0]["image_url"], serde_json::Value::Null);
    let r = get(&srv.addr, &format!("/photos/image?serial={PLAIN_SERIAL}"));
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].as_str().unwrap().contains("photo"));

    // A serial searched as a code finds nothing: the field is honoured.
    assert_eq!(
        get(&srv.addr, &format!("/photos?code={LEDGER_SERIAL}")).status,
        404
    );
}

#[test]
fn refuses_wrong_tokens_bad_queries_and_other_methods() {
    let (_dir, d) = shop();
    let srv = Server::start(&d, TOKEN, &[]);
    let target = format!("/photos?serial={LEDGER_SERIAL}");

    for headers in [
        vec![],
        vec![(
            "Authorization",
            "Bearer test-token-0123456789abcdeX".to_string(),
        )],
        vec![("Authorization", "Bearer short".to_string())],
        vec![("Authorization", format!("Basic {TOKEN}"))],
        vec![("Authorization", format!("Bearer {TOKEN}x"))],
    ] {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = http(&srv.addr, "GET", &target, &h);
        assert_eq!(r.status, 401, "{headers:?}");
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
        let v = r.json();
        assert!(v["error"].as_str().unwrap().contains("token"));
        assert!(!String::from_utf8_lossy(&r.body).contains(TOKEN));
    }
    // The scheme is case-insensitive.
    let lower = format!("bearer {TOKEN}");
    assert_eq!(
        http(&srv.addr, "GET", &target, &[("Authorization", &lower)]).status,
        200
    );

    let r = get(&srv.addr, "/photos?serial=111122223333");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].as_str().unwrap().contains("111122223333"));
    assert_eq!(get(&srv.addr, "/admin").status, 404);
    let r = get(
        &srv.addr,
        &format!("/photos/image?serial={LEDGER_SERIAL}&n=5"),
    );
    assert_eq!(r.status, 404);

    for bad in [
        "/photos",
        "/photos?serial=12ab34",
        "/photos?serial=%27%20OR%201=1",
        "/photos?serial=123456789012345678901234567890123",
        "/photos?serial=1&code=2",
        "/photos?sn=123",
        "/photos/image?serial=12x",
    ] {
        let r = get(&srv.addr, bad);
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.json()["error"].as_str().is_some_and(|e| !e.is_empty()));
    }

    let auth = format!("Bearer {TOKEN}");
    for method in ["POST", "PUT", "DELETE"] {
        let r = http(
            &srv.addr,
            method,
            &target,
            &[("Authorization", &auth), ("Content-Length", "0")],
        );
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET"));
        r.json();
    }
    // A body on a GET is refused, unread.
    let r = http(
        &srv.addr,
        "GET",
        &target,
        &[("Authorization", &auth), ("Content-Length", "5")],
    );
    assert_eq!(r.status, 413);
    // Headers past the size limit are refused by the HTTP layer.
    let huge = "x".repeat(64 * 1024);
    let mut s = TcpStream::connect(&srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = s
        .write_all(format!("GET {target} HTTP/1.1\r\nHost: x\r\nX-Big: {huge}\r\n\r\n").as_bytes());
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let head = String::from_utf8_lossy(&raw);
    assert!(
        head.is_empty() || head.starts_with("HTTP/1.1 431"),
        "{head}"
    );

    // The token is in no log line.
    drop(srv);
    let logs = d.join("logs");
    let mut seen = 0;
    for e in std::fs::read_dir(&logs).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap_or_default();
        seen += text.matches("photo request").count();
        assert!(!text.contains(TOKEN), "token logged");
        assert!(!text.contains("0123456789abcde"), "token logged");
    }
    assert!(seen > 0, "requests are logged");
}

#[test]
fn a_slow_client_blocks_no_one_and_is_cut_off() {
    let (_dir, d) = shop();
    let srv = Server::start(&d, TOKEN, &["--read-timeout", "1"]);
    // A connection that never says anything, and half a request, never finished.
    let mut idle = TcpStream::connect(&srv.addr).unwrap();
    let mut slow = TcpStream::connect(&srv.addr).unwrap();
    slow.write_all(b"GET /photos?serial=1 HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let t = Instant::now();
    let r = get(&srv.addr, &format!("/photos?serial={LEDGER_SERIAL}"));
    assert_eq!(r.status, 200);
    assert!(
        t.elapsed() < Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    // The slow one is closed once its time is up (with or without a 408 first).
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    let head = String::from_utf8_lossy(&rest);
    assert!(
        head.is_empty() || head.starts_with("HTTP/1.1 408"),
        "{head}"
    );
    // So is the one that never sent a byte.
    idle.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut rest = Vec::new();
    let _ = idle.read_to_end(&mut rest);
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
}

#[test]
fn refuses_to_start_without_a_long_token_and_never_prints_it() {
    let (_dir, d) = shop();
    for (token, says) in [("", "KONTER_SERVE_TOKEN"), ("short-secret-1", "too short")] {
        let o = konter(&d)
            .args(["serve", "--photos", "--bind", "127.0.0.1:0"])
            .env("KONTER_SERVE_TOKEN", token)
            .output()
            .unwrap();
        assert!(!o.status.success());
        let text =
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        assert!(text.contains(says), "{text}");
        if !token.is_empty() {
            assert!(!text.contains(token), "{text}");
        }
    }
    // A token in a world-readable config file is refused too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let cfg = d.join("open.toml");
        std::fs::write(&cfg, format!("[serve]\ntoken = \"{TOKEN}\"\n")).unwrap();
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = konter(&d)
            .args(["serve", "--photos", "--bind", "127.0.0.1:0"])
            .env("KONTER_CONFIG", &cfg)
            .output()
            .unwrap();
        assert!(!o.status.success());
        let text = String::from_utf8_lossy(&o.stderr);
        assert!(text.contains("chmod 600"), "{text}");
        assert!(!text.contains(TOKEN), "{text}");
    }
    // Without a store it says how to make one.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("none.toml"), "").unwrap();
    let o = konter(empty.path())
        .args(["serve", "--photos", "--bind", "127.0.0.1:0"])
        .env("KONTER_SERVE_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("konter init"));
    // Without --photos it says what to add.
    let o = konter(&d)
        .args(["serve"])
        .env("KONTER_SERVE_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--photos"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_it_cleanly() {
    let (_dir, d) = shop();
    let mut srv = Server::start(&d, TOKEN, &[]);
    assert_eq!(
        get(&srv.addr, &format!("/photos?serial={LEDGER_SERIAL}")).status,
        200
    );
    // An idle keep-alive connection must not hold the shutdown up.
    let mut idle = TcpStream::connect(&srv.addr).unwrap();
    let auth = format!("Bearer {TOKEN}");
    idle.write_all(
        format!("GET /photos?serial={LEDGER_SERIAL} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let mut buf = [0u8; 12];
    idle.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
    let t = Instant::now();
    let st = Command::new("kill")
        .args(["-INT", &srv.child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = srv.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(t.elapsed() < Duration::from_secs(8));
    let mut out = String::new();
    srv.child
        .stdout
        .as_mut()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["stopped"], true);
    assert_eq!(last["requests"], 2);
}
