//! Printed digit lines cut into character cells and each cell classified by a small neural net
//! (one hidden layer), trained on digit cells cut by this very code (see `tools/train_digits.py`).
//!
//! Why: Tesseract's general model misreads the digits of voucher cards the same way every time it
//! reads them (a monospace zero with a dot inside read as 9 or 6; a digit nicked by scratch-panel
//! residue read as its neighbour in shape), so re-reading and voting cannot catch it. A classifier
//! that has seen such cells does, and its probability says how sure each digit is.
//!
//! Pure image work (no Tesseract), so it is built and tested without the `ocr` feature too.

use std::sync::OnceLock;

use image::GrayImage;

/// Side of the normalised cell the net reads: width.
pub const CELL_W: usize = 16;
/// Height of the normalised cell.
pub const CELL_H: usize = 24;
/// Inputs of the net: one per cell pixel.
pub const CELL_LEN: usize = CELL_W * CELL_H;

/// One character cell of a digit line: its columns in the line image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub x0: u32,
    pub x1: u32,
}

impl Cell {
    fn center(&self) -> f32 {
        (self.x0 + self.x1) as f32 / 2.0
    }
    fn width(&self) -> u32 {
        self.x1 - self.x0
    }
}

/// A digit line cut into cells.
#[derive(Debug, Clone)]
pub struct Segmented {
    /// rows of the characters (top inclusive, bottom exclusive)
    pub top: u32,
    pub bottom: u32,
    /// character pitch (pixels from one character's centre to the next)
    pub pitch: f32,
    /// the cells, left to right
    pub cells: Vec<Cell>,
    /// gray level of the ink and of the paper around it
    pub ink: f32,
    pub paper: f32,
}

/// Cuts a gray line image (dark digits on a light ground, one line, upright) into character
/// cells. Works for fixed-pitch printing, which is how serials and codes are printed: a cell
/// whose ink is too wide for one character is split at the pitch, and pieces of a character
/// broken apart (scratch residue across a stroke) are joined. None when no line of characters
/// is found.
pub fn segment(gray: &GrayImage) -> Option<Segmented> {
    let (w, h) = gray.dimensions();
    if w < 8 || h < 8 {
        return None;
    }
    let t = ink_threshold(gray);
    let dark = |x: u32, y: u32| gray.get_pixel(x, y).0[0] <= t;
    // the text rows: the run of inked rows around the most inked one
    let rows: Vec<u32> = (0..h)
        .map(|y| (0..w).filter(|&x| dark(x, y)).count() as u32)
        .collect();
    let (peak_y, &peak) = rows.iter().enumerate().max_by_key(|(_, c)| **c)?;
    // ink in every row (the ground beyond the card's edge, a border) says nothing of where the
    // text is: the floor is set above it
    let base = rows.iter().copied().min().unwrap_or(0);
    if peak <= base {
        return None;
    }
    let floor = base + ((peak - base) / 12).max(1);
    let mut top = peak_y as u32;
    while top > 0 && rows[top as usize - 1] >= floor {
        top -= 1;
    }
    let mut bottom = peak_y as u32 + 1;
    while bottom < h && rows[bottom as usize] >= floor {
        bottom += 1;
    }
    let lh = bottom - top;
    if lh < 6 {
        return None;
    }
    // ink and paper levels: the means on either side of the threshold, inside the text rows
    let (mut si, mut ni, mut sp, mut np) = (0u64, 0u64, 0u64, 0u64);
    for y in top..bottom {
        for x in 0..w {
            let v = u64::from(gray.get_pixel(x, y).0[0]);
            if v <= u64::from(t) {
                si += v;
                ni += 1;
            } else {
                sp += v;
                np += 1;
            }
        }
    }
    let ink = si as f32 / ni.max(1) as f32;
    let paper = sp as f32 / np.max(1) as f32;
    // inked columns within the text rows, in runs
    let cols: Vec<u32> = (0..w)
        .map(|x| (top..bottom).filter(|&y| dark(x, y)).count() as u32)
        .collect();
    let mut runs: Vec<(Cell, u32)> = Vec::new(); // cell, ink pixels
    let mut x = 0;
    while x < w {
        if cols[x as usize] == 0 {
            x += 1;
            continue;
        }
        let x0 = x;
        let mut n = 0;
        while x < w && cols[x as usize] > 0 {
            n += cols[x as usize];
            x += 1;
        }
        runs.push((Cell { x0, x1: x }, n));
    }
    let lhf = lh as f32;
    // specks: narrow runs with little ink far from any character
    let min_ink = (lhf * lhf / 40.0) as u32;
    runs.retain(|(c, n)| *n >= min_ink || c.width() as f32 >= 0.25 * lhf);
    if runs.is_empty() {
        return None;
    }
    // the pitch: the typical distance between neighbouring characters of one group
    let mut gaps: Vec<f32> = runs
        .windows(2)
        .map(|p| p[1].0.center() - p[0].0.center())
        .filter(|d| *d >= 0.45 * lhf && *d <= 1.3 * lhf)
        .collect();
    gaps.sort_by(|a, b| a.total_cmp(b));
    let pitch = if gaps.len() >= 3 {
        gaps[gaps.len() / 3]
    } else {
        0.8 * lhf
    };
    // join the pieces of a broken character: neighbours nearer than half a pitch whose union
    // still fits one character
    let mut cells: Vec<Cell> = Vec::new();
    for (c, _) in runs {
        if let Some(last) = cells.last_mut() {
            let union = c.x1 - last.x0;
            if c.center() - last.center() < 0.55 * pitch && union as f32 <= 0.95 * pitch {
                last.x1 = c.x1;
                continue;
            }
        }
        cells.push(c);
    }
    // split ink too wide for one character (touching characters) at the pitch
    let mut out = Vec::new();
    for c in cells {
        let n = (c.width() as f32 / pitch).round() as u32;
        if n >= 2 && c.width() as f32 > 1.25 * pitch {
            let step = c.width() as f32 / n as f32;
            for k in 0..n {
                let a = c.x0 + (k as f32 * step).round() as u32;
                let b = c.x0 + ((k + 1) as f32 * step).round() as u32;
                out.push(Cell {
                    x0: a,
                    x1: b.max(a + 1),
                });
            }
        } else {
            out.push(c);
        }
    }
    Some(Segmented {
        top,
        bottom,
        pitch,
        cells: out,
        ink,
        paper,
    })
}

/// The gray level at or below which a pixel is ink: Otsu's threshold, or, when that makes more
/// than two fifths of the band dark (the band caught a darker ground under a light panel), Otsu's
/// threshold among the darker pixels only, which parts the print from that ground.
fn ink_threshold(gray: &GrayImage) -> u8 {
    let t = super::prep::otsu(gray);
    match super::prep::otsu_below(gray, t) {
        Some((inner, dark)) if dark * 5 > gray.pixels().len() as u64 * 2 => inner,
        _ => t,
    }
}

/// The cell's pixels as the net reads them: a window one pitch wide centred on the cell, over
/// the text rows with a small margin, resampled to `CELL_W` x `CELL_H`, ink 1.0 and paper 0.0.
pub fn cell_pixels(gray: &GrayImage, seg: &Segmented, cell: &Cell) -> [f32; CELL_LEN] {
    let (w, h) = gray.dimensions();
    let lh = (seg.bottom - seg.top) as f32;
    let y0 = seg.top as f32 - 0.08 * lh;
    let y1 = seg.bottom as f32 + 0.08 * lh;
    let half = 0.5 * seg.pitch.max(cell.width() as f32);
    let x0 = cell.center() - half;
    let x1 = cell.center() + half;
    let span = (seg.paper - seg.ink).max(1.0);
    let mut out = [0.0f32; CELL_LEN];
    for (k, v) in out.iter_mut().enumerate() {
        let (gx, gy) = ((k % CELL_W) as f32, (k / CELL_W) as f32);
        let px = x0 + (gx + 0.5) * (x1 - x0) / CELL_W as f32;
        let py = y0 + (gy + 0.5) * (y1 - y0) / CELL_H as f32;
        let g = sample(gray, w, h, px, py);
        *v = ((seg.paper - g) / span).clamp(0.0, 1.0);
    }
    out
}

fn sample(g: &GrayImage, w: u32, h: u32, x: f32, y: f32) -> f32 {
    if x < 0.0 || y < 0.0 || x > (w - 1) as f32 || y > (h - 1) as f32 {
        return 255.0;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |xx, yy| g.get_pixel(xx, yy).0[0] as f32;
    let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
    let bot = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
    top * (1.0 - fy) + bot * fy
}

/// Classes of the net: the digits 0..9, then "not a digit" (a label's colon, a stray mark).
pub const CLASSES: usize = 11;

/// The digit classifier: input -> hidden (ReLU) -> [`CLASSES`] (softmax).
pub struct Net {
    hidden: usize,
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
}

/// The trained weights shipped with konter (made by `tools/train_digits.py`).
const WEIGHTS: &[u8] = include_bytes!("digits.bin");

impl Net {
    /// The shipped net.
    pub fn shipped() -> &'static Net {
        static NET: OnceLock<Net> = OnceLock::new();
        NET.get_or_init(|| Net::from_bytes(WEIGHTS).expect("the shipped digit weights are valid"))
    }

    /// Reads weights: "KDG1", then inputs, hidden and outputs as u32 LE, then w1 (hidden rows of
    /// inputs), b1, w2 (one row of hidden per class), b2 as f32 LE.
    pub fn from_bytes(b: &[u8]) -> Result<Net, String> {
        if b.len() < 16 || &b[..4] != b"KDG1" {
            return Err("not a digit weights file (no KDG1 header)".into());
        }
        let u = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let (inputs, hidden, outputs) = (u(4), u(8), u(12));
        if inputs != CELL_LEN || outputs != CLASSES || hidden == 0 || hidden > 4096 {
            return Err(format!(
                "digit weights are for {inputs} inputs and {outputs} outputs, not {CELL_LEN} and \
                 {CLASSES}"
            ));
        }
        let n = hidden * inputs + hidden + CLASSES * hidden + CLASSES;
        if b.len() != 16 + 4 * n {
            return Err(format!(
                "digit weights file is {} bytes, expected {}",
                b.len(),
                16 + 4 * n
            ));
        }
        let f: Vec<f32> = b[16..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let (w1, rest) = f.split_at(hidden * inputs);
        let (b1, rest) = rest.split_at(hidden);
        let (w2, b2) = rest.split_at(CLASSES * hidden);
        Ok(Net {
            hidden,
            w1: w1.to_vec(),
            b1: b1.to_vec(),
            w2: w2.to_vec(),
            b2: b2.to_vec(),
        })
    }

    /// The probability of each class (digits 0..9, then "not a digit") for one cell.
    pub fn probs(&self, x: &[f32; CELL_LEN]) -> [f32; CLASSES] {
        let mut hid = vec![0.0f32; self.hidden];
        for (j, hv) in hid.iter_mut().enumerate() {
            let row = &self.w1[j * CELL_LEN..(j + 1) * CELL_LEN];
            let s: f32 = row.iter().zip(x.iter()).map(|(a, b)| a * b).sum::<f32>() + self.b1[j];
            *hv = s.max(0.0);
        }
        let mut out = [0.0f32; CLASSES];
        for (k, o) in out.iter_mut().enumerate() {
            let row = &self.w2[k * self.hidden..(k + 1) * self.hidden];
            *o = row.iter().zip(&hid).map(|(a, b)| a * b).sum::<f32>() + self.b2[k];
        }
        let m = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for o in out.iter_mut() {
            *o = (*o - m).exp();
            sum += *o;
        }
        for o in out.iter_mut() {
            *o /= sum;
        }
        out
    }
}

/// One classified cell: the likeliest class and its probability, and the likeliest digit
/// besides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellRead {
    /// the digit, or None for "not a digit"
    pub digit: Option<char>,
    pub prob: f32,
    /// the likeliest digit other than `digit` (the runner-up when `digit` is a digit)
    pub other: char,
}

/// Cuts the line and classifies every cell.
pub fn read_line(net: &Net, gray: &GrayImage) -> Option<(Segmented, Vec<CellRead>)> {
    let seg = segment(gray)?;
    let reads = seg
        .cells
        .iter()
        .map(|c| {
            let p = net.probs(&cell_pixels(gray, &seg, c));
            let mut order: Vec<usize> = (0..CLASSES).collect();
            order.sort_by(|a, b| p[*b].total_cmp(&p[*a]));
            let d = order[0];
            let o = order
                .iter()
                .copied()
                .find(|&k| k < 10 && k != d)
                .unwrap_or(0);
            CellRead {
                digit: (d < 10).then(|| char::from(b'0' + d as u8)),
                prob: p[d],
                other: char::from(b'0' + o as u8),
            }
        })
        .collect();
    Some((seg, reads))
}

/// A digit line as the net reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct LineRead {
    pub digits: String,
    /// the weakest digit's probability
    pub min_prob: f32,
    /// every digit sits on the pitch grid (one pitch from the last, or two across a group's
    /// space): no character was split or two joined
    pub regular: bool,
    /// cells left out around the digits (a label's letters and colon)
    pub dropped: usize,
    /// the line's last character is cut by the line image's right end (the card's edge): the
    /// digits are only the part of the line on the card
    pub cut: bool,
    /// ink follows the digits within a group's space (a character cut by the card's edge)
    pub ink_after: bool,
    /// where the digits' ink begins and ends, and the pitch, in pixels of the line image
    pub start: f32,
    pub end: f32,
    pub pitch: f32,
    /// the digits of each group, left to right (a group ends at a space of a character or
    /// more); one group when the line has no spaces
    pub groups: Vec<usize>,
    /// each digit's reading, in the order of `digits`
    pub cells: Vec<CellRead>,
    /// pixels from the digits' end to the next ink on the line, if any follows
    pub next_ink: Option<f32>,
}

/// The longest run of digit cells (the rightmost of equals), broken at a cell that is no digit
/// or at a gap wider than a group's space: `[start, end)`.
fn digit_run(is_digit: &[bool], centers: &[f32], pitch: f32) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    let mut start = 0;
    for i in 0..=is_digit.len() {
        let ends = i == is_digit.len()
            || !is_digit[i]
            || (i > start && centers[i] - centers[i - 1] > 2.6 * pitch);
        if ends {
            if i > start && best.is_none_or(|(a, b)| i - start >= b - a) {
                best = Some((start, i));
            }
            start = if i < is_digit.len() && !is_digit[i] {
                i + 1
            } else {
                i
            };
        }
    }
    best
}

/// Reads the digits of a line: the longest run of cells the net takes for digits (a label's
/// colon or letters before it are left out), with the weakest digit's probability and whether
/// the cells keep the pitch.
pub fn read_digits(net: &Net, gray: &GrayImage) -> Option<LineRead> {
    let (seg, reads) = read_line(net, gray)?;
    let is_digit: Vec<bool> = reads.iter().map(|r| r.digit.is_some()).collect();
    let centers: Vec<f32> = seg.cells.iter().map(Cell::center).collect();
    let (a, mut b) = digit_run(&is_digit, &centers, seg.pitch)?;
    // a character the card's edge cuts through: its ink runs into the line image's right end
    // and it is narrower than the line's other characters; it is no digit read, and says the
    // line goes on past the edge
    let mut widths: Vec<u32> = seg.cells[a..b].iter().map(Cell::width).collect();
    widths.sort_unstable();
    let median = widths[widths.len() / 2] as f32;
    let last = seg.cells[b - 1];
    let cut = b - a > 1 && last.x1 + 2 >= gray.width() && (last.width() as f32) < 0.8 * median;
    if cut {
        b -= 1;
    }
    let digits: String = reads[a..b].iter().filter_map(|r| r.digit).collect();
    let min_prob = reads[a..b].iter().map(|r| r.prob).fold(1.0f32, f32::min);
    let regular = seg.cells[a..b].windows(2).all(|p| {
        let d = (p[1].center() - p[0].center()) / seg.pitch;
        let k = d.round();
        (k == 1.0 || k == 2.0) && (d - k).abs() < 0.25
    });
    let mut groups = vec![0usize];
    for (i, c) in seg.cells[a..b].iter().enumerate() {
        if i > 0 && c.center() - seg.cells[a + i - 1].center() > 1.5 * seg.pitch {
            groups.push(0);
        }
        *groups.last_mut().expect("one group at least") += 1;
    }
    Some(LineRead {
        digits,
        min_prob,
        regular,
        dropped: reads.len() - (b - a),
        cut,
        ink_after: cut
            || seg
                .cells
                .get(b)
                .is_some_and(|c| (c.x0 as f32 - seg.cells[b - 1].x1 as f32) < 1.6 * seg.pitch),
        start: seg.cells[a].x0 as f32,
        end: seg.cells[b - 1].x1 as f32,
        pitch: seg.pitch,
        groups,
        cells: reads[a..b].to_vec(),
        next_ink: seg
            .cells
            .get(b)
            .map(|c| c.x0 as f32 - seg.cells[b - 1].x1 as f32),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    /// A light line image with dark boxes ("characters") at the given column ranges, rows
    /// 10..38 of 48.
    fn line_of(boxes: &[(u32, u32)], width: u32) -> GrayImage {
        let mut g = GrayImage::from_pixel(width, 48, Luma([220]));
        for &(x0, x1) in boxes {
            for y in 10..38 {
                for x in x0..x1 {
                    // a ring, like a zero: ink at the box's edge only
                    let edge = x < x0 + 3 || x + 3 >= x1 || !(13..35).contains(&y);
                    if edge {
                        g.put_pixel(x, y, Luma([20]));
                    }
                }
            }
        }
        g
    }

    /// Characters at a pitch of 20 in groups of four with a one-character space.
    fn grouped(n: usize) -> Vec<(u32, u32)> {
        (0..n)
            .map(|i| {
                let slot = (i + i / 4) as u32;
                (10 + 20 * slot, 24 + 20 * slot)
            })
            .collect()
    }

    #[test]
    fn a_fixed_pitch_line_is_cut_into_its_characters() {
        let g = line_of(&grouped(14), 400);
        let s = segment(&g).unwrap();
        assert_eq!(s.cells.len(), 14);
        assert!((s.pitch - 20.0).abs() < 1.0, "pitch {}", s.pitch);
        assert_eq!((s.top, s.bottom), (10, 38));
        assert_eq!(s.cells[0], Cell { x0: 10, x1: 24 });
        assert!(s.ink < 40.0 && s.paper > 200.0);
    }

    #[test]
    fn a_broken_character_is_joined_and_touching_ones_are_split() {
        let mut boxes = grouped(12);
        // the third character broken in two by a light gap down its middle
        let (a, b) = boxes[2];
        boxes[2] = (a, a + 6);
        boxes.insert(3, (a + 8, b));
        let mut g = line_of(&boxes, 400);
        // the ninth and tenth characters run into each other
        let (l, r) = (grouped(12)[8].1, grouped(12)[9].0);
        for y in 20..24 {
            for x in l..r {
                g.put_pixel(x, y, Luma([20]));
            }
        }
        let s = segment(&g).unwrap();
        assert_eq!(s.cells.len(), 12, "{:?}", s.cells);
    }

    #[test]
    fn a_blank_or_tiny_image_has_no_line() {
        assert!(segment(&GrayImage::from_pixel(200, 40, Luma([200]))).is_none());
        assert!(segment(&GrayImage::new(4, 4)).is_none());
    }

    #[test]
    fn a_cell_is_sampled_ink_one_paper_zero() {
        let g = line_of(&grouped(4), 120);
        let s = segment(&g).unwrap();
        let px = cell_pixels(&g, &s, &s.cells[0]);
        assert!(px.iter().all(|v| (0.0..=1.0).contains(v)));
        // the ring's left edge is ink, its middle paper
        let at = |x: usize, y: usize| px[y * CELL_W + x];
        assert!(at(CELL_W / 2, CELL_H / 2) < 0.2);
        assert!(at(3, CELL_H / 2) > 0.5);
    }

    #[test]
    fn the_shipped_net_loads_and_gives_probabilities() {
        let net = Net::shipped();
        let g = line_of(&grouped(4), 120);
        let s = segment(&g).unwrap();
        let p = net.probs(&cell_pixels(&g, &s, &s.cells[0]));
        let sum: f32 = p.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
        assert!(p.iter().all(|v| *v >= 0.0));
    }

    #[test]
    fn bad_weights_are_refused_with_a_reason() {
        let err = |b: &[u8]| Net::from_bytes(b).err().unwrap_or_default();
        assert!(err(b"nope").contains("KDG1"));
        let mut b = b"KDG1".to_vec();
        for v in [CELL_LEN as u32, 4, 10] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        assert!(err(&b).contains("outputs"));
        let mut b = b"KDG1".to_vec();
        for v in [CELL_LEN as u32, 4, CLASSES as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&[0; 8]);
        assert!(err(&b).contains("bytes"));
    }

    #[test]
    fn the_digits_are_the_longest_run_between_labels_and_gaps() {
        // "S N : 1234 5678 9012": two letters, a colon, then three groups
        let mut is_digit = vec![true, true, false];
        let mut centers = vec![0.0, 20.0, 40.0];
        for i in 0..12 {
            is_digit.push(true);
            centers.push(80.0 + 20.0 * (i + i / 4) as f32);
        }
        assert_eq!(digit_run(&is_digit, &centers, 20.0), Some((3, 15)));
        // a mark far beyond the last group (more than a group's space away) is not a digit of it
        is_digit.push(true);
        centers.push(centers[14] + 80.0);
        assert_eq!(digit_run(&is_digit, &centers, 20.0), Some((3, 15)));
        // one group's space is not a break
        assert_eq!(
            digit_run(&[true, true, true], &[0.0, 20.0, 60.0], 20.0),
            Some((0, 3))
        );
        assert_eq!(digit_run(&[false, false], &[0.0, 20.0], 20.0), None);
    }
}
