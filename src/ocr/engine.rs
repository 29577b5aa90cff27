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
        // One engine per core: Tesseract's own OpenMP threads are kept out of the way on each
        // recognising thread (see `load`).
        silence_leptonica();
        let api = TessApi::new(None, "eng").map_err(|_| {
            EngineError(
                "Tesseract could not start with the English model; install tesseract-ocr-eng \
                 (run `make deps`) or set TESSDATA_PREFIX to the tessdata folder"
                    .into(),
            )
        })?;
        let mut e = Engine { api };
        e.set("debug_file", "/dev/null");
        // per-character boxes and confidences in the hOCR output (see `glyphs`)
        e.set("hocr_char_boxes", "1");
        Ok(e)
    }

    fn set(&mut self, name: &str, value: &str) {
        let (Ok(n), Ok(v)) = (CString::new(name), CString::new(value)) else {
            return;
        };
        let _ = self.api.raw.set_variable(&n, &v);
    }

    fn load(&mut self, img: &GrayImage) -> bool {
        // The OpenMP limits are per thread, and an engine may be made on one thread and used
        // on another (the pool): set them on the thread that is about to recognise.
        limit_openmp_to_this_thread();
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

    /// Recognises the image and returns its characters, left to right, each with its box and
    /// Tesseract's own confidence for that character (from the hOCR output with character
    /// boxes), and where a new word starts.
    pub fn glyphs(&mut self, img: &GrayImage, psm: Psm, whitelist: &str) -> Vec<Glyph> {
        self.set("tessedit_pageseg_mode", &(psm as i32).to_string());
        self.set("tessedit_char_whitelist", whitelist);
        if !self.load(img) {
            return Vec::new();
        }
        match self.api.get_hocr_text(0) {
            Ok(t) => parse_hocr_glyphs(&t),
            Err(_) => Vec::new(),
        }
    }
}

/// One recognised character.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    pub ch: char,
    pub x0: i32,
    pub x1: i32,
    /// Tesseract's confidence for this character, 0..100
    pub conf: f32,
    /// first character of a word (a space before it)
    pub word_start: bool,
}

/// Characters of hOCR output made with `hocr_char_boxes=1`: every
/// `<span class='ocrx_cinfo' title='x_bboxes x0 y0 x1 y1; x_conf C'>T</span>`, in order; a new
/// `ocrx_word` span marks a word start.
pub fn parse_hocr_glyphs(hocr: &str) -> Vec<Glyph> {
    let mut out = Vec::new();
    let mut word_start = false;
    let mut rest = hocr;
    while let Some(i) = rest.find("class='ocrx_") {
        rest = &rest[i + "class='ocrx_".len()..];
        if rest.starts_with("word") {
            word_start = true;
            continue;
        }
        if !rest.starts_with("cinfo' title='x_bboxes ") {
            continue;
        }
        let Some(end) = rest.find("</span>") else {
            break;
        };
        let span = &rest[..end];
        rest = &rest[end..];
        let Some(gt) = span.find("'>") else { continue };
        let title = &span["cinfo' title='x_bboxes ".len()..gt];
        let text = unescape(&span[gt + 2..]);
        let mut parts = title.split(';');
        let nums: Vec<i32> = parts
            .next()
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        let conf = parts
            .find_map(|p| p.trim().strip_prefix("x_conf "))
            .and_then(|c| c.trim().parse::<f32>().ok())
            .unwrap_or(0.0);
        let Some(ch) = text.chars().next() else {
            continue;
        };
        if nums.len() < 4 {
            continue;
        }
        out.push(Glyph {
            ch,
            x0: nums[0],
            x1: nums[2],
            conf,
            word_start,
        });
        word_start = false;
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[link(name = "lept")]
extern "C" {
    fn setMsgSeverity(newsev: std::os::raw::c_int) -> std::os::raw::c_int;
}

/// Leptonica's "print no messages" severity (environ.h).
const L_SEVERITY_NONE: std::os::raw::c_int = 6;

/// Leptonica prints warnings such as "Error in boxClipToRectangle" to stderr on some card crops
/// (the reading is not affected). Printed while the TUI runs, they scroll the screen; konter
/// reports what went wrong itself, so Leptonica is told to print nothing. Process-wide.
fn silence_leptonica() {
    // SAFETY: sets one integer in Leptonica; no pointers.
    unsafe {
        setMsgSeverity(L_SEVERITY_NONE);
    }
}

#[link(name = "gomp")]
extern "C" {
    fn omp_set_num_threads(n: std::os::raw::c_int);
    fn omp_set_max_active_levels(n: std::os::raw::c_int);
}

/// Tesseract (Debian's build) runs its LSTM with OpenMP, with `num_threads(..)` clauses that
/// override the per-thread team size. With a pool of engines, one per core, those extra threads
/// only compete: on two cores they spun and slept in futex calls for more time than the reading
/// itself (5x slower). Setting the process-wide limit of active parallel levels to zero makes
/// every OpenMP region run on the thread that enters it (both are per-thread settings, so this
/// runs on each recognising thread). `OMP_THREAD_LIMIT` would do the same process-wide but is
/// read only when libgomp loads, before main. Left alone when the user set
/// OMP_NUM_THREADS or OMP_THREAD_LIMIT.
fn limit_openmp_to_this_thread() {
    if std::env::var_os("OMP_NUM_THREADS").is_some()
        || std::env::var_os("OMP_THREAD_LIMIT").is_some()
    {
        return;
    }
    // SAFETY: plain libgomp setters of the calling thread's integer ICVs; no pointers.
    unsafe {
        omp_set_num_threads(1);
        omp_set_max_active_levels(0);
    }
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
    fn hocr_characters_with_confidences_and_word_starts() {
        let hocr = "<span class='ocrx_word' id='word_1_1' title='bbox 0 0 90 40; x_wconf 91'>\
            <span class='ocrx_cinfo' title='x_bboxes 1 2 20 40; x_conf 99.5'>1</span>\
            <span class='ocrx_cinfo' id='choice_1_1_1' title='x_confs 80'>1</span>\
            <span class='ocrx_cinfo' title='x_bboxes 22 2 40 40; x_conf 23.04'>7</span></span> \
            <span class='ocrx_word' id='word_1_2' title='bbox 50 0 90 40; x_wconf 80'>\
            <span class='ocrx_cinfo' title='x_bboxes 50 2 70 40; x_conf 88'>0</span></span>";
        let g = parse_hocr_glyphs(hocr);
        let s: String = g.iter().map(|g| g.ch).collect();
        assert_eq!(s, "170");
        assert!((g[1].conf - 23.04).abs() < 1e-3);
        assert_eq!((g[1].x0, g[1].x1), (22, 40));
        assert_eq!(
            g.iter().map(|g| g.word_start).collect::<Vec<_>>(),
            [true, false, true]
        );
    }

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
