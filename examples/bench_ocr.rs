//! Voucher-photo OCR benchmark: the card reader against the naive baseline (Tesseract on the
//! whole photo, every 12-16 digit run a serial), both on the same photos in one run, scored
//! against the photos' truth.json.
//!
//! cargo run --release --example bench_ocr [-- PHOTO_DIR [THREADS]]
//! (default /work/shared/data/vouchers/photos; THREADS, default 2, is the pool size for the
//! speed-up run)
//!
//! The reader runs twice: once on ONE thread, photo by photo, giving the median seconds per
//! photo (wall clock and this thread's CPU time, which a busy machine does not inflate), then
//! with a pool of THREADS engines, giving the speed-up (one-thread wall time / pool wall time).
//! Environment: OCR_BENCH_PRED=FILE writes the reader's predictions as JSON lines (the format
//! score_vouchers.py reads); OCR_BENCH_QUICK=1 skips the pool run and the naive baseline (for
//! iterating; the last line then has naive_pairs=0 and ratio=inf).
//! Last line: bench=ocr photos=.. pairs=.. serial_precision=.. auto_ok=.. naive_pairs=..
//! s_per_photo=.. ratio=..   (ratio = pairs / naive_pairs; s_per_photo = median, one thread)

#[cfg(feature = "ocr")]
fn main() {
    use std::collections::HashMap;
    use std::io::Write;
    use std::path::PathBuf;
    use std::time::Instant;

    use konter::ocr::{collect_photos, engine::Engine, file_name, naive, pool, reader, score};

    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "/work/shared/data/vouchers/photos".into()),
    );
    let threads: usize = args.next().and_then(|t| t.parse().ok()).unwrap_or(2);
    let quick = std::env::var("OCR_BENCH_QUICK").is_ok_and(|v| v == "1");
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
    let mut engine = Engine::new().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });

    // one thread, photo by photo
    let mut pred = HashMap::new();
    let mut reports = Vec::new();
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    let t0 = Instant::now();
    for p in &paths {
        let (t, c) = (Instant::now(), thread_cpu_secs());
        let r = reader::read_photo(&mut engine, p);
        wall.push(t.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (c, thread_cpu_secs()) {
            cpu.push(b - a);
        }
        pred.insert(file_name(p), r.cards.clone());
        reports.push(r);
    }
    let one_secs = t0.elapsed().as_secs_f64();
    let s_per_photo = median(&mut wall);
    let cpu_per_photo = median(&mut cpu);
    let reader_score = score::score(&truth, &pred);
    if let Ok(out) = std::env::var("OCR_BENCH_PRED") {
        match std::fs::File::create(&out) {
            Ok(mut f) => {
                for r in &reports {
                    let _ = writeln!(f, "{}", serde_json::to_string(r).unwrap_or_default());
                }
            }
            Err(e) => eprintln!("cannot write {out}: {e}"),
        }
    }

    // the pool: same photos, `threads` engines
    let mut speedup = String::from("-");
    if !quick && threads > 1 {
        let t = Instant::now();
        let mut n = 0usize;
        if let Err(e) = pool::read_batch(&paths, threads, &mut |_r| n += 1) {
            eprintln!("{e}");
            std::process::exit(2);
        }
        let pool_secs = t.elapsed().as_secs_f64();
        speedup = format!("{:.2}", one_secs / pool_secs.max(1e-9));
        println!("pool: threads={threads} photos={n} s={pool_secs:.1} speedup={speedup}");
    }

    let base = if quick {
        score::Score::default()
    } else {
        let t1 = Instant::now();
        let naive_pred: HashMap<String, Vec<konter::ocr::Card>> = paths
            .iter()
            .map(|p| (file_name(p), naive::read_photo(&mut engine, p).cards))
            .collect();
        let naive_secs = t1.elapsed().as_secs_f64();
        let base = score::score(&truth, &naive_pred);
        println!(
            "naive: pairs={:.3} serial_recall={:.3} serial_precision={:.3} s={naive_secs:.1}",
            base.pairs, base.serial_recall, base.serial_precision
        );
        base
    };

    println!(
        "reader: cards={} pairs={:.3} serial_recall={:.3} serial_precision={:.3} code_recall={:.3} \
         not_flagged={:.3} auto_ok={:.3} s={one_secs:.1} median_wall={s_per_photo:.2} \
         median_cpu={cpu_per_photo:.2} threads={threads} speedup={speedup}",
        reader_score.cards,
        reader_score.pairs,
        reader_score.serial_recall,
        reader_score.serial_precision,
        reader_score.code_recall,
        reader_score.auto_share,
        reader_score.auto_ok
    );
    let ratio = if base.pairs > 0.0 {
        format!("{:.2}", reader_score.pairs / base.pairs)
    } else {
        "inf".into()
    };
    println!(
        "bench=ocr photos={} pairs={:.3} serial_precision={:.3} auto_ok={:.3} naive_pairs={:.3} \
         s_per_photo={s_per_photo:.2} cpu_s_per_photo={cpu_per_photo:.2} speedup={speedup} \
         ratio={ratio}",
        paths.len(),
        reader_score.pairs,
        reader_score.serial_precision,
        reader_score.auto_ok,
        base.pairs
    );
}

#[cfg(feature = "ocr")]
fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// CPU seconds this thread has used (user + system), from /proc (Linux); None elsewhere.
#[cfg(feature = "ocr")]
fn thread_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // fields after the command name (which is in parentheses and may hold spaces)
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

#[cfg(not(feature = "ocr"))]
fn main() {
    eprintln!("bench_ocr needs the `ocr` feature (Tesseract); build with default features");
    std::process::exit(2);
}
