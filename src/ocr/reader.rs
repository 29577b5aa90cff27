//! The card reader: photo -> cards. Finds each card, deskews and crops it, scales it by the
//! measured character height, reads it with Tesseract, then re-reads the serial, code and expiry
//! lines on their own (single-line mode, digit whitelist, own binarization) and votes.

use std::path::Path;

use image::GrayImage;

use super::engine::{Engine, Psm};
use super::parse::{self, CardFields, DigitRunAt, Line};
use super::prep::{self, Photo, RotRect};
use super::{Card, CardBox, PhotoReport};

/// Character height (pixels) the card is scaled to before recognition.
const TARGET_CHAR_H: f32 = 30.0;
/// Word confidence below which a field is flagged.
const MIN_CONF: f32 = 60.0;

/// Reads one photo file. Never panics on bad input: a photo that cannot be read gets a verdict.
pub fn read_photo(engine: &mut Engine, path: &Path) -> PhotoReport {
    let shown = path.display().to_string();
    match prep::load_photo(path) {
        Ok((photo, _)) => read_decoded(engine, &shown, &photo),
        Err(e) => PhotoReport::failed(&shown, &e),
    }
}

/// Reads an already decoded photo.
pub fn read_decoded(engine: &mut Engine, shown: &str, photo: &Photo) -> PhotoReport {
    let gray = prep::to_gray(&photo.rgb);
    let (w, h) = gray.dimensions();
    let mut regions: Vec<RotRect> = prep::find_regions(&photo.rgb)
        .into_iter()
        .filter(|r| r.rect.w >= 60.0 && r.rect.h >= 30.0)
        .map(|r| r.rect)
        .collect();
    let whole = regions.is_empty();
    if whole {
        // no card edge found (a close-up, or a card filling the frame): read the whole photo
        regions.push(RotRect {
            cx: w as f32 / 2.0,
            cy: h as f32 / 2.0,
            w: w as f32,
            h: h as f32,
            angle: 0.0,
        });
    }
    let minc = prep::min_channel(&photo.rgb);
    let mut cards = Vec::new();
    for r in &regions {
        if let Some(mut c) = read_card(engine, &gray, &minc, r) {
            let s = photo.scale_to_original;
            c.card_box = CardBox::from_rect(&r.scaled(s), photo.original_size);
            cards.push(c);
        }
    }
    PhotoReport::read(shown, cards)
}

struct Attempt {
    fields: CardFields,
    lines: Vec<Line>,
    img: GrayImage,
    score: u32,
    rect: RotRect,
    scale: f32,
    turn: u8,
}

impl Attempt {
    /// The part of the photo under a box of the card image, as its own rotated rectangle, so a
    /// line is sampled once from the photo at the resolution it needs.
    fn sub_rect(&self, x0: i32, y0: i32, x1: i32, y1: i32) -> RotRect {
        let (w, h) = (self.img.width() as f32, self.img.height() as f32);
        let (mut cx, mut cy) = ((x0 + x1) as f32 / 2.0, (y0 + y1) as f32 / 2.0);
        if self.turn == 2 {
            cx = w - cx;
            cy = h - cy;
        }
        let (px, py) = self.rect.to_photo(cx / self.scale, cy / self.scale);
        RotRect {
            cx: px,
            cy: py,
            w: (x1 - x0) as f32 / self.scale,
            h: (y1 - y0) as f32 / self.scale,
            angle: self.rect.angle + if self.turn == 2 { 180.0 } else { 0.0 },
        }
    }
}

fn attempt(engine: &mut Engine, gray: &GrayImage, r: &RotRect, turn: u8) -> Option<Attempt> {
    let probe = prep::crop_rotated(gray, r, 1.0, turn);
    let Some(ch) = prep::char_height(&probe) else {
        if std::env::var_os("KONTER_OCR_DEBUG").is_some() {
            eprintln!("no text height on a region {r:?} turn {turn}");
        }
        return None;
    };
    let scale = (TARGET_CHAR_H / ch).clamp(0.4, 4.0);
    let (img, scale) = if (scale - 1.0).abs() > 0.08 {
        (prep::crop_rotated(gray, r, scale, turn), scale)
    } else {
        (probe, 1.0)
    };
    let words = engine.words(&img, Psm::Sparse, "");
    let lines = parse::group_lines(words);
    let fields = parse::extract(&lines);
    if std::env::var_os("KONTER_OCR_DEBUG").is_some() {
        for l in &lines {
            eprintln!("line y={} h={} {:?}", l.top(), l.height(), l.text());
        }
    }
    let score = u32::from(fields.serial.is_some() && !fields.serial_by_place) * 4
        + u32::from(fields.serial_labelled) * 2
        + u32::from(fields.code.is_some()) * 2
        + u32::from(fields.expiry.is_some()) * 2
        + u32::from(fields.brand.is_some());
    Some(Attempt {
        fields,
        lines,
        img,
        score,
        rect: *r,
        scale,
        turn,
    })
}

fn read_card(engine: &mut Engine, gray: &GrayImage, minc: &GrayImage, r: &RotRect) -> Option<Card> {
    let mut best = attempt(engine, gray, r, 0);
    // upside down (or a portrait card turned the wrong way): try the other way round
    // (an upright card shows a labelled serial and an expiry to the first reading)
    if best
        .as_ref()
        .is_none_or(|a| a.score < 8 || !a.fields.serial_labelled || a.fields.expiry.is_none())
    {
        if let Some(b) = attempt(engine, gray, r, 2) {
            if best.as_ref().is_none_or(|a| b.score > a.score) {
                best = Some(b);
            }
        }
    }
    let a = best?;
    if a.score == 0 || (a.fields.serial.is_none() && a.fields.code.is_none()) {
        return None;
    }
    Some(finish(engine, gray, minc, &a))
}

/// The digit net's probability below which a digit is not trusted.
const NET_SURE: f32 = 0.9;

/// Per-character confidence (Tesseract's, 0..100) below which a digit is not trusted.
const MIN_CHAR_CONF: f32 = 90.0;

/// The outcome of re-reading one digit field.
#[derive(Default)]
struct DigitVote {
    /// the digits, voted character by character
    digits: String,
    /// when the digit net read the line: where its digits begin and end and the pitch, as
    /// shares of the band's width
    span: Option<(f32, f32, f32)>,
    /// the net saw ink after the digits
    ink_after: bool,
    /// where the next ink after the digits begins, as a share of the band's width
    next_ink: Option<f32>,
    /// the digits of each group, when the net read the line
    groups: Vec<usize>,
    /// the line may go on past the card's edge, see [`may_go_on`]
    may_go_on: bool,
    /// the net saw the line's last character cut by the card's edge
    cut: bool,
    /// every reading gave exactly these digits and no digit was read with low confidence
    sure: bool,
    /// confidence 0..100: the weakest digit's, scaled by the share of agreeing readings
    conf: f32,
    /// why the field is not sure, if it is not
    doubt: Option<&'static str>,
}

/// A character as the digit it stands for in a digit line (letters OCR confuses with digits;
/// a lone reading also takes "b" for 6).
fn digit_like(c: char) -> Option<char> {
    match c {
        'b' => Some('6'),
        _ => parse::digit_for(c),
    }
}

/// One reading of a digit line: its digits and each one's confidence (None when the reading
/// gives no per-character confidence).
struct DigitRead {
    digits: Vec<char>,
    confs: Option<Vec<f32>>,
}

/// Votes readings of one digit field. The length is the one most readings give (ties: a
/// plausible length, then the earlier reading); each position then takes the digit most of the
/// readings of that length give. The field is sure only when every reading gives the same
/// digits and every digit's confidence (the best among readings with a confidence) clears
/// [`MIN_CHAR_CONF`].
fn vote_digits(reads: &[DigitRead]) -> DigitVote {
    let Some(first) = reads.first() else {
        return DigitVote {
            doubt: Some("no reading"),
            ..DigitVote::default()
        };
    };
    let mut best_len = first.digits.len();
    let mut best_key = (0usize, false, usize::MAX);
    for (i, r) in reads.iter().enumerate() {
        let n = r.digits.len();
        let count = reads.iter().filter(|o| o.digits.len() == n).count();
        let key = (count, parse::plausible_len(n), usize::MAX - i);
        if key > best_key {
            best_key = key;
            best_len = n;
        }
    }
    let same: Vec<&DigitRead> = reads
        .iter()
        .filter(|r| r.digits.len() == best_len)
        .collect();
    let mut digits = String::new();
    let mut unanimous = same.len() == reads.len();
    let mut weakest = 100.0f32;
    for pos in 0..best_len {
        let mut counts: Vec<(char, usize, f32)> = Vec::new();
        for r in &same {
            let c = r.digits[pos];
            let conf = r.confs.as_ref().map(|v| v[pos]).unwrap_or(-1.0);
            match counts.iter_mut().find(|e| e.0 == c) {
                Some(e) => {
                    e.1 += 1;
                    e.2 = e.2.max(conf);
                }
                None => counts.push((c, 1, conf)),
            }
        }
        // most votes, then the most confident
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.total_cmp(&a.2)));
        let (c, n, conf) = counts[0];
        if n != same.len() {
            unanimous = false;
        }
        if conf >= 0.0 {
            weakest = weakest.min(conf);
        }
        digits.push(c);
    }
    let share = same.len() as f32 / reads.len() as f32;
    let conf = weakest * share;
    let doubt = if !unanimous {
        Some("readings disagree")
    } else if weakest < MIN_CHAR_CONF {
        Some("a digit was read with low confidence")
    } else {
        None
    };
    DigitVote {
        digits,
        sure: doubt.is_none(),
        conf,
        doubt,
        ..DigitVote::default()
    }
}

/// Re-reads a digit run on its own: the band of its line from the end of any label to the
/// card's right edge, sampled from the photo (see [`read_digit_band`]). `strict` for a line read
/// through scratch residue: every digit must then be matched by another of its kind in the line.
fn confirm_digits(
    engine: &mut Engine,
    gray: &GrayImage,
    a: &Attempt,
    at: &DigitRunAt,
    strict: bool,
) -> DigitVote {
    let line = &a.lines[at.line];
    let ws = &line.words[at.run.first_word..=at.run.last_word];
    let y0 = ws.iter().map(|w| w.y).min().unwrap_or(0);
    let y1 = ws.iter().map(|w| w.y + w.h).max().unwrap_or(0);
    let lh = (y1 - y0).max(1);
    // from the end of a serial label on this line (or the card's left edge) to the card's
    // right edge, less a small margin where the table may show
    let width = a.img.width() as i32;
    let margin = width / 50 + 2;
    let x0 = match parse::serial_label_words(line).filter(|&n| n > 0 && n <= at.run.first_word) {
        Some(n) => {
            let label = &line.words[n - 1];
            label.x + label.w + 2
        }
        None => margin,
    };
    let x1 = width;
    let mut band = a.sub_rect(x0, y0 - lh / 3 - 2, x1, y1 + lh / 3 + 2);
    let mut h_photo = lh as f32 / a.scale;
    let mut probe = net_band(gray, &band, h_photo);
    if probe.net.is_none() {
        // the words' boxes may stand far taller than the digits (scratch residue read into
        // a code's line, its label merged with it): bands of the card's usual digit-line
        // height down the line, the one the net reads most surely
        if let Some(found) = digit_line_within(gray, a, at.line, x0, x1, y0, y1) {
            (band, h_photo, probe) = found;
        }
    }
    let mut v = read_digit_band(
        engine,
        gray,
        &band,
        h_photo,
        probe,
        Some(&at.run.digits),
        strict,
    );
    // digits that reach the card's edge may go on beyond it: the line is whole only when
    // more than a group's space and a narrow digit's side bearing (1.45 pitches, plus a
    // margin for the card's outline) of card is left after its last digit, so even a digit
    // after a space would show
    let first_x = ws.first().map(|w| w.x).unwrap_or(0);
    // card left after the last digit, in pitches, when the net read the line
    let gap = v.span.map(|(_, end, pitch)| {
        let band_w = (x1 - x0) as f32;
        (width as f32 - (x0 as f32 + end * band_w), pitch * band_w)
    });
    let reaches_right = match gap {
        Some((left, pitch)) => v.ink_after || left < 1.45 * pitch + width as f32 / 100.0,
        None => ws.last().map(|w| w.x + w.w).unwrap_or(0) > width - margin - 2 * lh,
    };
    if let (Some((left, pitch)), Some(_)) = (gap, std::env::var_os("KONTER_OCR_DEBUG")) {
        eprintln!(
            "reach {reaches_right} digits={} gap_pitches={:.2} ink_after={} strict={strict} groups={:?} next_ink={:?}",
            v.digits,
            left / pitch,
            v.ink_after,
            v.groups,
            v.next_ink.map(|x| x * (x1 - x0) as f32 / pitch)
        );
    }
    if reaches_right || first_x < margin + lh / 4 {
        v.sure = false;
        v.doubt = v.doubt.or(Some("digits reach the card's edge"));
    }
    if let (Some((left, pitch)), Some(next)) = (gap, v.next_ink) {
        v.cut |= cut_glyph_after(next * (x1 - x0) as f32, left, pitch, v.digits.len());
    }
    // a serial of the longest length is whole: what follows it is not of it
    v.cut &= v.digits.len() < parse::SERIAL_MAX;
    v.may_go_on = match gap {
        Some((left, pitch)) => may_go_on(&v.groups, left, pitch, width),
        // Tesseract's reading, which has no pitch to measure by: any line reaching the edge
        None => reaches_right && v.digits.len() + 2 <= parse::SERIAL_MAX,
    };
    v
}

/// Whether ink `next` pixels after a line's `n` digits, with `left` pixels of card after them,
/// is a character the card's edge cuts: it begins where the next digit's would (a side bearing
/// on, under half a pitch) and well before the edge (a fifth of a pitch: the edge's own shadow
/// lies just before it), and the line is shorter than the longest serial. The part that shows
/// can be too wide to be told by its width (see [`super::digits::LineRead::cut`]).
fn cut_glyph_after(next: f32, left: f32, pitch: f32, n: usize) -> bool {
    next < 0.5 * pitch && left - next > 0.2 * pitch && n < parse::SERIAL_MAX
}

/// Whether a serial line of these groups, with `left` pixels of card after its last digit, may
/// go on past the card's edge with nothing of its next character showing. The next character
/// is a group's space when the last group is as long as the others (then the next digit
/// begins 1.45 pitches on, space and side bearings), a digit otherwise (0.45 pitches, its
/// side bearing and the gap between glyphs); the card's outline is good to 1% of its width.
/// A line that may go on is taken as cut only when that is likelier than whole: with serials
/// of up to [`parse::SERIAL_MAX`] digits, a line of n digits could be whole or one of
/// `SERIAL_MAX - n` longer serials cut, so at least two digits short of the longest. A line a
/// single digit short is as likely whole as cut and is given, under review.
fn may_go_on(groups: &[usize], left: f32, pitch: f32, width: i32) -> bool {
    let n: usize = groups.iter().sum();
    let Some((&last, rest)) = groups.split_last() else {
        return false;
    };
    let next_is_space = !rest.is_empty() && rest.iter().all(|&g| g == last);
    let hidden = if next_is_space { 1.45 } else { 0.45 };
    n + 2 <= parse::SERIAL_MAX && left < hidden * pitch + width as f32 / 100.0
}

/// A band of the photo sampled so its digits stand 28 pixels tall, and the digit net's reading
/// of it when the net finds a whole line of a serial's or code's length there.
struct NetBand {
    crop28: GrayImage,
    net: Option<super::digits::LineRead>,
}

/// Samples a band whose digits stand `h_photo` photo pixels tall and lets the net read it.
fn net_band(gray: &GrayImage, band: &RotRect, h_photo: f32) -> NetBand {
    let crop28 = prep::crop_rotated(gray, band, 28.0 / h_photo, 0);
    let net = super::digits::read_digits(super::digits::Net::shipped(), &crop28)
        .filter(|n| parse::plausible_len(n.digits.len()));
    NetBand { crop28, net }
}

/// Within a line's box `y0..y1` that is taller than the card's other digit lines: the band of
/// their height, stepped down by a quarter of it, where the net reads a whole line of digits
/// most surely.
fn digit_line_within(
    gray: &GrayImage,
    a: &Attempt,
    skip: usize,
    x0: i32,
    x1: i32,
    y0: i32,
    y1: i32,
) -> Option<(RotRect, f32, NetBand)> {
    let mut heights: Vec<i32> = a
        .lines
        .iter()
        .enumerate()
        .filter(|(i, l)| *i != skip && l.text().chars().filter(char::is_ascii_digit).count() >= 10)
        .map(|(_, l)| l.height())
        .collect();
    heights.sort_unstable();
    let h = *heights.get(heights.len() / 2)?;
    if h < 8 || (y1 - y0) < h * 3 / 2 {
        return None;
    }
    let h_photo = h as f32 / a.scale;
    let mut best: Option<(f32, RotRect, NetBand)> = None;
    let mut top = y0 - h / 3;
    while top + h <= y1 + h / 3 {
        let band = a.sub_rect(x0, top - h / 3 - 2, x1, top + h + h / 3 + 2);
        let probe = net_band(gray, &band, h_photo);
        let sure = probe.net.as_ref().filter(|n| n.regular).map(|n| n.min_prob);
        if let Some(p) = sure.filter(|p| best.as_ref().is_none_or(|b| *p > b.0)) {
            best = Some((p, band, probe));
        }
        top += (h / 4).max(1);
    }
    best.map(|(_, band, probe)| (band, h_photo, probe))
}

/// A code the first reading missed under its label ("KODE VOUCHER"): the band below the label
/// line, its text height measured, read like any digit line. Never sure on its own (the band is
/// a guess), but it gives the reviewer the digits.
fn code_under_label(
    engine: &mut Engine,
    gray: &GrayImage,
    a: &Attempt,
    label: usize,
) -> Option<DigitVote> {
    let l = a.lines.get(label)?;
    let lh = l.height().max(1);
    let width = a.img.width() as i32;
    let margin = width / 50 + 2;
    let (y0, y1) = (
        l.bottom() + 1,
        (l.bottom() + lh * 5 / 2).min(a.img.height() as i32),
    );
    if y1 - y0 < 6 {
        return None;
    }
    let part = image::imageops::crop_imm(
        &a.img,
        margin as u32,
        y0 as u32,
        (width - 2 * margin).max(1) as u32,
        (y1 - y0) as u32,
    )
    .to_image();
    let ch = prep::char_height(&part)?;
    let band = a.sub_rect(margin, y0, width - margin, y1);
    let h_photo = ch / a.scale;
    let probe = net_band(gray, &band, h_photo);
    let mut v = read_digit_band(engine, gray, &band, h_photo, probe, None, true);
    if !parse::plausible_len(v.digits.len()) {
        return None;
    }
    v.sure = false;
    v.doubt = Some("code found only under its label");
    Some(v)
}

/// A digit the net is unsure of (below [`NET_SURE`]) is taken as its runner-up when Tesseract's
/// reading of the same line, digit for digit, gives the runner-up there. The net's uncertain
/// digits are mostly the runner-up in truth, and Tesseract's errors are other ones (a dotted
/// zero), so the two rarely agree on a wrong digit. The line stays unsure either way. Not for
/// code lines: through scratch residue Tesseract agreed with a wrong runner-up as often as not.
fn second_opinion(mut n: super::digits::LineRead, tess: &str) -> super::digits::LineRead {
    if tess.chars().count() != n.cells.len() {
        return n;
    }
    let mut digits: Vec<char> = n.digits.chars().collect();
    for ((d, cell), t) in digits.iter_mut().zip(&n.cells).zip(tess.chars()) {
        if cell.prob < NET_SURE && t == cell.other && t != *d {
            *d = t;
        }
    }
    n.digits = digits.into_iter().collect();
    n
}

/// The net's reading of a whole digit line as a field's outcome: sure when its digits keep the
/// pitch and each is read with at least [`NET_SURE`].
fn net_vote(n: super::digits::LineRead, width: u32) -> DigitVote {
    let doubt = if !n.regular {
        Some("characters are unevenly spaced")
    } else if n.min_prob < NET_SURE {
        Some("a digit was read with low confidence")
    } else {
        None
    };
    let cw = width.max(1) as f32;
    DigitVote {
        digits: n.digits,
        span: Some((n.start / cw, n.end / cw, n.pitch / cw)),
        ink_after: n.ink_after,
        next_ink: n.next_ink.map(|x| x / cw),
        groups: n.groups,
        cut: n.cut,
        sure: doubt.is_none(),
        conf: n.min_prob * 100.0,
        doubt,
        ..DigitVote::default()
    }
}

/// Reads one band of the photo holding a digit line whose digits stand `h_photo` photo pixels
/// tall, `probe` its sampling for the net (see [`net_band`]). The digit net reads it first (see [`super::digits`]); only when the net finds no whole
/// line does Tesseract read it, in several preparations (three text heights; bright specks
/// opened away, which mends digits nicked by scratch residue), each in single-line mode with a
/// digit whitelist, plus one without a whitelist for per-character confidences, voted with the
/// first reading, if any, character by character, each digit's shape then checked against the
/// line's other digits. Such a fallback reading is never sure unless every reading agrees.
fn read_digit_band(
    engine: &mut Engine,
    gray: &GrayImage,
    band: &RotRect,
    h_photo: f32,
    probe: NetBand,
    first: Option<&str>,
    strict: bool,
) -> DigitVote {
    let band = *band;
    let NetBand { crop28, net } = probe;
    let mut reads: Vec<DigitRead> = first
        .map(|d| DigitRead {
            digits: d.chars().collect(),
            confs: None,
        })
        .into_iter()
        .collect();
    // the digit net, when it reads a whole line: it knows the glyphs Tesseract misreads the
    // same way every time (a dotted zero, a digit nicked by scratch residue); Tesseract reads
    // the line only when the net cannot (or to label cells for training the net)
    let dump = std::env::var_os("KONTER_OCR_CELLS");
    if dump.is_none() {
        if let Some(n) = net
            .as_ref()
            .filter(|n| strict || n.min_prob >= NET_SURE || !n.regular)
        {
            return net_vote(n.clone(), crop28.width());
        }
    }
    let crop36 = prep::crop_rotated(gray, &band, 36.0 / h_photo, 0);
    let crop24 = prep::crop_rotated(gray, &band, 24.0 / h_photo, 0);
    // small bright specks (scratch residue over the strokes) opened away
    let mended = prep::open_bright(&crop28, 1);
    let mut cells28 = Vec::new();
    for (k, img) in [&crop28, &crop36, &mended, &crop24].into_iter().enumerate() {
        let glyphs: Vec<_> = engine
            .glyphs(img, Psm::Line, "0123456789")
            .into_iter()
            .filter(|g| g.ch.is_ascii_digit())
            .collect();
        if k == 0 {
            cells28 = glyphs.iter().map(|g| (g.x0, g.x1, g.ch)).collect();
        }
        reads.push(DigitRead {
            digits: glyphs.iter().map(|g| g.ch).collect(),
            confs: None,
        });
    }
    // without a whitelist Tesseract's per-character confidence means something (with one, a
    // suppressed better guess leaves 0): this reading gives the confidences
    let free = engine.glyphs(&crop28, Psm::Line, "");
    let free_digits: Vec<(char, f32)> = free
        .iter()
        .filter_map(|g| digit_like(g.ch).map(|c| (c, g.conf)))
        .collect();
    reads.push(DigitRead {
        digits: free_digits.iter().map(|g| g.0).collect(),
        confs: Some(free_digits.iter().map(|g| g.1).collect()),
    });
    let mut v = vote_digits(&reads);
    if let Some(path) = &dump {
        dump_cells(path, &crop28, &v.digits, strict);
    }
    if let Some(n) = net {
        // through scratch residue Tesseract's readings are too often wrong to judge by
        let n = if strict {
            n
        } else {
            second_opinion(n, &v.digits)
        };
        return net_vote(n, crop28.width());
    }
    // each digit against the line's other digits: a damaged digit read the same wrong way
    // by every reading still looks like the digit it really is
    let mut bin = prep::binarize(&crop28, prep::otsu(&crop28));
    prep::clean_specks(&mut bin);
    let doubtful = prep::glyph_doubts(&bin, &cells28, strict)
        .iter()
        .filter(|d| **d)
        .count();
    if v.sure && doubtful > 0 {
        v.sure = false;
        v.doubt = Some("a digit looks like another digit of the line");
    }
    if std::env::var_os("KONTER_OCR_DEBUG").is_some() {
        let shown: Vec<String> = reads
            .iter()
            .map(|r| {
                let d: String = r.digits.iter().collect();
                match &r.confs {
                    Some(c) => format!("{d}@{:.0}", c.iter().copied().fold(100.0f32, f32::min)),
                    None => d,
                }
            })
            .collect();
        eprintln!(
            "digits {} sure={} {:?} doubtful={doubtful} reads {}",
            v.digits,
            v.sure,
            v.doubt,
            shown.join(" ")
        );
    }
    v
}

/// For training the digit net: appends the line's cells (as the net reads them) and the voted
/// digits to a JSON-lines file named by `KONTER_OCR_CELLS`.
fn dump_cells(path: &std::ffi::OsStr, crop: &GrayImage, voted: &str, strict: bool) {
    use std::io::Write;
    let Some(seg) = super::digits::segment(crop) else {
        return;
    };
    let cells: Vec<String> = seg
        .cells
        .iter()
        .map(|c| {
            super::digits::cell_pixels(crop, &seg, c)
                .iter()
                .map(|v| format!("{:02x}", (v * 255.0).round() as u8))
                .collect()
        })
        .collect();
    let line = serde_json::json!({"voted": voted, "strict": strict, "cells": cells});
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(format!("{line}\n").as_bytes());
    }
}

fn confirm_expiry(
    engine: &mut Engine,
    gray: &GrayImage,
    a: &Attempt,
    line_idx: usize,
    first: &str,
) -> bool {
    let line = &a.lines[line_idx];
    let x0 = line.words.iter().map(|w| w.x).min().unwrap_or(0);
    let x1 = line.words.iter().map(|w| w.x + w.w).max().unwrap_or(0);
    let lh = line.height().max(1);
    let band = a.sub_rect(
        x0 - lh,
        line.top() - lh / 3 - 2,
        x1 + lh,
        line.bottom() + lh / 3 + 2,
    );
    let crop = prep::crop_rotated(gray, &band, 36.0 / (lh as f32 / a.scale), 0);
    let bin = prep::binarize(&crop, prep::otsu(&crop));
    let words = engine.words(&bin, Psm::Line, "");
    let text = words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    parse::find_date(&text).as_deref() == Some(first)
}

/// Re-reads the band above the serial, where the scratch panel sits, for the faint grey
/// "GOSOK DI SINI" of a panel still covered: at the threshold between the panel and the paper,
/// and at the one between the print and the panel (Otsu again on the darker side).
fn panel_says_covered(engine: &mut Engine, a: &Attempt) -> bool {
    let Some(at) = a.fields.serial.as_ref() else {
        return false;
    };
    let line = &a.lines[at.line];
    let lh = line.height().max(1);
    let y1 = line.top().max(0);
    let y0 = (y1 - lh * 4).max(0);
    if y1 - y0 < lh {
        return false;
    }
    let w = a.img.width();
    let part = image::imageops::crop_imm(&a.img, 0, y0 as u32, w, (y1 - y0) as u32).to_image();
    let t1 = prep::otsu(&part);
    let inner = prep::otsu_below(&part, t1).map(|(t, _)| t);
    std::iter::once(t1).chain(inner).any(|t| {
        let bin = prep::binarize(&part, t);
        let lines = parse::group_lines(engine.words(&bin, Psm::Sparse, ""));
        lines.iter().any(parse::is_covered_panel)
    })
}

/// Re-reads the card's header (its top quarter, where the operator's name is printed, often
/// light on a coloured bar) as one line, text made dark on light whichever way it was printed:
/// first from the darkest channel (white on any colour), then from the luma.
fn read_brand(engine: &mut Engine, minc: &GrayImage, a: &Attempt) -> Option<&'static str> {
    let coloured = prep::crop_rotated(minc, &a.rect, a.scale, a.turn);
    let found = [&coloured, &a.img].into_iter().find_map(|img| {
        let (w, h) = img.dimensions();
        let top = image::imageops::crop_imm(img, 0, 0, w, (h / 4).max(8)).to_image();
        let t = prep::otsu(&top);
        let mut bin = prep::binarize(&top, t);
        let dark = bin.pixels().filter(|p| p.0[0] == 0).count();
        if dark * 2 > bin.pixels().len() {
            // most of the band is dark: the text is the light part
            image::imageops::invert(&mut bin);
        }
        let first = engine
            .words(&bin, Psm::Sparse, "")
            .iter()
            .find_map(|w| parse::match_brand(&w.text));
        first.or_else(|| {
            // the ground around a light bar framed the text in black
            prep::clear_border(&mut bin);
            engine
                .words(&bin, Psm::Sparse, "")
                .iter()
                .find_map(|w| parse::match_brand(&w.text))
        })
    });
    found
}

fn finish(engine: &mut Engine, gray: &GrayImage, minc: &GrayImage, a: &Attempt) -> Card {
    let f = &a.fields;
    let mut reasons: Vec<&'static str> = Vec::new();
    let mut conf = 100.0f32;

    let mut notes: Vec<String> = Vec::new();
    let serial = match &f.serial {
        Some(at) => {
            let v = confirm_digits(engine, gray, a, at, false);
            if f.serial_by_place && (v.span.is_none() || v.digits.len() < 10) {
                // only the digit net's reading of a whole line is taken from a band found by
                // its place
                reasons.push("no serial found");
                None
            } else if v.cut || v.may_go_on {
                // the card's edge cuts the serial (or likely does): what shows is not the
                // serial, the reviewer gets the digits seen and types the rest off the card
                conf = conf.min(v.conf);
                let note = if v.cut {
                    super::SERIAL_CUT
                } else {
                    super::SERIAL_MAY_GO_ON
                };
                notes.push(format!("{note}{}", v.digits));
                None
            } else {
                conf = conf.min(v.conf);
                if let Some(d) = v.doubt {
                    reasons.push(match d {
                        "readings disagree" => "serial readings disagree",
                        "a digit was read with low confidence" => "a serial digit is uncertain",
                        "a digit looks like another digit of the line" => {
                            "a serial digit looks like another digit"
                        }
                        "digits reach the card's edge" => "serial reaches the card's edge",
                        "characters are unevenly spaced" => "serial digits are unevenly spaced",
                        _ => "serial uncertain",
                    });
                }
                if !parse::plausible_len(v.digits.len()) {
                    reasons.push("serial length unusual");
                }
                if f.serial_by_place {
                    reasons.push("serial found only by its place on the card");
                }
                Some(v.digits)
            }
        }
        None => {
            reasons.push("no serial found");
            None
        }
    };
    let code = match &f.code {
        Some(at) => {
            let v = confirm_digits(engine, gray, a, at, true);
            conf = conf.min(v.conf);
            if let Some(d) = v.doubt {
                reasons.push(match d {
                    "readings disagree" => "code readings disagree",
                    "a digit was read with low confidence" => "a code digit is uncertain",
                    "a digit looks like another digit of the line" => {
                        "a code digit looks like another digit"
                    }
                    "digits reach the card's edge" => "code reaches the card's edge",
                    "characters are unevenly spaced" => "code digits are unevenly spaced",
                    _ => "code uncertain",
                });
            }
            if !parse::plausible_len(v.digits.len()) {
                reasons.push("code length unusual");
            }
            Some(v.digits)
        }
        None => match f
            .code_label_line
            .and_then(|l| code_under_label(engine, gray, a, l))
        {
            Some(v) => {
                conf = conf.min(v.conf);
                reasons.push("code found only by a re-read under its label");
                Some(v.digits)
            }
            None => {
                if !f.covered && !panel_says_covered(engine, a) {
                    reasons.push("no code found and the panel does not look unscratched");
                }
                if f.code_label_without_code {
                    reasons.push("code label without a readable code");
                }
                None
            }
        },
    };
    match (&f.expiry, f.expiry_line) {
        (Some(e), Some(l)) => {
            if !confirm_expiry(engine, gray, a, l, e) {
                reasons.push("expiry readings disagree");
            }
        }
        _ => reasons.push("no expiry found"),
    }
    let brand = f.brand.or_else(|| read_brand(engine, minc, a));
    if brand.is_none() {
        reasons.push("no brand found");
    }
    if f.extra_runs > 0 {
        reasons.push("more digit lines than expected");
    }
    if serial.is_some() && serial == code {
        reasons.push("serial equals code");
    }
    if conf > 0.0 && conf < MIN_CONF {
        reasons.push("low OCR confidence");
    }
    let penalty = 1.0 - 0.15 * (reasons.len() + notes.len()) as f32;
    let confidence = ((conf / 100.0) * penalty).clamp(0.0, 1.0);
    Card {
        serial,
        code,
        expiry: f.expiry.clone(),
        brand: brand.map(str::to_string),
        confidence: (confidence * 1000.0).round() / 1000.0,
        needs_review: !reasons.is_empty() || !notes.is_empty(),
        reasons: notes
            .into_iter()
            .chain(reasons.into_iter().map(str::to_string))
            .collect(),
        card_box: CardBox::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(d: &str) -> DigitRead {
        DigitRead {
            digits: d.chars().collect(),
            confs: None,
        }
    }

    #[test]
    fn unanimous_readings_are_sure() {
        let v = vote_digits(&[read("123456789012"), read("123456789012")]);
        assert_eq!(v.digits, "123456789012");
        assert!(v.sure);
    }

    #[test]
    fn digits_are_voted_position_by_position_and_doubt_remains() {
        // no reading is right on its own; the vote is, and the field still needs review
        let v = vote_digits(&[
            read("1234567890129"),
            read("923456789012"),
            read("123456789812"),
            read("123456789012"),
            read("123455789012"),
        ]);
        assert_eq!(v.digits, "123456789012");
        assert!(!v.sure);
        assert_eq!(v.doubt, Some("readings disagree"));
    }

    #[test]
    fn a_serial_at_the_cards_edge_is_withheld_when_a_cut_is_likelier() {
        let (pitch, width) = (20.0, 600);
        // 12 digits in full groups of four: the next group's first digit would begin 1.45
        // pitches on, so with 1.2 pitches of card left it could be hidden
        assert!(may_go_on(&[4, 4, 4], 24.0, pitch, width));
        assert!(!may_go_on(&[4, 4, 4], 40.0, pitch, width));
        // a short last group: the next character is a digit, hidden only at under half a pitch
        assert!(may_go_on(&[4, 4, 4, 2], 8.0, pitch, width));
        assert!(!may_go_on(&[4, 4, 4, 2], 24.0, pitch, width));
        assert!(may_go_on(&[14], 8.0, pitch, width));
        // 15 digits are as likely whole as one short of 16; 16 is the longest serial
        assert!(!may_go_on(&[4, 4, 4, 3], 0.0, pitch, width));
        assert!(!may_go_on(&[4, 4, 4, 4], 0.0, pitch, width));
        assert!(!may_go_on(&[16], 0.0, pitch, width));
        assert!(!may_go_on(&[], 0.0, pitch, width));
    }

    #[test]
    fn ink_where_the_next_digit_would_begin_is_a_cut_character() {
        let pitch = 20.0;
        // ink 0.3 pitch after the last digit, the edge 0.6 pitch on: a cut digit
        assert!(cut_glyph_after(6.0, 12.0, pitch, 15));
        assert!(cut_glyph_after(6.0, 12.0, pitch, 12));
        // the ink is the card's edge itself (just before the measured edge)
        assert!(!cut_glyph_after(9.0, 12.0, pitch, 14));
        // ink a space on: not where a digit would begin
        assert!(!cut_glyph_after(14.0, 30.0, pitch, 14));
        // 16 digits are the longest serial: nothing can follow
        assert!(!cut_glyph_after(6.0, 12.0, pitch, 16));
    }

    fn line_read(digits: &str, probs: &[f32], others: &str) -> super::super::digits::LineRead {
        use super::super::digits::{CellRead, LineRead};
        LineRead {
            digits: digits.into(),
            min_prob: probs.iter().copied().fold(1.0, f32::min),
            regular: true,
            dropped: 0,
            cut: false,
            ink_after: false,
            start: 0.0,
            end: 100.0,
            pitch: 10.0,
            groups: vec![digits.len()],
            next_ink: None,
            cells: digits
                .chars()
                .zip(probs)
                .zip(others.chars())
                .map(|((d, &p), o)| CellRead {
                    digit: Some(d),
                    prob: p,
                    other: o,
                })
                .collect(),
        }
    }

    #[test]
    fn tesseract_picks_the_runner_up_of_an_unsure_digit_only() {
        let probs = [0.99, 0.6, 0.99, 0.7];
        // the second digit is unsure and Tesseract reads its runner-up there: taken
        let n = second_opinion(line_read("1254", &probs, "7388"), "1354");
        assert_eq!(n.digits, "1354");
        // Tesseract's digit is not the runner-up: the net's digit stays
        let n = second_opinion(line_read("1254", &probs, "7388"), "1954");
        assert_eq!(n.digits, "1254");
        // a sure digit is never changed, even to the runner-up
        let n = second_opinion(line_read("1254", &probs, "7388"), "7254");
        assert_eq!(n.digits, "1254");
        // a reading of another length says nothing digit for digit
        let n = second_opinion(line_read("1254", &probs, "7388"), "13548");
        assert_eq!(n.digits, "1254");
        // the fourth digit too
        let n = second_opinion(line_read("1254", &probs, "7388"), "1358");
        assert_eq!(n.digits, "1358");
    }

    #[test]
    fn a_weak_digit_is_not_sure() {
        let mut r = read("123456789012");
        r.confs = Some(vec![99.0; 12]);
        r.confs.as_mut().unwrap()[4] = 40.0;
        let v = vote_digits(&[read("123456789012"), r]);
        assert_eq!(v.digits, "123456789012");
        assert!(!v.sure);
    }
}
