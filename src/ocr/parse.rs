//! From recognised words on one upright card to its fields: serial, scratch code, expiry, brand.
//! Pure: no image, no Tesseract, so every rule is unit-tested.

use chrono::NaiveDate;

/// One recognised word with its box on the card image.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
    /// Tesseract's confidence, 0..100
    pub conf: f32,
}

/// Words grouped into one text line, left to right.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub words: Vec<Word>,
}

impl Line {
    pub fn text(&self) -> String {
        self.words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
    pub fn top(&self) -> i32 {
        self.words.iter().map(|w| w.y).min().unwrap_or(0)
    }
    pub fn bottom(&self) -> i32 {
        self.words.iter().map(|w| w.y + w.h).max().unwrap_or(0)
    }
    pub fn height(&self) -> i32 {
        self.bottom() - self.top()
    }
}

/// Groups words into lines by vertical overlap; lines top to bottom, words left to right.
pub fn group_lines(mut words: Vec<Word>) -> Vec<Line> {
    words.retain(|w| !w.text.trim().is_empty());
    words.sort_by_key(|w| (w.y + w.h / 2, w.x));
    let mut lines: Vec<Line> = Vec::new();
    for w in words {
        let mid = w.y + w.h / 2;
        let hit = lines.iter_mut().find(|l| {
            let (t, b) = (l.top(), l.bottom());
            let overlap = (b.min(w.y + w.h) - t.max(w.y)) as f32;
            mid >= t && mid <= b && overlap >= 0.4 * (w.h.min(b - t)) as f32
        });
        match hit {
            Some(l) => l.words.push(w),
            None => lines.push(Line { words: vec![w] }),
        }
    }
    for l in &mut lines {
        l.words.sort_by_key(|w| w.x);
    }
    lines.sort_by_key(|l| l.top());
    lines
}

/// A digit run found on a line: the digits, and the index range of the words it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct DigitRun {
    pub digits: String,
    pub first_word: usize,
    pub last_word: usize,
    pub min_conf: f32,
}

/// The digit a character stands for in a run of digits: itself, or a letter OCR confuses
/// with one.
pub fn digit_for(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        'O' | 'o' | 'D' | 'Q' => Some('0'),
        'I' | 'l' | '|' | 'i' | '!' => Some('1'),
        'S' | 's' => Some('5'),
        'B' => Some('8'),
        'Z' | 'z' => Some('2'),
        'G' => Some('6'),
        _ => None,
    }
}

/// Maps letters that OCR confuses with digits, inside a token that is mostly digits.
fn digitize(token: &str) -> Option<String> {
    let t: String = token
        .chars()
        .filter(|c| !matches!(c, '-' | '.' | ',' | ':' | ';' | '\'' | '"' | '_'))
        .collect();
    if t.is_empty() {
        return None;
    }
    let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
    if digits * 2 < t.chars().count() + 1 {
        return None;
    }
    t.chars().map(digit_for).collect()
}

/// The longest run of digit-like words on the line (grouped digits join into one run).
pub fn digit_run(line: &Line, skip_words: usize) -> Option<DigitRun> {
    let mut best: Option<DigitRun> = None;
    let mut cur: Option<DigitRun> = None;
    for (i, w) in line.words.iter().enumerate().skip(skip_words) {
        // a label glued to digits ("SN:1234") leaves its digit tail
        let text = strip_label(&w.text).unwrap_or(w.text.as_str());
        match digitize(text) {
            Some(d) => {
                let c = cur.get_or_insert(DigitRun {
                    digits: String::new(),
                    first_word: i,
                    last_word: i,
                    min_conf: 100.0,
                });
                c.digits.push_str(&d);
                c.last_word = i;
                c.min_conf = c.min_conf.min(w.conf);
            }
            None => {
                if let Some(c) = cur.take() {
                    if best
                        .as_ref()
                        .is_none_or(|b| c.digits.len() > b.digits.len())
                    {
                        best = Some(c);
                    }
                }
            }
        }
    }
    if let Some(c) = cur.take() {
        if best
            .as_ref()
            .is_none_or(|b| c.digits.len() > b.digits.len())
        {
            best = Some(c);
        }
    }
    best
}

fn norm_label(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_uppercase()
}

/// If the word starts with a serial label glued to digits, the rest after it: the digits, past
/// any marks between ("S/N°3587…", Tesseract's reading of a colon or a speck).
fn strip_label(word: &str) -> Option<&str> {
    let up = word.to_uppercase();
    for l in ["S/N", "SN"] {
        if up.starts_with(l) && word.is_char_boundary(l.len()) {
            let rest = word[l.len()..]
                .trim_start_matches(|c: char| !c.is_alphanumeric() && !c.is_whitespace());
            if rest.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                return Some(rest);
            }
        }
    }
    None
}

/// How many leading words of the line form a serial label (SN, S/N, Serial, No. Seri, ...).
pub fn serial_label_words(line: &Line) -> Option<usize> {
    let ws: Vec<String> = line.words.iter().map(|w| norm_label(&w.text)).collect();
    for (i, w) in ws.iter().enumerate().take(3) {
        let two = ws.get(i + 1).map(|n| format!("{w}{n}"));
        let is = |s: &str| {
            matches!(
                s,
                "SN" | "SIN" | "S1N" | "5N" | "SERIAL" | "SERIALNO" | "SERI" | "NOSERI" | "NSERI"
            )
        };
        if two.as_deref().is_some_and(is) {
            return Some(i + 2);
        }
        if is(w) {
            return Some(i + 1);
        }
        if strip_label(&line.words[i].text).is_some() {
            return Some(i);
        }
    }
    None
}

/// Whether the line is (or starts with) a scratch-code label: KODE VOUCHER, VOUCHER CODE, PIN.
pub fn is_code_label(line: &Line) -> bool {
    let t = norm_label(&line.text());
    if t.contains("KODE") || t.contains("CODE") || t.starts_with("PIN") {
        return true;
    }
    // a letter misread ("VOUCHER COSE", "<ODE VOUCHER"): both words, each nearly right
    let words: Vec<String> = line.words.iter().map(|w| norm_label(&w.text)).collect();
    let near = |target: &str, d: usize| {
        words
            .iter()
            .any(|w| !w.is_empty() && edit_distance(w, target) <= d)
    };
    near("VOUCHER", 2) && (near("KODE", 1) || near("CODE", 1))
}

/// Whether the line says the panel is still covered ("GOSOK DI SINI", "SCRATCH HERE").
pub fn is_covered_panel(line: &Line) -> bool {
    let t = norm_label(&line.text());
    t.contains("GOSOK") || t.contains("DISINI") || t.contains("SCRATCH")
}

const MONTHS: [(&str, u32); 24] = [
    ("JAN", 1),
    ("FEB", 2),
    ("PEB", 2),
    ("MAR", 3),
    ("APR", 4),
    ("MEI", 5),
    ("MAY", 5),
    ("JUN", 6),
    ("JUL", 7),
    ("AGU", 8),
    ("AGT", 8),
    ("AUG", 8),
    ("SEP", 9),
    ("OKT", 10),
    ("OCT", 10),
    ("NOV", 11),
    ("NOP", 11),
    ("DES", 12),
    ("DEC", 12),
    ("JANUARI", 1),
    ("FEBRUARI", 2),
    ("MARET", 3),
    ("APRIL", 4),
    ("AGUSTUS", 8),
];

/// A date in the text as ISO `YYYY-MM-DD`: dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy, yyyy-mm-dd,
/// dd/mm/yy, or "12 Jan 2027". Returns the first valid one.
pub fn find_date(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    // numeric groups with their separators
    let mut groups: Vec<(String, usize, usize)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let s = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            groups.push((chars[s..i].iter().collect(), s, i));
        } else {
            i += 1;
        }
    }
    let sep_ok = |a: usize, b: usize| {
        let between: String = chars[a..b].iter().collect();
        let t = between.trim();
        (t.len() == 1 && matches!(t, "/" | "-" | "." | "|"))
            || (t.is_empty() && !between.is_empty())
    };
    for k in 0..groups.len().saturating_sub(2) {
        let (a, b, c) = (&groups[k], &groups[k + 1], &groups[k + 2]);
        if !sep_ok(a.2, b.1) || !sep_ok(b.2, c.1) {
            continue;
        }
        let num = |s: &str| s.parse::<i32>().ok();
        let (y, m, d) = if a.0.len() == 4 {
            (num(&a.0), num(&b.0), num(&c.0))
        } else if c.0.len() == 4 {
            (num(&c.0), num(&b.0), num(&a.0))
        } else if c.0.len() == 2 && a.0.len() <= 2 {
            (num(&c.0).map(|y| 2000 + y), num(&b.0), num(&a.0))
        } else {
            continue;
        };
        if let (Some(y), Some(m), Some(d)) = (y, m, d) {
            if let Some(date) = NaiveDate::from_ymd_opt(y, m as u32, d as u32) {
                if (2000..=2099).contains(&y) {
                    return Some(date.format("%Y-%m-%d").to_string());
                }
            }
        }
    }
    // "12 Jan 2027"
    let toks: Vec<String> = text
        .split(|c: char| c.is_whitespace() || matches!(c, '/' | '-' | '.' | ','))
        .filter(|t| !t.is_empty())
        .map(|t| t.to_uppercase())
        .collect();
    for k in 0..toks.len().saturating_sub(2) {
        let month = MONTHS
            .iter()
            .find(|(name, _)| toks[k + 1].starts_with(name) || toks[k + 1] == *name)
            .map(|(_, m)| *m);
        if let (Ok(d), Some(m), Ok(y)) = (toks[k].parse::<u32>(), month, toks[k + 2].parse::<i32>())
        {
            if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                return Some(date.format("%Y-%m-%d").to_string());
            }
        }
    }
    None
}

/// Known operator brands and how they are printed.
pub const BRANDS: [(&str, &str); 9] = [
    ("TELKOMSEL", "TELKOMSEL"),
    ("INDOSAT", "INDOSAT"),
    ("IM3", "INDOSAT"),
    ("XL", "XL"),
    ("AXIS", "AXIS"),
    ("TRI", "TRI"),
    ("SMARTFREN", "SMARTFREN"),
    ("BYU", "by.U"),
    ("BY.U", "by.U"),
];

/// Edits (insert, delete, replace) from one string to another.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The brand named by a word, tolerating one OCR slip in long names.
pub fn match_brand(word: &str) -> Option<&'static str> {
    let w = norm_label(word);
    if w.is_empty() {
        return None;
    }
    for (printed, brand) in BRANDS {
        let p = norm_label(printed);
        if w == p {
            return Some(brand);
        }
        if p.len() >= 5 && edit_distance(&w, &p) <= 1 {
            return Some(brand);
        }
    }
    None
}

/// What the first reading of a card found, with where it found it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CardFields {
    pub serial: Option<DigitRunAt>,
    pub code: Option<DigitRunAt>,
    pub expiry: Option<String>,
    pub expiry_line: Option<usize>,
    pub brand: Option<&'static str>,
    /// the panel says "GOSOK DI SINI": code is null on purpose
    pub covered: bool,
    /// a code label was seen but no code could be read under it
    pub code_label_without_code: bool,
    /// the line of the code label, if one was seen
    pub code_label_line: Option<usize>,
    /// more long digit runs than a serial and a code: something is off
    pub extra_runs: usize,
    pub serial_labelled: bool,
    /// the serial is only the line where a serial stands (between the code, or the covered
    /// panel, and the expiry): the first reading found no digits or label in it
    pub serial_by_place: bool,
}

/// A digit run and the line it is on.
#[derive(Debug, Clone, PartialEq)]
pub struct DigitRunAt {
    pub line: usize,
    pub run: DigitRun,
}

/// The line under a code label whose run the first reading broke or garbled (scratch residue
/// read as "%", "&" or letters): all its words as one run of the digits seen, for the digit net
/// to read its band. None for the serial's line, a line with a serial label or a date, or fewer
/// than six characters.
fn broken_run(line: &Line, index: usize, f: &CardFields) -> Option<DigitRun> {
    if f.serial.as_ref().is_some_and(|s| s.line == index)
        || serial_label_words(line).is_some()
        || find_date(&line.text()).is_some()
        || line.words.is_empty()
    {
        return None;
    }
    if line.text().chars().filter(|c| !c.is_whitespace()).count() < 6 {
        return None;
    }
    Some(whole_line_run(line))
}

/// All the words of a line as one run of the digits among them: a band for the digit net to
/// read when the first reading broke or garbled the digits. The line must have words.
fn whole_line_run(line: &Line) -> DigitRun {
    DigitRun {
        digits: line.text().chars().filter(char::is_ascii_digit).collect(),
        first_word: 0,
        last_word: line.words.len() - 1,
        min_conf: line.words.iter().map(|w| w.conf).fold(100.0, f32::min),
    }
}

/// A line that holds a code's digits among other marks (a label read into it, residue read as
/// signs): all its words as one run of the digits seen, when they are at least eight.
fn merged_code(line: &Line) -> Option<DigitRun> {
    let text = line.text();
    let digits = text.chars().filter(char::is_ascii_digit).count();
    (digits >= 8 && find_date(&text).is_none()).then(|| whole_line_run(line))
}

/// The words after a serial label, as one run, when they hold some digits but no date and no
/// run of their own: at least two words or eight characters with two digits among them.
fn labelled_broken_run(line: &Line, skip: usize) -> Option<DigitRun> {
    let rest = line.words.get(skip..)?;
    let text: String = rest
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let chars = text.chars().filter(|c| !c.is_whitespace()).count();
    if rest.is_empty() || find_date(&text).is_some() || digits.is_empty() {
        return None;
    }
    if rest.len() < 2 && chars < 8 {
        return None;
    }
    Some(DigitRun {
        digits,
        first_word: skip,
        last_word: line.words.len() - 1,
        min_conf: rest.iter().map(|w| w.conf).fold(100.0, f32::min),
    })
}

/// The longest voucher serial: the serials on the cards seen are 12 to 16 digits, as is the
/// serial rule of the photo products (`serial_len` 12..16).
pub const SERIAL_MAX: usize = 16;

/// Serials and codes are 10 to 20 digits.
pub fn plausible_len(n: usize) -> bool {
    (10..=20).contains(&n)
}

/// Finds the fields among a card's lines (top to bottom).
pub fn extract(lines: &[Line]) -> CardFields {
    let mut f = CardFields::default();
    let mut code_label_line: Option<usize> = None;
    let mut long_runs: Vec<(usize, DigitRun, bool)> = Vec::new(); // (line, run, labelled serial)
    for (i, l) in lines.iter().enumerate() {
        if f.brand.is_none() {
            f.brand = l.words.iter().find_map(|w| match_brand(&w.text));
        }
        if is_covered_panel(l) {
            f.covered = true;
        }
        if is_code_label(l) {
            code_label_line = Some(i);
            // a code on the same line after the label
            if let Some(r) = digit_run(l, 0).filter(|r| plausible_len(r.digits.len())) {
                long_runs.push((i, r, false));
            }
            continue;
        }
        if let Some(skip) = serial_label_words(l) {
            if let Some(r) = digit_run(l, skip).filter(|r| r.digits.len() >= 6) {
                long_runs.push((i, r, true));
                continue;
            }
            if let Some(r) = labelled_broken_run(l, skip) {
                // a serial label before digits the first reading garbled (a font it reads
                // badly): the band after the label is re-read digit by digit
                long_runs.push((i, r, true));
                continue;
            }
        }
        if let Some(d) = find_date(&l.text()) {
            let t = norm_label(&l.text());
            let keyword = ["BERLAKU", "EXP", "SD", "VALID", "SAMPAI", "HINGGA", "AKTIF"]
                .iter()
                .any(|k| t.contains(k));
            if f.expiry.is_none() || keyword {
                f.expiry = Some(d);
                f.expiry_line = Some(i);
            }
            continue;
        }
        if let Some(r) = digit_run(l, 0).filter(|r| plausible_len(r.digits.len())) {
            long_runs.push((i, r, false));
        }
    }
    // serial: the labelled run; code: the run on or right under the code label
    if let Some(pos) = long_runs.iter().position(|(_, _, lab)| *lab) {
        let (line, run, _) = long_runs.remove(pos);
        f.serial = Some(DigitRunAt { line, run });
        f.serial_labelled = true;
    }
    f.code_label_line = code_label_line;
    if let Some(cl) = code_label_line {
        // the line under the label, past specks of residue read as lines of their own: the
        // highest line whose middle is below the label's (a code line grown tall with residue
        // may start above the label)
        let mid = |l: &Line| (l.top() + l.bottom()) / 2;
        let under = (0..lines.len())
            .filter(|&i| i != cl && mid(&lines[i]) > mid(&lines[cl]))
            .filter(|&i| {
                lines[i]
                    .text()
                    .chars()
                    .filter(|c| c.is_alphanumeric())
                    .count()
                    >= 3
            })
            .min_by_key(|&i| lines[i].top())
            .unwrap_or(cl + 1);
        if let Some(pos) = long_runs
            .iter()
            .position(|(line, _, _)| *line == cl || *line == under)
        {
            let (line, run, _) = long_runs.remove(pos);
            f.code = Some(DigitRunAt { line, run });
        } else if let Some(run) = lines
            .get(under)
            .filter(|l| l.height() >= lines[cl].height() && !is_covered_panel(l))
            .and_then(|l| broken_run(l, under, &f))
        {
            // the line under the label is mostly digits, broken up by residue read as
            // letters or signs: its band is re-read digit by digit
            f.code = Some(DigitRunAt { line: under, run });
        } else if let Some(run) = merged_code(&lines[cl]) {
            // the label and the code under it read as one line ("KODE 2216-2832, VOUCHER
            // 5161 6166."): the code's band is found within the line's
            f.code = Some(DigitRunAt { line: cl, run });
        } else {
            f.code_label_without_code = true;
        }
    }
    if f.serial.is_none() && !long_runs.is_empty() {
        // unlabelled serial: below the code if there is one, else the longest run
        let after_code = f.code.as_ref().map(|c| c.line);
        let pos = long_runs
            .iter()
            .position(|(line, _, _)| after_code.is_some_and(|c| *line > c))
            .unwrap_or(0);
        let (line, run, _) = long_runs.remove(pos);
        f.serial = Some(DigitRunAt { line, run });
    }
    if f.serial.is_none() {
        // a serial line the first reading garbled past knowing, label and all: the line of
        // text between the code (or the covered panel) and the expiry is the serial's band,
        // for the digit net to read
        let panel = lines.iter().rposition(is_covered_panel);
        let above = f.code.as_ref().map(|c| c.line).or(panel);
        if let (Some(a), Some(e)) = (above, f.expiry_line) {
            let band = (a + 1..e).find(|&i| {
                let l = &lines[i];
                l.text().chars().filter(|c| !c.is_whitespace()).count() >= 6
                    && find_date(&l.text()).is_none()
                    && !is_code_label(l)
                    && !is_covered_panel(l)
            });
            if let Some(i) = band {
                f.serial = Some(DigitRunAt {
                    line: i,
                    run: whole_line_run(&lines[i]),
                });
                f.serial_by_place = true;
            }
        }
    }
    if f.code.is_none() && !f.covered && code_label_line.is_none() && !long_runs.is_empty() {
        // an unlabelled code: the long run above the serial
        let (line, run, _) = long_runs.remove(0);
        f.code = Some(DigitRunAt { line, run });
    }
    if f.code.is_none() && !f.covered && code_label_line.is_none() {
        // no label and no run: the nearest line above the serial with eight digits or more
        // among residue read as signs ("5533 5929 7529°@112") is the code's band
        if let Some(s) = f.serial.as_ref().filter(|_| !f.serial_by_place) {
            f.code = (0..s.line)
                .rev()
                .find_map(|i| merged_code(&lines[i]).map(|run| DigitRunAt { line: i, run }));
        }
    }
    f.extra_runs = long_runs.len();
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(y: i32, words: &[&str]) -> Line {
        Line {
            words: words
                .iter()
                .enumerate()
                .map(|(i, t)| Word {
                    text: t.to_string(),
                    x: 10 + 80 * i as i32,
                    y,
                    w: 70,
                    h: 20,
                    conf: 90.0,
                })
                .collect(),
        }
    }

    #[test]
    fn dates_in_many_forms() {
        assert_eq!(
            find_date("Berlaku s/d 06/04/2028").as_deref(),
            Some("2028-04-06")
        );
        assert_eq!(find_date("Exp: 28/02/2027").as_deref(), Some("2027-02-28"));
        assert_eq!(find_date("exp 2027-12-01").as_deref(), Some("2027-12-01"));
        assert_eq!(find_date("valid 3 Jan 2027").as_deref(), Some("2027-01-03"));
        assert_eq!(find_date("Exp: 31/02/2027"), None);
        assert_eq!(find_date("SN 1234 5678 9012"), None);
    }

    #[test]
    fn grouped_digits_join_and_labels_are_skipped() {
        let l = line(0, &["SN:", "1234", "5678", "9012"]);
        assert_eq!(serial_label_words(&l), Some(1));
        assert_eq!(digit_run(&l, 1).unwrap().digits, "123456789012");
        let l = line(0, &["No.", "Seri", "123456789012345"]);
        assert_eq!(serial_label_words(&l), Some(2));
        let l = line(0, &["S/N", "12345678901O"]);
        assert_eq!(digit_run(&l, 1).unwrap().digits, "123456789010");
        let l = line(0, &["SN:123456789012"]);
        assert_eq!(serial_label_words(&l), Some(0));
        assert_eq!(digit_run(&l, 0).unwrap().digits, "123456789012");
        // a speck read between the label and its digits
        let l = line(0, &["S/N°3587692661635625"]);
        assert_eq!(serial_label_words(&l), Some(0));
        assert_eq!(digit_run(&l, 0).unwrap().digits, "3587692661635625");
        // a word that only starts like a label is none
        assert_eq!(strip_label("SNAP123"), None);
        assert_eq!(strip_label("SN°"), None);
    }

    #[test]
    fn a_code_label_with_a_letter_misread_is_still_a_label() {
        assert!(is_code_label(&line(0, &["VOUCHER", "COSE"])));
        assert!(is_code_label(&line(0, &["<ODE", "VOUCHER"])));
        assert!(is_code_label(&line(0, &["KODE", "VOUCHER"])));
        // the product line is not a label
        assert!(!is_code_label(&line(0, &["VOUCHER", "DATA", "2GB"])));
        assert!(!is_code_label(&line(0, &["VOUCHER", "25.000"])));
    }

    #[test]
    fn a_code_broken_by_residue_is_found_under_its_label_past_specks() {
        let lines = vec![
            line(40, &["VOUCHER", "25.000"]),
            line(80, &["VOUCHER", "CODE"]),
            line(84, &["_"]),
            line(100, &["Jo%e-", "205e", "e121", "05"]),
            line(140, &["SN", "59262120619461"]),
            line(180, &["Berlaku", "s/d", "07/11/2026"]),
        ];
        let f = extract(&lines);
        let code = f.code.expect("the line under the label is the code's band");
        assert_eq!(code.line, 3);
        assert_eq!((code.run.first_word, code.run.last_word), (0, 3));
        assert!(!f.code_label_without_code);
        assert_eq!(f.serial.unwrap().run.digits, "59262120619461");
        // a code line grown tall with residue starts above its label: still the one under it
        let mut tall = line(76, &["4287", "1586", "4117.", "2853"]);
        for w in &mut tall.words {
            w.h = 60;
        }
        let lines = vec![
            line(40, &["UNLIMITED", "7", "HARI"]),
            tall,
            line(80, &["VGUCHER", "CODE:"]),
            line(160, &["Serial:", "968223026141"]),
        ];
        let f = extract(&lines);
        assert_eq!(f.code.unwrap().run.digits, "4287158641172853");
        // garbled letters under the label are still its band (the digit net reads it)
        let lines = vec![
            line(80, &["VOUCHER", "CODE"]),
            line(100, &["reat", "Spy", "leh", "aysiedsy"]),
            line(140, &["SN", "59262120619461"]),
        ];
        assert_eq!(extract(&lines).code.unwrap().line, 1);
        // a panel still covered, or nothing but a speck under the label: no code band
        let lines = vec![
            line(80, &["VOUCHER", "CODE"]),
            line(100, &["GOSOK", "DI", "SINI"]),
            line(140, &["SN", "59262120619461"]),
        ];
        let f = extract(&lines);
        assert!(f.code.is_none() && f.covered);
        let lines = vec![
            line(80, &["VOUCHER", "CODE"]),
            line(100, &["_-"]),
            line(140, &["SN", "59262120619461"]),
        ];
        let f = extract(&lines);
        assert!(f.code.is_none());
        assert!(f.code_label_without_code);
    }

    #[test]
    fn a_labelled_serial_the_first_reading_garbled_gives_its_band() {
        let lines = vec![
            line(80, &["VOUCHER", "CODE"]),
            line(100, &["8230", "9933", "7865", "56"]),
            line(140, &["SiN", "O75)", "Sone", "7092", "SE"]),
            line(180, &["Berlaku", "s/d", "18/09/2026"]),
        ];
        let f = extract(&lines);
        let s = f
            .serial
            .expect("the words after the label are the serial's band");
        assert_eq!(s.line, 2);
        assert_eq!((s.run.first_word, s.run.last_word), (1, 4));
        assert!(f.serial_labelled);
        assert_eq!(f.code.unwrap().run.digits, "82309933786556");
        // a single digit left among the garble still gives the band
        let f = extract(&[line(140, &["Serial:", "FOO", "NTI", "5", "ole"])]);
        let s = f.serial.expect("a band with a digit in it");
        assert_eq!((s.run.first_word, s.run.last_word), (1, 4));
        // a label with only a word of letters after it is no serial
        let f = extract(&[line(140, &["SN:", "ABC"])]);
        assert!(f.serial.is_none());
        let f = extract(&[line(140, &["Serial:", "FOO", "NTI", "ole"])]);
        assert!(f.serial.is_none());
    }

    #[test]
    fn a_code_read_into_its_labels_line_is_found_there() {
        let lines = vec![
            line(40, &["VOUCHER", "DATA", "5GB"]),
            line(80, &["KODE", "2216-2832,", "VOUCHER", "5161", "6166."]),
            line(140, &["SIN", "9907", "8957", "4152", "77"]),
            line(180, &["Berlaku", "s/d", "01/12/2027"]),
        ];
        let f = extract(&lines);
        let c = f.code.expect("the label's line holds the code");
        assert_eq!(c.line, 1);
        assert_eq!((c.run.first_word, c.run.last_word), (0, 4));
        assert!(!f.code_label_without_code);
        assert_eq!(f.serial.unwrap().run.digits, "99078957415277");
        // a label with a few digits of residue beside it is no code
        let lines = vec![
            line(80, &["KODE", "VOUCHER", "3."]),
            line(140, &["SN", "99078937415277"]),
        ];
        let f = extract(&lines);
        assert!(f.code.is_none() && f.code_label_without_code);
    }

    #[test]
    fn an_unlabelled_code_broken_by_residue_is_the_line_above_the_serial() {
        let lines = vec![
            line(40, &["UNLIMITED", "7", "HARI"]),
            line(80, &["5533", "5929", "7529°@112"]),
            line(140, &["SN", "9064251288513776"]),
            line(180, &["Exp:", "05/01/2028"]),
        ];
        let f = extract(&lines);
        let c = f.code.expect("the digit line above the serial");
        assert_eq!(c.line, 1);
        assert_eq!((c.run.first_word, c.run.last_word), (0, 2));
        // a covered panel has no code, and a line of few digits is none
        let lines = vec![
            line(80, &["GOSOK", "DI", "SINI", "5533", "5929"]),
            line(140, &["SN", "9064251288513776"]),
        ];
        assert!(extract(&lines).code.is_none());
        let lines = vec![
            line(40, &["VOUCHER", "DATA", "3GB", "3HR"]),
            line(140, &["SN", "9064251288513776"]),
        ];
        assert!(extract(&lines).code.is_none());
    }

    #[test]
    fn a_serial_line_garbled_label_and_all_is_found_by_its_place() {
        // between the code and the expiry: the line the first reading made nothing of
        let lines = vec![
            line(40, &["VOUCHER", "INTERNET", "10GB"]),
            line(80, &["KODE", "VOUCHER"]),
            line(100, &["1252", "2497", "2323", "48"]),
            line(140, &["SWAN", "TATASE)", "Ceyeyey", "UKs"]),
            line(180, &["Exp:", "27/01/2026"]),
        ];
        let f = extract(&lines);
        let s = f.serial.expect("the line between code and expiry");
        assert_eq!(s.line, 3);
        assert_eq!((s.run.first_word, s.run.last_word), (0, 3));
        assert!(f.serial_by_place && !f.serial_labelled);
        assert_eq!(f.code.unwrap().line, 2);
        // under a covered panel too
        let lines = vec![
            line(80, &["GOSOK", "DI", "SINI"]),
            line(140, &["SWAN", "TATASE)"]),
            line(180, &["Exp:", "27/01/2026"]),
        ];
        let f = extract(&lines);
        assert_eq!(f.serial.map(|s| s.line), Some(1));
        assert!(f.serial_by_place);
        // no expiry to bound it, or nothing but a speck in between: no serial
        let lines = vec![
            line(80, &["KODE", "VOUCHER"]),
            line(100, &["1252", "2497", "2323", "48"]),
            line(140, &["SWAN", "TATASE)"]),
        ];
        assert!(extract(&lines).serial.is_none());
        let lines = vec![
            line(80, &["KODE", "VOUCHER"]),
            line(100, &["1252", "2497", "2323", "48"]),
            line(140, &["_-"]),
            line(180, &["Exp:", "27/01/2026"]),
        ];
        assert!(extract(&lines).serial.is_none());
        // a labelled serial is never taken by place
        let lines = vec![
            line(100, &["1252", "2497", "2323", "48"]),
            line(140, &["SN", "778925867257"]),
            line(180, &["Exp:", "27/01/2026"]),
        ];
        let f = extract(&lines);
        assert!(f.serial_labelled && !f.serial_by_place);
    }

    #[test]
    fn card_fields_with_labels() {
        let lines = vec![
            line(0, &["TELKOMSEL"]),
            line(40, &["VOUCHER", "DATA", "2GB"]),
            line(80, &["KODE", "VOUCHER"]),
            line(100, &["1417", "0753", "6455", "68"]),
            line(140, &["Serial:", "677188357951"]),
            line(180, &["Berlaku", "s/d", "06/04/2028"]),
        ];
        let f = extract(&lines);
        assert_eq!(f.brand, Some("TELKOMSEL"));
        assert_eq!(f.serial.unwrap().run.digits, "677188357951");
        assert_eq!(f.code.unwrap().run.digits, "14170753645568");
        assert_eq!(f.expiry.as_deref(), Some("2028-04-06"));
    }

    #[test]
    fn covered_panel_and_unlabelled_serial() {
        let lines = vec![
            line(0, &["XL"]),
            line(80, &["GOSOK", "DI", "SINI"]),
            line(140, &["6771", "8835", "7951"]),
            line(180, &["Exp:", "01/12/2027"]),
        ];
        let f = extract(&lines);
        assert!(f.covered);
        assert_eq!(f.serial.unwrap().run.digits, "677188357951");
        assert!(f.code.is_none());
        assert_eq!(f.brand, Some("XL"));
    }

    #[test]
    fn brand_tolerates_one_slip() {
        assert_eq!(match_brand("TELKOMSE1"), Some("TELKOMSEL"));
        assert_eq!(match_brand("by.U"), Some("by.U"));
        assert_eq!(match_brand("VOUCHER"), None);
    }
}
