//! Voucher-photo OCR benchmark: the card reader against the naive baseline (Tesseract on the
//! whole photo, every 12-16 digit run a serial), both on the same photos in one run, scored
//! against the photos' truth.json.
//!
//! cargo run --release --example bench_ocr [-- PHOTO_DIR [THREADS]]
//! (default /work/shared/data/vouchers/photos, one thread so s_per_photo is per core)
//! Last line: bench=ocr photos=.. pairs=.. serial_precision=.. auto_ok=.. naive_pairs=..
//! s_per_photo=.. ratio=..   (ratio = pairs / naive_pairs)

#[cfg(feature = "ocr")]
fn main() {
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::time::Instant;

    use konter::ocr::{collect_photos, engine::Engine, file_name, naive, pool, score};

    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "/work/shared/data/vouchers/photos".into()),
    );
    let threads: usize = args.next().and_then(|t| t.parse().ok()).unwrap_or(1);
    let truth: score::Truth = match std::fs::read_to_string(dir.join("truth.json"))
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {}/truth.json: {e}", dir.display());
            std::process::exit(2);
        }
    };
    let paths = collect_photos(std::slice::from_ref(&dir)).unwrap_or_default();
    if paths.is_empty() {
        eprintln!("no photos in {}", dir.display());
        std::process::exit(2);
    }

    let t0 = Instant::now();
    let mut pred = HashMap::new();
    let res = pool::read_batch(&paths, threads, &mut |r| {
        pred.insert(file_name(std::path::Path::new(&r.photo)), r.cards);
    });
    if let Err(e) = res {
        eprintln!("{e}");
        std::process::exit(2);
    }
    let secs = t0.elapsed().as_secs_f64();
    let s_per_photo = secs * threads as f64 / paths.len() as f64;
    let reader = score::score(&truth, &pred);

    let mut engine = Engine::new().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let t1 = Instant::now();
    let naive_pred: HashMap<String, Vec<konter::ocr::Card>> = paths
        .iter()
        .map(|p| (file_name(p), naive::read_photo(&mut engine, p).cards))
        .collect();
    let naive_secs = t1.elapsed().as_secs_f64();
    let base = score::score(&truth, &naive_pred);

    println!(
        "reader: cards={} pairs={:.3} serial_recall={:.3} serial_precision={:.3} code_recall={:.3} \
         not_flagged={:.3} auto_ok={:.3} s={secs:.1}",
        reader.cards,
        reader.pairs,
        reader.serial_recall,
        reader.serial_precision,
        reader.code_recall,
        reader.auto_share,
        reader.auto_ok
    );
    println!(
        "naive: pairs={:.3} serial_recall={:.3} serial_precision={:.3} s={naive_secs:.1}",
        base.pairs, base.serial_recall, base.serial_precision
    );
    let ratio = if base.pairs > 0.0 {
        format!("{:.2}", reader.pairs / base.pairs)
    } else {
        "inf".into()
    };
    println!(
        "bench=ocr photos={} pairs={:.3} serial_precision={:.3} auto_ok={:.3} naive_pairs={:.3} \
         s_per_photo={s_per_photo:.2} ratio={ratio}",
        paths.len(),
        reader.pairs,
        reader.serial_precision,
        reader.auto_ok,
        base.pairs
    );
}

#[cfg(not(feature = "ocr"))]
fn main() {
    eprintln!("bench_ocr needs the `ocr` feature (Tesseract); build with default features");
    std::process::exit(2);
}
