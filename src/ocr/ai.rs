//! The optional AI extractor (`[ocr.ai]`, off by default): the photo goes to an OpenAI-compatible
//! vision model (`POST {base_url}/chat/completions`, e.g. a local Ollama), and its reading is
//! merged with the OCR result.
//!
//! Merge rules, per card and field (serial, code, expiry, brand):
//! - cards are matched by serial/code similarity, else by position when both found as many cards;
//! - both agree: kept, and the card's confidence goes up;
//! - the model fails (timeout, HTTP error, an answer that is not JSON cards): the OCR result
//!   stands, with a note saying why;
//! - the model's value breaks a rule (digits only, a product's length) and the OCR value does not:
//!   the OCR value stands;
//! - both pass the rules and disagree: the OCR value stands and the card needs review, with the
//!   reason naming both readings;
//! - only one side has a value that passes the rules: it is taken, and the card needs review.
//!
//! The API key is sent only when set, and never logged. Needs no Tesseract.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{header, Request};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Card, CardBox};
use crate::config::AiConfig;
use crate::domain::voucher::ProductRule;

/// Largest answer read from the model.
const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// The instruction sent with every photo.
pub const PROMPT: &str = "The photo shows one or more Indonesian prepaid phone voucher cards. \
For every card, read the serial number (often labelled SN, S/N, Serial or No. Seri), the \
scratch-panel voucher code (null when the panel is not scratched), the expiry date (as \
YYYY-MM-DD, null when not printed) and the operator brand (TELKOMSEL, INDOSAT, XL, AXIS, TRI, \
SMARTFREN or by.U). Digits exactly as printed, no guessing: null when unreadable. Answer with \
JSON only, in this form: {\"cards\": [{\"serial\": \"...\", \"code\": \"...\", \"expiry\": \
\"...\", \"brand\": \"...\"}]}, cards from top-left to bottom-right.";

/// Length rules a serial or code must pass: those of the shop's products (any of them), or,
/// without products, 10 to 20 digits.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub products: Vec<ProductRule>,
}

impl Rules {
    pub fn from_products(products: &[crate::store::intake::Product]) -> Rules {
        Rules {
            products: products
                .iter()
                .filter(|p| p.active)
                .map(|p| p.rule())
                .collect(),
        }
    }

    fn len_ok(&self, n: usize, pick: impl Fn(&ProductRule) -> (u8, u8)) -> bool {
        if self.products.is_empty() {
            return super::parse::plausible_len(n);
        }
        self.products.iter().any(|r| {
            let (lo, hi) = pick(r);
            (lo as usize..=hi as usize).contains(&n)
        })
    }

    pub fn serial_ok(&self, s: &str) -> bool {
        all_digits(s) && self.len_ok(s.len(), |r| r.serial_len)
    }

    pub fn code_ok(&self, s: &str) -> bool {
        all_digits(s) && self.len_ok(s.len(), |r| r.code_len)
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// One card as the model read it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AiCard {
    pub serial: Option<String>,
    pub code: Option<String>,
    pub expiry: Option<String>,
    pub brand: Option<String>,
}

/// The merged cards, and what happened with the model (None: it answered and was used).
#[derive(Debug, Clone)]
pub struct Merged {
    pub cards: Vec<Card>,
    pub note: Option<String>,
}

/// Why the model's reading could not be used.
#[derive(Debug)]
pub enum AiError {
    Config(String),
    Photo(String),
    Connect(String),
    Timeout(u64),
    Http(u16, String),
    Answer(String),
}

impl std::fmt::Display for AiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AiError::Config(e) => write!(f, "AI extractor not set up: {e}"),
            AiError::Photo(e) => write!(f, "the photo could not be prepared for the AI model: {e}"),
            AiError::Connect(e) => write!(f, "the AI model could not be reached: {e}"),
            AiError::Timeout(s) => write!(f, "the AI model gave no answer within {s} s"),
            AiError::Http(code, body) => write!(f, "the AI model answered HTTP {code}: {body}"),
            AiError::Answer(e) => write!(f, "the AI model's answer is not usable: {e}"),
        }
    }
}

impl std::error::Error for AiError {}

/// The photo read by the model, merged with the OCR cards; with generic length rules (10 to 20
/// digits). On any failure of the model, the OCR cards come back unchanged (the reason is logged).
pub fn extract(photo: &Path, ocr_cards: Vec<Card>, cfg: &AiConfig) -> Vec<Card> {
    let merged = extract_with(photo, ocr_cards, cfg, &Rules::default());
    if let Some(note) = &merged.note {
        tracing::warn!(photo = %photo.display(), "{note}");
    }
    merged.cards
}

/// As [`extract`], with the shop's product rules, and the note kept for the caller.
pub fn extract_with(photo: &Path, ocr_cards: Vec<Card>, cfg: &AiConfig, rules: &Rules) -> Merged {
    match ask_model(photo, cfg) {
        Ok(ai) => Merged {
            cards: merge(ocr_cards, &ai, rules),
            note: None,
        },
        Err(e) => Merged {
            cards: ocr_cards,
            note: Some(format!("{e}; the OCR reading stands alone")),
        },
    }
}

/// Merges the model's reading into one photo's report (photos that could not be read, or
/// duplicates, are left alone). Returns None when the model was not asked, else Some(note), the
/// note being None when its reading was used. The note is logged too (never the key).
pub fn merge_report(
    report: &mut super::PhotoReport,
    cfg: &AiConfig,
    rules: &Rules,
) -> Option<Option<String>> {
    if report.verdict == "error" || report.verdict == "duplicate" {
        return None;
    }
    let cards = std::mem::take(&mut report.cards);
    let merged = extract_with(Path::new(&report.photo), cards, cfg, rules);
    if let Some(note) = &merged.note {
        tracing::warn!(photo = %report.photo, "{note}");
    }
    report.cards = merged.cards;
    if !report.cards.is_empty() && report.verdict == "no_card" {
        report.verdict = "ok".into();
        report.message = None;
    }
    Some(merged.note)
}

/// Sends the photo and returns the cards the model read.
pub fn ask_model(photo: &Path, cfg: &AiConfig) -> Result<Vec<AiCard>, AiError> {
    if cfg.model.trim().is_empty() {
        return Err(AiError::Config("[ocr.ai] model is empty".into()));
    }
    let jpeg = downscaled_jpeg(photo, cfg.max_side.max(256))?;
    let data_url = format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&jpeg)
    );
    let body = json!({
        "model": cfg.model,
        "temperature": 0,
        "stream": false,
        "messages": [
            {"role": "system", "content": "You read voucher cards and answer with JSON only."},
            {"role": "user", "content": [
                {"type": "text", "text": PROMPT},
                {"type": "image_url", "image_url": {"url": data_url}},
            ]},
        ],
    });
    let answer = post_json(cfg, "chat/completions", &body)?;
    let content = completion_text(&answer)?;
    parse_cards(&content)
}

/// The photo, downscaled so its longer side is at most `max_side`, as JPEG.
pub fn downscaled_jpeg(photo: &Path, max_side: u32) -> Result<Vec<u8>, AiError> {
    let img = image::ImageReader::open(photo)
        .map_err(|e| AiError::Photo(e.to_string()))?
        .with_guessed_format()
        .map_err(|e| AiError::Photo(e.to_string()))?
        .decode()
        .map_err(|e| AiError::Photo(e.to_string()))?;
    let img = if img.width().max(img.height()) > max_side {
        img.resize(max_side, max_side, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let mut out = Cursor::new(Vec::new());
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    img.to_rgb8()
        .write_with_encoder(enc)
        .map_err(|e| AiError::Photo(e.to_string()))?;
    Ok(out.into_inner())
}

/// The text of the first choice (a string, or a list of text parts).
fn completion_text(answer: &Value) -> Result<String, AiError> {
    let content = &answer["choices"][0]["message"]["content"];
    match content {
        Value::String(s) => Ok(s.clone()),
        Value::Array(parts) => Ok(parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n")),
        _ => Err(AiError::Answer(
            "no choices[0].message.content in the completion".into(),
        )),
    }
}

#[derive(Deserialize)]
struct Wrapped {
    cards: Vec<Value>,
}

/// The cards in the model's text: JSON `{"cards": [...]}` or `[...]`, possibly inside a code
/// fence or with prose around it.
pub fn parse_cards(text: &str) -> Result<Vec<AiCard>, AiError> {
    let mut candidates: Vec<Value> = Vec::new();
    for (i, c) in text.char_indices() {
        if c != '{' && c != '[' {
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(&text[i..]).into_iter::<Value>();
        if let Some(Ok(v)) = de.next() {
            candidates.push(v);
            if candidates.len() > 8 {
                break;
            }
        }
    }
    for v in candidates {
        let list = match v {
            Value::Array(a) => a,
            Value::Object(_) => match serde_json::from_value::<Wrapped>(v) {
                Ok(w) => w.cards,
                Err(_) => continue,
            },
            _ => continue,
        };
        if list.iter().all(Value::is_object) {
            return Ok(list.iter().map(ai_card).collect());
        }
    }
    let shown: String = text.chars().take(80).collect();
    Err(AiError::Answer(format!(
        "no JSON list of cards in it (it begins {shown:?})"
    )))
}

fn ai_card(v: &Value) -> AiCard {
    let field = |k: &str| -> Option<String> {
        let s = match &v[k] {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        (!s.is_empty() && !s.eq_ignore_ascii_case("null")).then_some(s)
    };
    AiCard {
        serial: field("serial").map(|s| crate::domain::voucher::normalize_number(&s)),
        code: field("code").map(|s| crate::domain::voucher::normalize_number(&s)),
        expiry: field("expiry"),
        brand: field("brand"),
    }
}

/// 1.0 for equal strings, down to 0.0; by edit distance.
fn similarity(a: &str, b: &str) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let longest = a.chars().count().max(b.chars().count());
    1.0 - super::parse::edit_distance(a, b) as f32 / longest as f32
}

fn pair_score(o: &Card, a: &AiCard) -> f32 {
    let s = match (&o.serial, &a.serial) {
        (Some(x), Some(y)) => similarity(x, y),
        _ => 0.0,
    };
    let c = match (&o.code, &a.code) {
        (Some(x), Some(y)) => similarity(x, y),
        _ => 0.0,
    };
    s.max(c)
}

/// Which AI card goes with which OCR card: greedily by similarity (at least 0.7), then the rest
/// by position when both sides found as many cards.
fn match_cards(ocr: &[Card], ai: &[AiCard]) -> Vec<Option<usize>> {
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (i, o) in ocr.iter().enumerate() {
        for (j, a) in ai.iter().enumerate() {
            let s = pair_score(o, a);
            if s >= 0.7 {
                pairs.push((s, i, j));
            }
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut of_ocr = vec![None; ocr.len()];
    let mut taken = vec![false; ai.len()];
    for (_, i, j) in pairs {
        if of_ocr[i].is_none() && !taken[j] {
            of_ocr[i] = Some(j);
            taken[j] = true;
        }
    }
    if ocr.len() == ai.len() {
        for i in 0..ocr.len() {
            if of_ocr[i].is_none() && !taken[i] {
                of_ocr[i] = Some(i);
                taken[i] = true;
            }
        }
    }
    of_ocr
}

#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Agree,
    Kept,
    Review,
}

/// One field: the OCR value against the model's, under `ok` (the field's rule).
fn merge_field(
    name: &str,
    ocr: &mut Option<String>,
    ai: &Option<String>,
    ok: &dyn Fn(&str) -> bool,
    reasons: &mut Vec<String>,
) -> Outcome {
    match (ocr.as_deref(), ai.as_deref()) {
        (_, None) => Outcome::Kept,
        (Some(o), Some(a)) if o == a => Outcome::Agree,
        (Some(o), Some(a)) => match (ok(o), ok(a)) {
            (_, false) => Outcome::Kept,
            (true, true) => {
                reasons.push(format!("{name}: OCR read {o}, AI read {a}"));
                Outcome::Review
            }
            (false, true) => {
                reasons.push(format!(
                    "{name}: OCR read {o} (breaks the rule), AI read {a}: AI value taken"
                ));
                *ocr = Some(a.to_string());
                Outcome::Review
            }
        },
        (None, Some(a)) if ok(a) => {
            reasons.push(format!("{name}: read by the AI model only ({a})"));
            *ocr = Some(a.to_string());
            Outcome::Review
        }
        (None, Some(_)) => Outcome::Kept,
    }
}

fn expiry_ok(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

fn brand_of(s: &str) -> Option<String> {
    super::parse::match_brand(s).map(str::to_string)
}

/// The OCR cards with the model's reading merged in (rules above); cards only the model found
/// are added, flagged for review, with the whole photo as their box.
pub fn merge(mut ocr: Vec<Card>, ai: &[AiCard], rules: &Rules) -> Vec<Card> {
    let of_ocr = match_cards(&ocr, ai);
    let mut used = vec![false; ai.len()];
    for (card, m) in ocr.iter_mut().zip(&of_ocr) {
        let Some(j) = *m else {
            continue;
        };
        used[j] = true;
        let a = &ai[j];
        let mut reasons = Vec::new();
        let a_brand = a.brand.as_deref().and_then(brand_of);
        let outcomes = [
            merge_field(
                "serial",
                &mut card.serial,
                &a.serial,
                &|s| rules.serial_ok(s),
                &mut reasons,
            ),
            merge_field(
                "code",
                &mut card.code,
                &a.code,
                &|s| rules.code_ok(s),
                &mut reasons,
            ),
            merge_field(
                "expiry",
                &mut card.expiry,
                &a.expiry,
                &expiry_ok,
                &mut reasons,
            ),
            merge_field(
                "brand",
                &mut card.brand,
                &a_brand,
                &|s| brand_of(s).is_some(),
                &mut reasons,
            ),
        ];
        let agreed_keys = outcomes[..2]
            .iter()
            .filter(|o| **o == Outcome::Agree)
            .count();
        if outcomes.contains(&Outcome::Review) {
            card.needs_review = true;
            card.reasons.extend(reasons);
        } else if agreed_keys > 0 {
            // Two independent readers agree on the numbers: half the remaining doubt goes.
            let gain = if agreed_keys == 2 { 0.5 } else { 0.25 };
            card.confidence = (card.confidence + (1.0 - card.confidence) * gain).min(1.0);
        }
    }
    for (j, a) in ai.iter().enumerate() {
        if used[j] || !a.serial.as_deref().is_some_and(|s| rules.serial_ok(s)) {
            continue;
        }
        // A card the model saw and OCR did not (or OCR could not pair).
        if ocr.iter().any(|c| c.serial == a.serial) {
            continue;
        }
        ocr.push(Card {
            serial: a.serial.clone(),
            code: a.code.clone().filter(|c| rules.code_ok(c)),
            expiry: a.expiry.clone().filter(|e| expiry_ok(e)),
            brand: a.brand.as_deref().and_then(brand_of),
            confidence: 0.3,
            needs_review: true,
            reasons: vec!["card read by the AI model only; find it on the photo".into()],
            card_box: CardBox::default(),
        });
    }
    ocr
}

/// Where the API lives.
struct Endpoint {
    tls: bool,
    host: String,
    port: u16,
    path: String,
}

fn endpoint(base_url: &str, tail: &str) -> Result<Endpoint, AiError> {
    let (tls, rest) = if let Some(r) = base_url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = base_url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(AiError::Config(format!(
            "[ocr.ai] base_url {base_url:?} must start with http:// or https://"
        )));
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || p.is_empty() => (
            h.to_string(),
            p.parse::<u16>()
                .map_err(|_| AiError::Config(format!("[ocr.ai] base_url has a bad port {p:?}")))?,
        ),
        _ => (authority.to_string(), if tls { 443 } else { 80 }),
    };
    if host.is_empty() {
        return Err(AiError::Config("[ocr.ai] base_url has no host".into()));
    }
    let path = format!("/{}/{tail}", path.trim_matches('/')).replace("//", "/");
    Ok(Endpoint {
        tls,
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port,
        path,
    })
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// POSTs JSON and returns the JSON answer, all within `timeout_s`. Runs on its own thread with
/// its own small runtime, so it can be called from anywhere (a job thread, the CLI).
fn post_json(cfg: &AiConfig, tail: &str, body: &Value) -> Result<Value, AiError> {
    let ep = endpoint(&cfg.base_url, tail)?;
    let timeout = cfg.timeout_s.max(1);
    let key = cfg.api_key.clone();
    let body = body.to_string();
    std::thread::scope(|s| {
        s.spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| AiError::Connect(e.to_string()))?;
            rt.block_on(async move {
                tokio::time::timeout(Duration::from_secs(timeout), exchange(&ep, &key, body))
                    .await
                    .map_err(|_| AiError::Timeout(timeout))?
            })
        })
        .join()
        .unwrap_or_else(|_| Err(AiError::Connect("the HTTP thread failed".into())))
    })
}

async fn exchange(ep: &Endpoint, key: &str, body: String) -> Result<Value, AiError> {
    let tcp = tokio::net::TcpStream::connect((ep.host.as_str(), ep.port))
        .await
        .map_err(|e| AiError::Connect(format!("{}:{}: {e}", ep.host, ep.port)))?;
    let _ = tcp.set_nodelay(true);
    let io: Box<dyn Io> = if ep.tls {
        let config = crate::routeros::tls::client_config(&crate::routeros::client::TlsOptions {
            verify: crate::routeros::client::TlsVerify::System,
            server_name: None,
        })
        .map_err(|e| AiError::Connect(e.to_string()))?;
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(ep.host.clone())
            .map_err(|_| AiError::Config(format!("{:?} is not a valid host name", ep.host)))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| AiError::Connect(format!("TLS with {}: {e}", ep.host)))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| AiError::Connect(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let host_header = if (ep.tls && ep.port == 443) || (!ep.tls && ep.port == 80) {
        ep.host.clone()
    } else {
        format!("{}:{}", ep.host, ep.port)
    };
    let mut req = Request::post(ep.path.as_str())
        .header(header::HOST, host_header)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .header(
            header::USER_AGENT,
            concat!("konter/", env!("CARGO_PKG_VERSION")),
        );
    if !key.is_empty() {
        req = req.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| AiError::Config(e.to_string()))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| AiError::Connect(e.to_string()))?;
    let status = resp.status();
    let bytes = Limited::new(resp.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| AiError::Answer(format!("reading the answer failed: {e}")))?
        .to_bytes();
    if !status.is_success() {
        let text: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
        return Err(AiError::Http(status.as_u16(), text));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| AiError::Answer(format!("the completion is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(serial: Option<&str>, code: Option<&str>, conf: f32) -> Card {
        Card {
            serial: serial.map(str::to_string),
            code: code.map(str::to_string),
            expiry: Some("2027-01-31".into()),
            brand: Some("TELKOMSEL".into()),
            confidence: conf,
            needs_review: false,
            reasons: vec![],
            card_box: CardBox::default(),
        }
    }

    fn ai(serial: Option<&str>, code: Option<&str>) -> AiCard {
        AiCard {
            serial: serial.map(str::to_string),
            code: code.map(str::to_string),
            expiry: Some("2027-01-31".into()),
            brand: Some("Telkomsel".into()),
        }
    }

    #[test]
    fn parses_cards_in_fences_and_prose() {
        let t = "Sure! Here you go:\n```json\n{\"cards\": [{\"serial\": \"1234 5678 9012\", \"code\": null, \"expiry\": \"2027-01-31\", \"brand\": \"XL\"}]}\n```\nHope it helps {smile}.";
        let c = parse_cards(t).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].serial.as_deref(), Some("123456789012"));
        assert_eq!(c[0].code, None);
        let c = parse_cards("[{\"serial\": 123456789012, \"code\": \"null\"}]").unwrap();
        assert_eq!(c[0].serial.as_deref(), Some("123456789012"));
        assert_eq!(c[0].code, None);
        assert!(parse_cards("I cannot read this photo.").is_err());
        assert!(parse_cards("{\"answer\": 3}").is_err());
    }

    #[test]
    fn matching_prefers_similar_numbers_over_position() {
        let ocr = vec![
            card(Some("111122223333"), None, 0.6),
            card(Some("999988887777"), None, 0.6),
        ];
        let a = vec![
            ai(Some("999988887771"), None),
            ai(Some("111122223333"), None),
        ];
        assert_eq!(match_cards(&ocr, &a), vec![Some(1), Some(0)]);
        // Nothing similar, same count: by position.
        let a = vec![ai(Some("555555555555"), None), ai(None, None)];
        assert_eq!(match_cards(&ocr, &a), vec![Some(0), Some(1)]);
    }

    #[test]
    fn product_rules_decide_lengths() {
        let r = Rules {
            products: vec![ProductRule {
                code_len: (16, 16),
                serial_len: (12, 12),
            }],
        };
        assert!(r.serial_ok("123456789012"));
        assert!(!r.serial_ok("1234567890123"));
        assert!(!r.code_ok("12345678901234a6"));
        assert!(Rules::default().serial_ok("1234567890123"));
    }

    #[test]
    fn endpoints() {
        let e = endpoint("http://127.0.0.1:11434/v1", "chat/completions").unwrap();
        assert_eq!(
            (e.tls, e.host.as_str(), e.port),
            (false, "127.0.0.1", 11434)
        );
        assert_eq!(e.path, "/v1/chat/completions");
        let e = endpoint("https://api.example.org/v1/", "chat/completions").unwrap();
        assert_eq!(
            (e.tls, e.port, e.path.as_str()),
            (true, 443, "/v1/chat/completions")
        );
        assert!(endpoint("ftp://x", "a").is_err());
        assert!(endpoint("http://h:port/v1", "a").is_err());
    }
}
