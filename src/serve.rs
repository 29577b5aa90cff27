//! `konter serve --photos`: a read-only HTTP endpoint that finds a voucher's photo, for a chat bot
//! on another server.
//!
//! - `GET /photos?serial=N` (or `?code=N`): JSON with every voucher that has that serial (code):
//!   product, serial, code, status, where it is (ledger or staging), the photo's file name, the
//!   card's box and the URL of its image.
//! - `GET /photos/image?serial=N[&n=I]`: the card cut out of its photo as `image/jpeg` (the whole
//!   photo when no box was stored); `n` picks the I-th voucher of the JSON list, else the first
//!   one with a photo. `GET /photos` with `Accept: image/jpeg` answers the same.
//!
//! Every request needs `Authorization: Bearer TOKEN` (`[serve] token` or `KONTER_SERVE_TOKEN`,
//! at least 16 characters, compared in constant time, never logged). Each lookup opens the store
//! read-only, so the TUI can write at the same time (WAL). Headers are capped at 16 KiB and must
//! arrive within the read timeout; connections are capped; image work is capped too, so slow or
//! greedy clients cannot starve the others.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::cli::{CmdResult, Ctx, UserError};
use crate::store::intake::VoucherDetail;
use crate::store::Store;

/// Shortest token the server accepts.
pub const MIN_TOKEN_LEN: usize = 16;
/// Longest serial or code a query may carry (digits).
pub const MAX_QUERY_DIGITS: usize = 32;
/// Longest request target (path and query) accepted.
const MAX_TARGET: usize = 512;
/// Connections served at once; further ones wait in the listen queue.
const MAX_CONNECTIONS: usize = 128;
/// Photos decoded at once (a phone photo takes tens of MB while it is cut).
const MAX_IMAGE_JOBS: usize = 2;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve the voucher photo endpoint (GET /photos, GET /photos/image).
    #[arg(long)]
    pub photos: bool,
    /// Address to listen on (default: [serve] bind, 127.0.0.1:8088); port 0 picks a free port.
    #[arg(long)]
    pub bind: Option<String>,
    /// Seconds a client has to send its request headers before the connection is closed.
    #[arg(long, default_value_t = 10)]
    pub read_timeout: u64,
}

/// What the server needs; the token stays inside (no Debug).
pub struct ServeOptions {
    pub db: PathBuf,
    pub token: String,
    pub read_timeout: Duration,
}

/// Refuses a missing or short token, saying what to do.
pub fn check_token(token: &str) -> Result<(), String> {
    if token.is_empty() {
        return Err(format!(
            "konter serve needs a bearer token: set KONTER_SERVE_TOKEN or [serve] token in the \
             config (at least {MIN_TOKEN_LEN} characters, e.g. the output of \
             `head -c 24 /dev/urandom | base64`)"
        ));
    }
    if token.chars().count() < MIN_TOKEN_LEN {
        return Err(format!(
            "the [serve] token (or KONTER_SERVE_TOKEN) is too short: it needs at least \
             {MIN_TOKEN_LEN} characters; make a longer random one"
        ));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            "the [serve] token (or KONTER_SERVE_TOKEN) holds spaces or control characters; \
             use letters, digits and punctuation only"
                .into(),
        );
    }
    Ok(())
}

pub fn run(ctx: &Ctx, args: ServeArgs) -> CmdResult {
    let lang = ctx.lang();
    if !args.photos {
        return Err(Box::new(UserError(
            lang.t(
                "sebutkan apa yang dilayani: konter serve --photos",
                "say what to serve: konter serve --photos",
            )
            .into(),
        )));
    }
    let token = ctx.config.serve.token.clone();
    check_token(&token).map_err(UserError)?;
    let bind = args
        .bind
        .clone()
        .unwrap_or_else(|| ctx.config.serve.bind.clone());
    let db = ctx.config.db_path();
    // Fail now, not at the first request, when the store is missing or unreadable; bring its
    // schema up to date once (the requests open it read-only and never migrate).
    if !db.is_file() {
        return Err(Box::new(UserError(format!(
            "no store at {}; run `konter init` first (or set KONTER_DATA_DIR)",
            db.display()
        ))));
    }
    drop(Store::open(&db)?);
    Store::open_read_only(&db)?;
    let opts = ServeOptions {
        db,
        token,
        read_timeout: Duration::from_secs(args.read_timeout.max(1)),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let json = ctx.json;
    rt.block_on(async move {
        let listener = TcpListener::bind(&bind).await.map_err(|e| {
            UserError(format!(
                "cannot listen on {bind}: {e}; pick another address with --bind HOST:PORT"
            ))
        })?;
        let addr = listener.local_addr()?;
        if json {
            println!(
                "{}",
                json!({"listening": format!("http://{addr}"), "endpoints": ["/photos", "/photos/image"]})
            );
        } else {
            println!("konter serve: http://{addr}/photos?serial=... (Ctrl-C stops)");
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        tracing::info!(%addr, "photo endpoint listening");
        let served = serve(listener, opts, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        if json {
            println!("{}", json!({"stopped": true, "requests": served}));
        } else {
            println!("konter serve: stopped after {served} requests");
        }
        tracing::info!(served, "photo endpoint stopped");
        Ok::<i32, Box<dyn std::error::Error + Send + Sync>>(0)
    })
}

struct State {
    opts: ServeOptions,
    images: Semaphore,
    requests: AtomicU64,
}

/// Serves until `shutdown` completes, then lets open requests finish (at most 5 s).
/// Returns how many requests were answered.
pub async fn serve(
    listener: TcpListener,
    opts: ServeOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<u64> {
    let read_timeout = opts.read_timeout;
    let state = Arc::new(State {
        opts,
        images: Semaphore::new(MAX_IMAGE_JOBS),
        requests: AtomicU64::new(0),
    });
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = slots.clone().acquire_owned() => p.expect("semaphore never closed"),
        };
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let state = state.clone();
        let mut stop = stop_rx.clone();
        conns.spawn(async move {
            let _permit = permit;
            let svc = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(req, &state, peer).await) }
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(read_timeout)
                .max_buf_size(16 * 1024)
                .keep_alive(true);
            let conn = http.serve_connection(TokioIo::new(tcp), svc);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => if let Err(e) = r {
                    tracing::debug!(%peer, "connection ended: {e}");
                },
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        // Reap finished connections so the set does not grow.
        while conns.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.abort_all();
    Ok(state.requests.load(Ordering::Relaxed))
}

type Resp = Response<Full<Bytes>>;

fn json_response(status: StatusCode, body: &Value) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn error(status: StatusCode, message: &str) -> Resp {
    json_response(
        status,
        &json!({"error": message, "status": status.as_u16()}),
    )
}

fn authorized(req: &Request<Incoming>, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return false;
    };
    let value = value.as_bytes();
    if value.len() < 7 || !value[..7].eq_ignore_ascii_case(b"bearer ") {
        return false;
    }
    let given = value[7..].trim_ascii();
    // Length differences show (as with any string compare); the bytes do not.
    bool::from(given.ct_eq(token.as_bytes()))
}

async fn handle(req: Request<Incoming>, state: &State, peer: SocketAddr) -> Resp {
    let started = Instant::now();
    state.requests.fetch_add(1, Ordering::Relaxed);
    let path = req.uri().path().to_string();
    let resp = route(req, state).await;
    // The query (a serial) may be logged; the Authorization header never is.
    tracing::info!(
        %peer,
        path,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "photo request"
    );
    resp
}

async fn route(req: Request<Incoming>, state: &State) -> Resp {
    if !authorized(&req, &state.opts.token) {
        let mut r = error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token: send Authorization: Bearer <[serve] token>",
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"konter\""),
        );
        return r;
    }
    let image = match req.uri().path() {
        "/photos" => wants_image(&req),
        "/photos/image" => true,
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                "no such endpoint; use GET /photos?serial=... or GET /photos/image?serial=...",
            )
        }
    };
    if req.method() != Method::GET {
        let mut r = error(
            StatusCode::METHOD_NOT_ALLOWED,
            "this endpoint is read-only: only GET is allowed",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return r;
    }
    if has_body(&req) {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "a GET request carries no body; put the serial or code in the query",
        );
    }
    if req
        .uri()
        .path_and_query()
        .is_some_and(|p| p.as_str().len() > MAX_TARGET)
    {
        return error(
            StatusCode::URI_TOO_LONG,
            "the request line is too long; send one serial or code",
        );
    }
    let query = match parse_query(req.uri().query().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let db = state.opts.db.clone();
    let q = query.clone();
    let found = match tokio::task::spawn_blocking(move || lookup(&db, &q)).await {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            tracing::error!("photo lookup failed: {e}");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("the store could not be read: {e}"),
            );
        }
        Err(e) => {
            tracing::error!("photo lookup panicked: {e}");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "the lookup failed");
        }
    };
    if found.is_empty() {
        return json_response(
            StatusCode::NOT_FOUND,
            &json!({
                "error": format!("no voucher has {} {}", query.field.name(), query.digits),
                "status": 404,
                "query": {query.field.name(): query.digits},
            }),
        );
    }
    if image {
        return image_response(state, &query, &found).await;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let vouchers: Vec<Value> = found
        .iter()
        .enumerate()
        .map(|(i, v)| voucher_json(v, i, &query, host.as_deref()))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "query": {query.field.name(): query.digits},
            "count": vouchers.len(),
            "vouchers": vouchers,
        }),
    )
}

fn wants_image(req: &Request<Incoming>) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
    else {
        return false;
    };
    let accept = accept.to_ascii_lowercase();
    (accept.contains("image/jpeg") || accept.contains("image/*"))
        && !accept.contains("application/json")
}

fn has_body(req: &Request<Incoming>) -> bool {
    let h = req.headers();
    h.contains_key(header::TRANSFER_ENCODING)
        || h.get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Field {
    Serial,
    Code,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Serial => "serial",
            Field::Code => "code",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub field: Field,
    pub digits: String,
    /// Which voucher of the list the image is of.
    pub n: Option<usize>,
}

/// `serial=N` or `code=N` (spaces and dashes inside are ignored), and optionally `n=I`.
pub fn parse_query(raw: &str) -> Result<Query, String> {
    let mut found: Option<(Field, String)> = None;
    let mut n = None;
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k)?;
        let v = percent_decode(v)?;
        let field = match k.as_str() {
            "serial" => Field::Serial,
            "code" => Field::Code,
            "n" => {
                n = Some(v.parse::<usize>().map_err(|_| {
                    format!("n must be a small whole number (the voucher's place in the list), not {v:?}")
                })?);
                continue;
            }
            other => {
                return Err(format!(
                    "unknown parameter {other:?}; use serial=... or code=... (and n=...)"
                ))
            }
        };
        if found.is_some() {
            return Err("give one serial or one code, not several".into());
        }
        let digits = crate::domain::voucher::normalize_number(&v);
        if digits.is_empty() {
            return Err(format!("{} is empty", field.name()));
        }
        if digits.len() > MAX_QUERY_DIGITS {
            return Err(format!(
                "{} is too long ({} characters); at most {MAX_QUERY_DIGITS} digits",
                field.name(),
                digits.len()
            ));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "{} must be digits only (spaces and dashes are ignored)",
                field.name()
            ));
        }
        found = Some((field, digits));
    }
    let Some((field, digits)) = found else {
        return Err("say which voucher: ?serial=... or ?code=...".into());
    };
    Ok(Query { field, digits, n })
}

fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| "the query has a broken %-escape".to_string())?;
                out.push(hex);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "the query is not UTF-8".to_string())
}

/// The vouchers with that serial (or code), through the same store function as `photo find`.
pub fn lookup(db: &Path, q: &Query) -> crate::store::Result<Vec<VoucherDetail>> {
    let store = Store::open_read_only(db)?;
    let mut found = store.find_photo_vouchers(&q.digits)?;
    found.retain(|v| match q.field {
        Field::Serial => v.serial == q.digits,
        Field::Code => v.code == q.digits,
    });
    Ok(found)
}

/// "x,y,w,h,angle" as stored next to a voucher.
pub fn parse_box(s: &str) -> Option<(u32, u32, u32, u32, f32)> {
    let mut it = s.split(',').map(str::trim);
    let x = it.next()?.parse().ok()?;
    let y = it.next()?.parse().ok()?;
    let w = it.next()?.parse().ok()?;
    let h = it.next()?.parse().ok()?;
    let angle = it.next().map_or(Some(0.0), |a| a.parse().ok())?;
    Some((x, y, w, h, angle))
}

fn voucher_json(v: &VoucherDetail, i: usize, q: &Query, host: Option<&str>) -> Value {
    let file_name = v.photo_path.as_deref().map(|p| {
        Path::new(p)
            .file_name()
            .map_or_else(|| p.to_string(), |f| f.to_string_lossy().into_owned())
    });
    let card_box = v
        .photo_box
        .as_deref()
        .and_then(parse_box)
        .map(|(x, y, w, h, angle)| json!({"x": x, "y": y, "w": w, "h": h, "angle": angle}));
    let image_path = v
        .photo_path
        .as_ref()
        .map(|_| format!("/photos/image?{}={}&n={i}", q.field.name(), q.digits));
    let image_url = match (&image_path, host) {
        (Some(p), Some(h)) => Some(format!("http://{h}{p}")),
        (p, None) => p.clone(),
        (None, _) => None,
    };
    json!({
        "product": v.product,
        "serial": v.serial,
        "code": v.code,
        "expiry": v.expiry,
        "status": v.status,
        "place": v.place,
        "batch_id": v.batch_id,
        "photo": file_name,
        "box": card_box,
        "image_path": image_path,
        "image_url": image_url,
    })
}

async fn image_response(state: &State, q: &Query, found: &[VoucherDetail]) -> Resp {
    let chosen = match q.n {
        Some(i) => match found.get(i) {
            Some(v) => v,
            None => {
                return error(
                    StatusCode::NOT_FOUND,
                    &format!(
                        "n={i} is past the {} voucher(s) found; count from 0",
                        found.len()
                    ),
                )
            }
        },
        None => match found.iter().find(|v| v.photo_path.is_some()) {
            Some(v) => v,
            None => {
                return error(
                    StatusCode::NOT_FOUND,
                    "the voucher exists but was not entered from a photo",
                )
            }
        },
    };
    let Some(path) = chosen.photo_path.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "that voucher was not entered from a photo",
        );
    };
    let card_box = chosen.photo_box.as_deref().and_then(parse_box);
    let Ok(_permit) = state.images.acquire().await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    };
    let result = tokio::task::spawn_blocking(move || crop_jpeg(Path::new(&path), card_box)).await;
    match result {
        Ok(Ok(jpeg)) => {
            let mut r = Response::new(Full::new(Bytes::from(jpeg)));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Ok(Err(CropError::Missing(e))) => error(StatusCode::NOT_FOUND, &e),
        Ok(Err(CropError::Broken(e))) => {
            tracing::warn!("photo cannot be served: {e}");
            error(StatusCode::INTERNAL_SERVER_ERROR, &e)
        }
        Err(e) => {
            tracing::error!("image job failed: {e}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the image could not be made",
            )
        }
    }
}

#[derive(Debug)]
pub enum CropError {
    Missing(String),
    Broken(String),
}

/// The card's bounds cut out of the photo (clamped to it), or the whole photo, as JPEG.
pub fn crop_jpeg(
    path: &Path,
    card_box: Option<(u32, u32, u32, u32, f32)>,
) -> Result<Vec<u8>, CropError> {
    let name = path
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    let reader = image::ImageReader::open(path).map_err(|e| {
        CropError::Missing(format!(
            "the photo file {name} is no longer on the server ({e})"
        ))
    })?;
    let img = reader
        .with_guessed_format()
        .map_err(|e| CropError::Broken(format!("the photo file {name} cannot be read: {e}")))?
        .decode()
        .map_err(|e| CropError::Broken(format!("the photo file {name} cannot be decoded: {e}")))?;
    let img = match card_box {
        Some((x, y, w, h, _)) if x < img.width() && y < img.height() && w > 0 && h > 0 => {
            let w = w.min(img.width() - x);
            let h = h.min(img.height() - y);
            img.crop_imm(x, y, w, h)
        }
        _ => img,
    };
    let rgb = img.to_rgb8();
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 88);
    rgb.write_with_encoder(enc)
        .map_err(|e| CropError::Broken(format!("cannot encode the card as JPEG: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_rules() {
        assert!(check_token("").unwrap_err().contains("KONTER_SERVE_TOKEN"));
        assert!(check_token("short-token").unwrap_err().contains("16"));
        assert!(check_token("0123456789abcde ").is_err());
        assert!(check_token("0123456789abcdef").is_ok());
    }

    #[test]
    fn query_rules() {
        let q = parse_query("serial=7034%202365-9660268").unwrap();
        assert_eq!(q.field, Field::Serial);
        assert_eq!(q.digits, "70342365 9660268".replace(' ', ""));
        let q = parse_query("code=79214153447967&n=1").unwrap();
        assert_eq!((q.field, q.n), (Field::Code, Some(1)));
        assert!(parse_query("").unwrap_err().contains("serial"));
        assert!(parse_query("serial=12ab").unwrap_err().contains("digits"));
        assert!(parse_query(&format!("serial={}", "1".repeat(33)))
            .unwrap_err()
            .contains("too long"));
        assert!(parse_query("serial=1&code=2").is_err());
        assert!(parse_query("sn=1").unwrap_err().contains("unknown"));
        assert!(parse_query("serial=%zz").unwrap_err().contains("escape"));
        assert!(parse_query("serial=1&n=x").is_err());
    }

    #[test]
    fn box_parsing() {
        assert_eq!(
            parse_box("36,23,733,522,-4.9"),
            Some((36, 23, 733, 522, -4.9))
        );
        assert_eq!(parse_box("1,2,3,4"), Some((1, 2, 3, 4, 0.0)));
        assert_eq!(parse_box("1,2,x,4"), None);
    }

    #[test]
    fn crop_clamps_to_the_photo_and_reports_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.png");
        image::RgbImage::from_pixel(50, 40, image::Rgb([200, 10, 10]))
            .save(&p)
            .unwrap();
        let jpeg = crop_jpeg(&p, Some((10, 5, 100, 20, 0.0))).unwrap();
        let img = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((img.width(), img.height()), (40, 20));
        let whole = image::load_from_memory(&crop_jpeg(&p, None).unwrap()).unwrap();
        assert_eq!((whole.width(), whole.height()), (50, 40));
        assert!(matches!(
            crop_jpeg(&dir.path().join("gone.jpg"), None),
            Err(CropError::Missing(_))
        ));
        std::fs::write(dir.path().join("bad.jpg"), b"not a photo").unwrap();
        assert!(matches!(
            crop_jpeg(&dir.path().join("bad.jpg"), None),
            Err(CropError::Broken(_))
        ));
    }
}
