//! The AI extractor against a real local HTTP listener that answers like an OpenAI-compatible
//! server (canned completions), so the whole client path runs: photo -> JPEG data URL -> POST
//! /v1/chat/completions -> answer -> merge with the OCR cards.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::mpsc;

use base64::Engine as _;
use konter::config::AiConfig;
use konter::ocr::ai::{self, Rules};
use konter::ocr::{Card, CardBox};

const SERIAL: &str = "703423659660";
const CODE: &str = "7921415344796712";

/// What the listener does with one request.
enum Canned {
    Answer(u16, String),
    /// Reads the request, then says nothing until the client gives up.
    Silent,
}

struct Seen {
    head: String,
    body: serde_json::Value,
}

/// A listener serving the canned answers in order, one per connection; it reports each request.
fn server(answers: Vec<Canned>) -> (String, mpsc::Receiver<Seen>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for canned in answers {
            let Ok((mut s, _)) = l.accept() else { return };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            let mut body = vec![0u8; len];
            r.read_exact(&mut body).unwrap();
            let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            let _ = tx.send(Seen { head, body });
            match canned {
                Canned::Answer(status, text) => {
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                        text.len()
                    );
                    let _ = s.write_all(reply.as_bytes());
                }
                Canned::Silent => {
                    // Hold the connection open until the client closes it.
                    let mut sink = Vec::new();
                    let _ = r.read_to_end(&mut sink);
                }
            }
        }
    });
    (addr, rx)
}

/// An OpenAI-format completion whose message is `content`.
fn completion(content: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "test-vision",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
    })
    .to_string()
}

fn cards_answer(serial: &str, code: &str) -> String {
    completion(&format!(
        "Here are the cards:\n```json\n{{\"cards\": [{{\"serial\": \"{serial}\", \"code\": \"{code}\", \"expiry\": \"2027-01-31\", \"brand\": \"Telkomsel\"}}]}}\n```"
    ))
}

fn config(addr: &str, key: &str, timeout_s: u64) -> AiConfig {
    AiConfig {
        enabled: true,
        base_url: format!("http://{addr}/v1"),
        model: "test-vision".into(),
        api_key: key.into(),
        timeout_s,
        max_side: 320,
    }
}

fn photo(dir: &tempfile::TempDir) -> PathBuf {
    let p = dir.path().join("IMG_0001.jpg");
    image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x / 3) as u8, (y / 2) as u8, 60])
    })
    .save(&p)
    .unwrap();
    p
}

fn ocr_card(serial: &str, code: &str) -> Card {
    Card {
        serial: Some(serial.into()),
        code: Some(code.into()),
        expiry: Some("2027-01-31".into()),
        brand: Some("TELKOMSEL".into()),
        confidence: 0.6,
        needs_review: false,
        reasons: vec![],
        card_box: CardBox {
            x: 10,
            y: 20,
            w: 300,
            h: 180,
            angle: 1.5,
        },
    }
}

fn rules() -> Rules {
    Rules {
        products: vec![konter::domain::voucher::ProductRule {
            code_len: (16, 16),
            serial_len: (12, 12),
        }],
    }
}

#[test]
fn agreement_raises_confidence_and_the_request_is_openai_shaped() {
    let dir = tempfile::tempdir().unwrap();
    let p = photo(&dir);
    let (addr, seen) = server(vec![Canned::Answer(200, cards_answer(SERIAL, CODE))]);
    let m = ai::extract_with(
        &p,
        vec![ocr_card(SERIAL, CODE)],
        &config(&addr, "", 10),
        &rules(),
    );
    assert!(m.note.is_none(), "{:?}", m.note);
    assert_eq!(m.cards.len(), 1);
    let c = &m.cards[0];
    assert!(c.confidence > 0.6 + 0.1, "{}", c.confidence);
    assert!(!c.needs_review);
    assert_eq!(c.serial.as_deref(), Some(SERIAL));
    assert_eq!(c.card_box.w, 300, "the OCR box is kept");

    let req = seen.recv().unwrap();
    assert!(
        req.head.starts_with("POST /v1/chat/completions HTTP/1.1"),
        "{}",
        req.head
    );
    assert!(
        !req.head.to_ascii_lowercase().contains("authorization"),
        "no key, no Authorization header: {}",
        req.head
    );
    assert_eq!(req.body["model"], "test-vision");
    let parts = req.body["messages"][1]["content"].as_array().unwrap();
    let url = parts
        .iter()
        .find_map(|p| p["image_url"]["url"].as_str())
        .unwrap();
    let b64 = url.strip_prefix("data:image/jpeg;base64,").unwrap();
    let jpeg = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let sent = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg).unwrap();
    assert_eq!(
        (sent.width(), sent.height()),
        (320, 240),
        "downscaled to max_side"
    );
    assert!(parts
        .iter()
        .any(|p| p["text"].as_str().is_some_and(|t| t.contains("serial"))));
}

#[test]
fn the_key_is_sent_only_when_set_and_never_in_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let p = photo(&dir);
    let key = "sk-test-rahasia-42";
    let (addr, seen) = server(vec![Canned::Answer(401, "{\"error\": \"bad key\"}".into())]);
    let m = ai::extract_with(
        &p,
        vec![ocr_card(SERIAL, CODE)],
        &config(&addr, key, 10),
        &rules(),
    );
    let req = seen.recv().unwrap();
    assert!(
        req.head.contains(&format!("authorization: Bearer {key}"))
            || req.head.contains(&format!("Authorization: Bearer {key}")),
        "{}",
        req.head
    );
    let note = m.note.unwrap();
    assert!(note.contains("401"), "{note}");
    assert!(!note.contains(key), "{note}");
}

#[test]
fn disagreement_where_both_pass_the_rules_needs_review() {
    let dir = tempfile::tempdir().unwrap();
    let p = photo(&dir);
    let other = "703423659668";
    let (addr, _seen) = server(vec![Canned::Answer(200, cards_answer(other, CODE))]);
    let m = ai::extract_with(
        &p,
        vec![ocr_card(SERIAL, CODE)],
        &config(&addr, "", 10),
        &rules(),
    );
    let c = &m.cards[0];
    assert_eq!(c.serial.as_deref(), Some(SERIAL), "OCR value kept");
    assert!(c.needs_review);
    let why = c.reasons.join("; ");
    assert!(why.contains(SERIAL) && why.contains(other), "{why}");
    assert!(c.confidence <= 0.6);
}

#[test]
fn a_model_answer_breaking_the_length_rule_loses_to_ocr() {
    let dir = tempfile::tempdir().unwrap();
    let p = photo(&dir);
    // 13 digits for a 12-digit serial; a code with a letter in it.
    let (addr, _seen) = server(vec![Canned::Answer(
        200,
        cards_answer("7034236596601", "79214153447967O2"),
    )]);
    let m = ai::extract_with(
        &p,
        vec![ocr_card(SERIAL, CODE)],
        &config(&addr, "", 10),
        &rules(),
    );
    let c = &m.cards[0];
    assert_eq!(c.serial.as_deref(), Some(SERIAL));
    assert_eq!(c.code.as_deref(), Some(CODE));
    assert!(!c.needs_review, "{:?}", c.reasons);
    assert!(m.note.is_none());
}

#[test]
fn a_field_only_the_model_read_is_taken_for_review() {
    let dir = tempfile::tempdir().unwrap();
    let p = photo(&dir);
    let (addr, _seen) = server(vec![Canned::Answer(200, cards_answer(SERIAL, CODE))]);
    let mut ocr = ocr_card(SERIAL, CODE);
    ocr.code = None;
    let m = ai::extract_with(&p, vec![ocr], &config(&addr, "", 10), &rules());
    let c = &m.cards[0];
    assert_eq!(c.code.as_deref(), Some(CODE));
    assert!(c.needs_review);
    assert!(
        c.reasons.join(" ").contains("AI model only"),
        "{:?}",
        c.reasons
    );
}

#[test]
fn timeout_server_error_and_garbage_fall_back_to_ocr_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let p = photo(&dir);
    let (addr, _seen) = server(vec![
        Canned::Silent,
        Canned::Answer(500, "{\"error\": \"model crashed\"}".into()),
        Canned::Answer(
            200,
            completion("I am sorry, I cannot see any voucher here."),
        ),
        Canned::Answer(200, "<html>not json</html>".into()),
    ]);
    let expect = [
        "no answer within 1 s",
        "HTTP 500",
        "no JSON list of cards",
        "not JSON",
    ];
    for says in expect {
        let ocr = vec![ocr_card(SERIAL, CODE)];
        let m = ai::extract_with(&p, ocr.clone(), &config(&addr, "", 1), &rules());
        assert_eq!(m.cards, ocr, "OCR result unchanged ({says})");
        let note = m.note.unwrap_or_default();
        assert!(note.contains(says), "{note} / {says}");
        assert!(note.contains("OCR reading stands"), "{note}");
    }
    // Nobody listening at all.
    let gone = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let ocr = vec![ocr_card(SERIAL, CODE)];
    let m = ai::extract_with(&p, ocr.clone(), &config(&gone.to_string(), "", 2), &rules());
    assert_eq!(m.cards, ocr);
    assert!(m.note.unwrap().contains("could not be reached"));
    // And the plain entry point returns the OCR cards too.
    assert_eq!(
        ai::extract(&p, ocr.clone(), &config(&gone.to_string(), "", 2)),
        ocr
    );
}

#[test]
fn two_cards_are_matched_by_number_not_by_order_and_extra_ai_cards_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let p = photo(&dir);
    let a = ("111122223333", "1111222233334444");
    let b = ("555566667777", "5555666677778888");
    let c = ("999900001111", "9999000011112222");
    let content = format!(
        "[{{\"serial\": \"{}\", \"code\": \"{}\"}}, {{\"serial\": \"{}\", \"code\": \"{}\"}}, {{\"serial\": \"{}\", \"code\": \"{}\"}}]",
        b.0, b.1, a.0, a.1, c.0, c.1
    );
    let (addr, _seen) = server(vec![Canned::Answer(200, completion(&content))]);
    let ocr = vec![ocr_card(a.0, a.1), ocr_card(b.0, b.1)];
    let m = ai::extract_with(&p, ocr, &config(&addr, "", 10), &rules());
    assert_eq!(m.cards.len(), 3);
    assert!(m.cards[..2]
        .iter()
        .all(|c| c.confidence > 0.7 && !c.needs_review));
    let extra = &m.cards[2];
    assert_eq!(extra.serial.as_deref(), Some(c.0));
    assert!(extra.needs_review);
}

/// `konter ocr vouchers --ai`: the CLI asks the model of [ocr.ai] for each photo and says in its
/// JSON line whether the model's reading was used (and why not).
#[cfg(feature = "ocr")]
#[test]
fn ocr_vouchers_with_ai_reports_the_model_per_photo() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ocr/two_cards_a.jpg");
    let key = "sk-cli-rahasia-77";
    let extra = "999900001111";
    let (addr, seen) = server(vec![
        Canned::Answer(
            200,
            completion(&format!("{{\"cards\": [{{\"serial\": \"{extra}\"}}]}}")),
        ),
        Canned::Answer(500, "{\"error\": \"out of memory\"}".into()),
    ]);
    let cfg = d.join("konter.toml");
    std::fs::write(
        &cfg,
        format!(
            "[ocr.ai]\nbase_url = \"http://{addr}/v1\"\nmodel = \"test-vision\"\ntimeout_s = 20\n"
        ),
    )
    .unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_konter"))
            .args(["--json", "ocr", "vouchers", "--ai", "--threads", "1"])
            .arg(&fixture)
            .env("KONTER_CONFIG", &cfg)
            .env("KONTER_DATA_DIR", d)
            .env("KONTER_AI_KEY", key)
            .output()
            .unwrap()
    };
    let o = run();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(!out.contains(key) && !String::from_utf8_lossy(&o.stderr).contains(key));
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["ai"]["used"], true, "{v}");
    let cards = v["cards"].as_array().unwrap();
    let added = cards
        .iter()
        .find(|c| c["serial"] == extra)
        .expect("the model's extra card");
    assert_eq!(added["needs_review"], true);
    let req = seen.recv().unwrap();
    assert!(req
        .head
        .to_ascii_lowercase()
        .contains(&format!("authorization: bearer {key}")));

    let o = run();
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(v["ai"]["used"], false);
    assert!(
        v["ai"]["note"].as_str().unwrap().contains("HTTP 500"),
        "{v}"
    );
    assert!(
        !v["cards"].as_array().unwrap().is_empty(),
        "the OCR cards stand: {v}"
    );
    assert!(v["cards"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["serial"] != extra));
}

/// `konter import photos --ai`: the model's extra card is staged too, flagged for review, and it
/// is found afterwards by `photo find` (through the staged photo numbers).
#[cfg(feature = "ocr")]
#[test]
fn import_photos_with_ai_stages_the_merged_cards() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ocr/two_cards_a.jpg");
    let extra = "999900001111";
    let (addr, _seen) = server(vec![Canned::Answer(
        200,
        completion(&format!(
            "{{\"cards\": [{{\"serial\": \"{extra}\", \"code\": \"9999000011112222\", \"brand\": \"XL\"}}]}}"
        )),
    )]);
    let cfg = d.join("konter.toml");
    std::fs::write(
        &cfg,
        format!("[ocr.ai]\nbase_url = \"http://{addr}/v1\"\nmodel = \"test-vision\"\n"),
    )
    .unwrap();
    let konter = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_konter"))
            .args(args)
            .env("KONTER_CONFIG", &cfg)
            .env("KONTER_DATA_DIR", d)
            .env_remove("KONTER_OTOMAX_URL")
            .output()
            .unwrap()
    };
    assert!(konter(&["init", "--demo"]).status.success());
    let o = konter(&[
        "--json",
        "import",
        "photos",
        "--ai",
        "--threads",
        "1",
        fixture.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let line = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["serial"] == extra)
        .unwrap_or_else(|| panic!("the model's card is staged: {out}"));
    assert_eq!(line["needs_review"], true);
    let o = konter(&["--json", "photo", "find", extra]);
    let found: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(found["place"], "staging", "{found}");
    assert!(found["photo"]
        .as_str()
        .unwrap()
        .ends_with("two_cards_a.jpg"));
}
