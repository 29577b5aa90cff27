//! Tesseract through leptess: one engine per thread, fed 8-bit gray buffers directly.

use std::ffi::CString;

use image::GrayImage;
use leptess::tesseract::TessApi;

use super::parse::Word;

/// Page segmentation modes we use (Tesseract's PageSegMode numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Psm {
    /// Tesseract's default: automatic page layout (what `tesseract photo.jpg out` does)
    Auto = 3,
    /// find text lines anywhere (a card with a header bar, a panel and a barcode)
    Sparse = 11,
    /// one uniform block
    Block = 6,
    /// exactly one text line
    Line = 7,
}

/// A Tesseract engine. Not `Sync`: each worker thread owns one.
pub struct Engine {
    api: TessApi,
}

/// Why Tesseract could not start, with what to install.
#[derive(Debug, Clone)]
pub struct EngineError(pub String);

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EngineError {}

impl Engine {
    /// Starts Tesseract with the English model (digits and Latin labels are what we read).
    pub fn new() -> Result<Engine, EngineError> {
        // one engine per core: keep Tesseract's own OpenMP threads out of the way. libgomp
        // reads OMP_THREAD_LIMIT when it loads (before main), so setting the variable now would
        // do nothing; instead the calling thread (the one that will own this engine) is limited
        // to one OpenMP thread.
        limit_openmp_to_this_thread();
        let api = TessApi::new(None, "eng").map_err(|_| {
            EngineError(
                "Tesseract could not start with the English model; install tesseract-ocr-eng \
                 (run `make deps`) or set TESSDATA_PREFIX to the tessdata folder"
                    .into(),
            )
        })?;
        let mut e = Engine { api };
        e.set("debug_file", "/dev/null");
        Ok(e)
    }

    fn set(&mut self, name: &str, value: &str) {
        let (Ok(n), Ok(v)) = (CString::new(name), CString::new(value)) else {
            return;
        };
        let _ = self.api.raw.set_variable(&n, &v);
    }

    fn load(&mut self, img: &GrayImage) -> bool {
        let (w, h) = img.dimensions();
        if w < 3 || h < 3 {
            return false;
        }
        let ok = self
            .api
            .raw
            .set_image(img.as_raw(), w as i32, h as i32, 1, w as i32)
            .is_ok();
        if ok {
            self.api.raw.set_source_resolution(300);
        }
        ok
    }

    /// Recognises the image and returns its words with boxes and confidences.
    pub fn words(&mut self, img: &GrayImage, psm: Psm, whitelist: &str) -> Vec<Word> {
        self.set("tessedit_pageseg_mode", &(psm as i32).to_string());
        self.set("tessedit_char_whitelist", whitelist);
        if !self.load(img) {
            return Vec::new();
        }
        let tsv = match self.api.get_tsv_text(0) {
            Ok(t) => t,
            Err(_) => return Vec::new(),
        };
        parse_tsv(&tsv)
    }
}

#[link(name = "gomp")]
extern "C" {
    fn omp_set_num_threads(n: std::os::raw::c_int);
}

/// Tesseract (Debian's build) runs its LSTM with OpenMP; with a pool of engines, one per core,
/// those extra threads only compete. Sets the calling thread's OpenMP team size to one.
fn limit_openmp_to_this_thread() {
    if std::env::var_os("OMP_NUM_THREADS").is_some() {
        return;
    }
    // SAFETY: a plain libgomp setter of the calling thread's ICV; no pointers, no shared state.
    unsafe { omp_set_num_threads(1) };
}

/// Words (level 5 rows) of Tesseract's TSV output.
pub fn parse_tsv(tsv: &str) -> Vec<Word> {
    let mut out = Vec::new();
    for row in tsv.lines() {
        let cols: Vec<&str> = row.splitn(12, '\t').collect();
        if cols.len() < 12 || cols[0] != "5" {
            continue;
        }
        let num = |i: usize| cols[i].trim().parse::<f32>().unwrap_or(0.0);
        let text = cols[11].trim();
        if text.is_empty() {
            continue;
        }
        out.push(Word {
            text: text.to_string(),
            x: num(6) as i32,
            y: num(7) as i32,
            w: num(8) as i32,
            h: num(9) as i32,
            conf: num(10),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_words_only() {
        let tsv = "1\t1\t0\t0\t0\t0\t0\t0\t100\t50\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t10\t12\t40\t20\t91.5\tSN:\n\
                   5\t1\t1\t1\t1\t2\t55\t12\t90\t20\t88\t1234\n";
        let w = parse_tsv(tsv);
        assert_eq!(w.len(), 2);
        assert_eq!(w[1].text, "1234");
        assert_eq!((w[1].x, w[1].y, w[1].w, w[1].h), (55, 12, 90, 20));
        assert!((w[0].conf - 91.5).abs() < 1e-3);
    }
}
