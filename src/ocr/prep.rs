//! Image preparation with the `image` crate, no Tesseract: load with limits, downscale, find the
//! cards on the table, deskew and crop each one, scale by the measured character height, and
//! binarize lines. Everything here is pure and works without the `ocr` feature.

use std::collections::VecDeque;
use std::io::Cursor;
use std::path::Path;

use image::{GrayImage, ImageReader, Luma, RgbImage};
use serde::Serialize;

/// Photos larger than this on their long side are downscaled right after decoding.
pub const MAX_SIDE: u32 = 2400;
/// Refuse to decode more pixels than this (a 12000x9000 photo is 108 MP and is accepted).
pub const MAX_PIXELS: u64 = 200_000_000;
/// Refuse files larger than this many bytes before reading them whole.
pub const MAX_FILE_BYTES: u64 = 200 * 1024 * 1024;

/// Why a photo could not be read at all. The message says what to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum PhotoError {
    Missing(String),
    NotImage(String),
    Corrupt(String),
    TooLarge(String),
}

impl std::fmt::Display for PhotoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PhotoError::Missing(e) => write!(f, "cannot read the file ({e}); check the path"),
            PhotoError::NotImage(e) => {
                write!(
                    f,
                    "not an image ({e}); give a JPEG or PNG photo of the vouchers"
                )
            }
            PhotoError::Corrupt(e) => write!(
                f,
                "the image is damaged or cut short ({e}); copy the photo from the phone again"
            ),
            PhotoError::TooLarge(e) => write!(f, "the image is too large ({e}); resize it first"),
        }
    }
}

impl std::error::Error for PhotoError {}

/// A decoded photo, downscaled to at most [`MAX_SIDE`], with the factor that maps its pixels
/// back to the original file's pixels.
pub struct Photo {
    pub rgb: RgbImage,
    /// original pixels per working pixel (1.0 when not downscaled)
    pub scale_to_original: f32,
    pub original_size: (u32, u32),
}

/// A JPEG is whole when walking its marker segments from the start reaches the end-of-image
/// marker (FF D9). Segments are skipped by their length (so an EXIF thumbnail inside APP1 does not
/// count); after each start-of-scan the entropy-coded data is skipped up to the next real marker
/// (FF 00 is a stuffed byte, FF D0..D7 restart markers, FF FF fill). Bytes after the end marker
/// (phone trailers) are allowed.
pub fn jpeg_is_complete(b: &[u8]) -> bool {
    if b.len() < 4 || b[0] != 0xFF || b[1] != 0xD8 {
        return false;
    }
    let mut i = 2usize;
    loop {
        // find the next marker
        while i < b.len() && b[i] != 0xFF {
            i += 1;
        }
        while i < b.len() && b[i] == 0xFF {
            i += 1;
        }
        let Some(&m) = b.get(i) else {
            return false;
        };
        i += 1;
        match m {
            0xD9 => return true,
            0x01 | 0xD0..=0xD7 => continue,
            _ => {
                let (Some(&hi), Some(&lo)) = (b.get(i), b.get(i + 1)) else {
                    return false;
                };
                let len = usize::from(hi) << 8 | usize::from(lo);
                if len < 2 {
                    return false;
                }
                i += len;
                if i > b.len() {
                    return false;
                }
                if m == 0xDA {
                    // entropy-coded data: up to a marker other than stuffing or restart
                    loop {
                        while i < b.len() && b[i] != 0xFF {
                            i += 1;
                        }
                        match b.get(i + 1) {
                            None => return false,
                            Some(0x00) | Some(0xD0..=0xD7) => i += 2,
                            Some(0xFF) => i += 1,
                            Some(_) => break,
                        }
                    }
                }
            }
        }
    }
}

/// Reads and decodes a photo file. A file that is not an image, a damaged one, and an overly
/// large one each get their own error.
pub fn load_photo(path: &Path) -> Result<(Photo, Vec<u8>), PhotoError> {
    let meta = std::fs::metadata(path).map_err(|e| PhotoError::Missing(e.to_string()))?;
    if meta.is_dir() {
        return Err(PhotoError::NotImage("it is a folder".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(PhotoError::TooLarge(format!("{} bytes", meta.len())));
    }
    let bytes = std::fs::read(path).map_err(|e| PhotoError::Missing(e.to_string()))?;
    let photo = decode_photo(&bytes)?;
    Ok((photo, bytes))
}

/// Decodes image bytes; see [`load_photo`].
pub fn decode_photo(bytes: &[u8]) -> Result<Photo, PhotoError> {
    let format = image::guess_format(bytes)
        .map_err(|_| PhotoError::NotImage("unknown file signature".into()))?;
    let reader = ImageReader::with_format(Cursor::new(bytes), format);
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| PhotoError::Corrupt(e.to_string()))?;
    if w == 0 || h == 0 {
        return Err(PhotoError::Corrupt("zero size".into()));
    }
    if (w as u64) * (h as u64) > MAX_PIXELS {
        return Err(PhotoError::TooLarge(format!("{w}x{h} pixels")));
    }
    if format == image::ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        // the JPEG decoder fills a cut-off scan with gray instead of failing
        return Err(PhotoError::Corrupt(
            "the JPEG ends before its end-of-image marker".into(),
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| PhotoError::Corrupt(e.to_string()))?;
    let long = w.max(h);
    let (rgb, scale) = if long > MAX_SIDE {
        let f = MAX_SIDE as f32 / long as f32;
        let nw = ((w as f32 * f).round() as u32).max(1);
        let nh = ((h as f32 * f).round() as u32).max(1);
        let small = img.thumbnail_exact(nw, nh).to_rgb8();
        drop(img);
        (small, long as f32 / MAX_SIDE as f32)
    } else {
        (img.to_rgb8(), 1.0)
    };
    Ok(Photo {
        rgb,
        scale_to_original: scale,
        original_size: (w, h),
    })
}

/// Luma of an RGB image.
pub fn to_gray(rgb: &RgbImage) -> GrayImage {
    image::DynamicImage::ImageRgb8(rgb.clone()).to_luma8()
}

/// The darkest channel of each pixel: white print stays white while any coloured ground
/// (yellow, red, blue...) turns dark, so light text on a coloured bar stands out even where
/// its luma barely differs from the bar's (white on yellow).
pub fn min_channel(rgb: &RgbImage) -> GrayImage {
    let (w, h) = rgb.dimensions();
    GrayImage::from_fn(w, h, |x, y| {
        let p = rgb.get_pixel(x, y).0;
        Luma([p[0].min(p[1]).min(p[2])])
    })
}

/// A card's place in the photo: centre, size along its own axes and rotation (degrees,
/// counter-clockwise positive in image coordinates where y points down).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RotRect {
    pub cx: f32,
    pub cy: f32,
    pub w: f32,
    pub h: f32,
    pub angle: f32,
}

impl RotRect {
    /// Axis-aligned bounding box (x, y, w, h), clipped to the image.
    pub fn bounds(&self, img_w: u32, img_h: u32) -> (u32, u32, u32, u32) {
        let (s, c) = self.angle.to_radians().sin_cos();
        let hw = self.w / 2.0;
        let hh = self.h / 2.0;
        let ex = (hw * c).abs() + (hh * s).abs();
        let ey = (hw * s).abs() + (hh * c).abs();
        let x0 = (self.cx - ex).max(0.0) as u32;
        let y0 = (self.cy - ey).max(0.0) as u32;
        let x1 = ((self.cx + ex).ceil() as u32).min(img_w);
        let y1 = ((self.cy + ey).ceil() as u32).min(img_h);
        (x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0))
    }

    pub fn scaled(&self, f: f32) -> RotRect {
        RotRect {
            cx: self.cx * f,
            cy: self.cy * f,
            w: self.w * f,
            h: self.h * f,
            angle: self.angle,
        }
    }

    /// Maps a point of the upright crop (0..w, 0..h) to the photo.
    pub fn to_photo(&self, x: f32, y: f32) -> (f32, f32) {
        let (s, c) = self.angle.to_radians().sin_cos();
        let dx = x - self.w / 2.0;
        let dy = y - self.h / 2.0;
        (self.cx + dx * c - dy * s, self.cy + dx * s + dy * c)
    }
}

/// A candidate card region found on the table.
#[derive(Debug, Clone)]
pub struct Region {
    pub rect: RotRect,
    /// pixel count / rectangle area: near 1 for a single card, lower for touching cards
    pub fill: f32,
}

/// Finds card-like regions: everything that is not background connected to the photo's border.
/// The table is found by growing from the border through small colour steps, so a smooth
/// gradient of light stays background while a card's edge stops the growth. Regions are
/// returned in reading order (top to bottom, then left to right).
pub fn find_regions(rgb: &RgbImage) -> Vec<Region> {
    let (w, h) = rgb.dimensions();
    let long = w.max(h);
    let f = if long > 800 { 800.0 / long as f32 } else { 1.0 };
    let sw = ((w as f32 * f).round() as u32).max(1);
    let sh = ((h as f32 * f).round() as u32).max(1);
    let small = if f < 1.0 {
        image::imageops::thumbnail(rgb, sw, sh)
    } else {
        rgb.clone()
    };
    let (sw, sh) = small.dimensions();
    let n = (sw * sh) as usize;
    let px = |i: usize| {
        let p = small.get_pixel(i as u32 % sw, i as u32 / sw).0;
        [p[0] as i32, p[1] as i32, p[2] as i32]
    };
    let step = |a: [i32; 3], b: [i32; 3]| {
        (a[0] - b[0])
            .abs()
            .max((a[1] - b[1]).abs())
            .max((a[2] - b[2]).abs())
    };
    // noise level: median step along the border rows and columns
    let mut steps = Vec::new();
    for x in 1..sw {
        steps.push(step(px(x as usize), px(x as usize - 1)));
        let b = ((sh - 1) * sw + x) as usize;
        steps.push(step(px(b), px(b - 1)));
    }
    steps.sort_unstable();
    let noise = steps.get(steps.len() / 2).copied().unwrap_or(2);
    let thr = (noise * 3).clamp(6, 16);

    let mut bg = vec![false; n];
    let mut q = VecDeque::new();
    for x in 0..sw {
        for y in [0, sh - 1] {
            let i = (y * sw + x) as usize;
            if !bg[i] {
                bg[i] = true;
                q.push_back(i);
            }
        }
    }
    for y in 0..sh {
        for x in [0, sw - 1] {
            let i = (y * sw + x) as usize;
            if !bg[i] {
                bg[i] = true;
                q.push_back(i);
            }
        }
    }
    while let Some(i) = q.pop_front() {
        let (x, y) = ((i as u32 % sw) as i64, (i as u32 / sw) as i64);
        let c = px(i);
        for (dx, dy) in [(1i64, 0i64), (-1, 0), (0, 1), (0, -1)] {
            let (nx, ny) = (x + dx, y + dy);
            if nx < 0 || ny < 0 || nx >= sw as i64 || ny >= sh as i64 {
                continue;
            }
            let j = (ny as u32 * sw + nx as u32) as usize;
            // a soft card edge (blur, a card close in colour to the table) changes in small
            // steps: the colour three pixels back must be near too, which the table's own slow
            // gradient always is
            let (bx, by) = (x - 2 * dx, y - 2 * dy);
            let far_ok = bx < 0
                || by < 0
                || bx >= sw as i64
                || by >= sh as i64
                || step(px((by as u32 * sw + bx as u32) as usize), px(j)) <= thr + thr / 2;
            if !bg[j] && step(c, px(j)) <= thr && far_ok {
                bg[j] = true;
                q.push_back(j);
            }
        }
    }
    // open the foreground a little so thin bridges between touching cards break
    let fg = erode(&bg.iter().map(|b| !b).collect::<Vec<_>>(), sw, sh, 2);
    let mut label = vec![0u32; n];
    let mut regions = Vec::new();
    let min_area = (n as f32 * 0.01) as usize;
    let mut next = 0u32;
    for start in 0..n {
        if !fg[start] || label[start] != 0 {
            continue;
        }
        next += 1;
        let mut pts: Vec<(u32, u32)> = Vec::new();
        label[start] = next;
        q.clear();
        q.push_back(start);
        while let Some(i) = q.pop_front() {
            let (x, y) = (i as u32 % sw, i as u32 / sw);
            pts.push((x, y));
            for (dx, dy) in [(1i64, 0i64), (-1, 0), (0, 1), (0, -1)] {
                let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                if nx < 0 || ny < 0 || nx >= sw as i64 || ny >= sh as i64 {
                    continue;
                }
                let j = (ny as u32 * sw + nx as u32) as usize;
                if fg[j] && label[j] == 0 {
                    label[j] = next;
                    q.push_back(j);
                }
            }
        }
        if pts.len() < min_area {
            continue;
        }
        if let Some(mut r) = oriented_rect(&pts) {
            // undo the erosion
            r.rect.w += 4.0;
            r.rect.h += 4.0;
            r.rect = r.rect.scaled(1.0 / f);
            regions.push(r);
        }
    }
    regions.sort_by(|a, b| {
        let row = |r: &Region| (r.rect.cy / (h as f32 / 6.0)).round() as i64;
        row(a).cmp(&row(b)).then(
            a.rect
                .cx
                .partial_cmp(&b.rect.cx)
                .unwrap_or(std::cmp::Ordering::Equal),
        )
    });
    regions
}

fn erode(m: &[bool], w: u32, h: u32, r: i64) -> Vec<bool> {
    let (w, h) = (w as i64, h as i64);
    // separable: horizontal then vertical
    let mut tmp = vec![false; m.len()];
    for y in 0..h {
        for x in 0..w {
            let mut ok = true;
            for dx in -r..=r {
                let nx = x + dx;
                if nx < 0 || nx >= w || !m[(y * w + nx) as usize] {
                    ok = false;
                    break;
                }
            }
            tmp[(y * w + x) as usize] = ok;
        }
    }
    let mut out = vec![false; m.len()];
    for y in 0..h {
        for x in 0..w {
            let mut ok = true;
            for dy in -r..=r {
                let ny = y + dy;
                if ny < 0 || ny >= h || !tmp[(ny * w + x) as usize] {
                    ok = false;
                    break;
                }
            }
            out[(y * w + x) as usize] = ok;
        }
    }
    out
}

/// Oriented bounding rectangle from the principal axes of a pixel set. The long side becomes
/// the rectangle's width, so the angle is within (-45°, 45°] for a landscape card and near ±90°
/// for a card lying portrait.
pub fn oriented_rect(pts: &[(u32, u32)]) -> Option<Region> {
    if pts.len() < 10 {
        return None;
    }
    let n = pts.len() as f64;
    let (mut mx, mut my) = (0.0, 0.0);
    for &(x, y) in pts {
        mx += x as f64;
        my += y as f64;
    }
    mx /= n;
    my /= n;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for &(x, y) in pts {
        let dx = x as f64 - mx;
        let dy = y as f64 - my;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let (s, c) = theta.sin_cos();
    let (mut umin, mut umax, mut vmin, mut vmax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        let dx = x as f64 + 0.5 - mx;
        let dy = y as f64 + 0.5 - my;
        let u = dx * c + dy * s;
        let v = -dx * s + dy * c;
        umin = umin.min(u);
        umax = umax.max(u);
        vmin = vmin.min(v);
        vmax = vmax.max(v);
    }
    let (rw, rh) = (umax - umin + 1.0, vmax - vmin + 1.0);
    let ucen = (umin + umax) / 2.0;
    let vcen = (vmin + vmax) / 2.0;
    let cx = mx + ucen * c - vcen * s;
    let cy = my + ucen * s + vcen * c;
    Some(Region {
        rect: RotRect {
            cx: cx as f32,
            cy: cy as f32,
            w: rw as f32,
            h: rh as f32,
            angle: theta.to_degrees() as f32,
        },
        fill: (n / (rw * rh)) as f32,
    })
}

/// Samples the rectangle out of a gray image, upright, at `scale` output pixels per photo pixel,
/// rotated a further `extra_turn` quarter turns (2 = upside down).
pub fn crop_rotated(gray: &GrayImage, r: &RotRect, scale: f32, extra_turn: u8) -> GrayImage {
    let ow = (r.w * scale).round().max(1.0) as u32;
    let oh = (r.h * scale).round().max(1.0) as u32;
    let mut out = GrayImage::new(ow, oh);
    let (gw, gh) = gray.dimensions();
    for oy in 0..oh {
        for ox in 0..ow {
            let (ux, uy) = match extra_turn % 4 {
                2 => (ow - 1 - ox, oh - 1 - oy),
                _ => (ox, oy),
            };
            let (px, py) = r.to_photo((ux as f32 + 0.5) / scale, (uy as f32 + 0.5) / scale);
            out.put_pixel(ox, oy, Luma([bilinear(gray, gw, gh, px - 0.5, py - 0.5)]));
        }
    }
    out
}

fn bilinear(g: &GrayImage, w: u32, h: u32, x: f32, y: f32) -> u8 {
    let x = x.clamp(0.0, (w - 1) as f32);
    let y = y.clamp(0.0, (h - 1) as f32);
    let x0 = x.floor() as u32;
    let y0 = y.floor() as u32;
    let x1 = (x0 + 1).min(w - 1);
    let y1 = (y0 + 1).min(h - 1);
    let fx = x - x0 as f32;
    let fy = y - y0 as f32;
    let p = |xx, yy| g.get_pixel(xx, yy).0[0] as f32;
    let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
    let bot = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
    (top * (1.0 - fy) + bot * fy).round().clamp(0.0, 255.0) as u8
}

/// Otsu's threshold of a gray image.
pub fn otsu(g: &GrayImage) -> u8 {
    otsu_hist(&histogram(g))
}

/// Otsu's threshold among the pixels at or below `t` only (the darker class of a first split),
/// which parts print from a darker ground the first split lumped in with it; None when no pixel
/// is that dark. Also gives how many pixels that is.
pub fn otsu_below(g: &GrayImage, t: u8) -> Option<(u8, u64)> {
    let mut hist = histogram(g);
    hist[t as usize + 1..].iter_mut().for_each(|c| *c = 0);
    let n: u64 = hist.iter().sum();
    (n > 0).then(|| (otsu_hist(&hist), n))
}

fn histogram(g: &GrayImage) -> [u64; 256] {
    let mut hist = [0u64; 256];
    for p in g.pixels() {
        hist[p.0[0] as usize] += 1;
    }
    hist
}

fn otsu_hist(hist: &[u64; 256]) -> u8 {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 128;
    }
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut sb, mut wb, mut best, mut best_t) = (0.0, 0u64, -1.0, 128u8);
    for (t, &c) in hist.iter().enumerate() {
        wb += c;
        if wb == 0 {
            continue;
        }
        let wf = total - wb;
        if wf == 0 {
            break;
        }
        sb += t as f64 * c as f64;
        let mb = sb / wb as f64;
        let mf = (sum - sb) / wf as f64;
        let between = wb as f64 * wf as f64 * (mb - mf) * (mb - mf);
        if between > best {
            best = between;
            best_t = t as u8;
        }
    }
    best_t
}

/// Black text on white: pixels at or below the threshold become 0, the rest 255.
pub fn binarize(g: &GrayImage, t: u8) -> GrayImage {
    let mut out = g.clone();
    for p in out.pixels_mut() {
        p.0[0] = if p.0[0] <= t { 0 } else { 255 };
    }
    out
}

/// Cleans a binarized text line (black text on white) for digit reading: removes dark specks
/// that sit alone inside a glyph's hole (the dot of a dotted zero, scratch residue in an "8"),
/// and specks much smaller than the characters (residue of the scratch panel, noise).
pub fn clean_specks(bin: &mut GrayImage) {
    let (w, h) = bin.dimensions();
    let n = (w * h) as usize;
    let dark: Vec<bool> = bin.pixels().map(|p| p.0[0] == 0).collect();
    // white regions: label each; the ones touching the border are outside, the others holes
    let mut wl = vec![0u32; n];
    let mut outside = vec![false];
    let mut q = VecDeque::new();
    let mut next = 0u32;
    for s in 0..n {
        if dark[s] || wl[s] != 0 {
            continue;
        }
        next += 1;
        let mut touches = false;
        wl[s] = next;
        q.push_back(s);
        while let Some(i) = q.pop_front() {
            let (x, y) = (i as u32 % w, i as u32 / w);
            if x == 0 || y == 0 || x == w - 1 || y == h - 1 {
                touches = true;
            }
            for (dx, dy) in [(1i64, 0i64), (-1, 0), (0, 1), (0, -1)] {
                let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                    continue;
                }
                let j = (ny as u32 * w + nx as u32) as usize;
                if !dark[j] && wl[j] == 0 {
                    wl[j] = next;
                    q.push_back(j);
                }
            }
        }
        outside.push(touches);
    }
    // dark components (8-connected)
    let mut seen = vec![false; n];
    let mut comps: Vec<(Vec<usize>, u32, Vec<u32>)> = Vec::new(); // pixels, height, white labels
    for s in 0..n {
        if !dark[s] || seen[s] {
            continue;
        }
        seen[s] = true;
        q.push_back(s);
        let mut pix = Vec::new();
        let mut labels: Vec<u32> = Vec::new();
        let (mut y0, mut y1) = (u32::MAX, 0);
        while let Some(i) = q.pop_front() {
            pix.push(i);
            let (x, y) = (i as u32 % w, i as u32 / w);
            y0 = y0.min(y);
            y1 = y1.max(y);
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if (dx == 0 && dy == 0) || nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64
                    {
                        continue;
                    }
                    let j = (ny as u32 * w + nx as u32) as usize;
                    if dark[j] {
                        if !seen[j] {
                            seen[j] = true;
                            q.push_back(j);
                        }
                    } else if !labels.contains(&wl[j]) {
                        labels.push(wl[j]);
                    }
                }
            }
        }
        comps.push((pix, y1 - y0 + 1, labels));
    }
    let maxh = comps.iter().map(|c| c.1).max().unwrap_or(0);
    for (pix, ch, labels) in comps {
        let in_hole = labels.len() == 1 && !outside[labels[0] as usize];
        let tiny = (ch as f32) < 0.3 * maxh as f32 && pix.len() < (maxh * maxh / 12) as usize;
        if in_hole || tiny {
            for i in pix {
                bin.put_pixel(i as u32 % w, i as u32 / w, Luma([255]));
            }
        }
    }
}

/// Turns every dark region that touches the image's border white (black text on white): the
/// ground around a light bar, once the bar's text is made dark, would otherwise frame the text
/// in black, and Tesseract finds no words in such a frame.
pub fn clear_border(bin: &mut GrayImage) {
    let (w, h) = bin.dimensions();
    if w == 0 || h == 0 {
        return;
    }
    let mut q = VecDeque::new();
    let push = |bin: &mut GrayImage, q: &mut VecDeque<(u32, u32)>, x: u32, y: u32| {
        if bin.get_pixel(x, y).0[0] == 0 {
            bin.put_pixel(x, y, Luma([255]));
            q.push_back((x, y));
        }
    };
    for x in 0..w {
        push(bin, &mut q, x, 0);
        push(bin, &mut q, x, h - 1);
    }
    for y in 0..h {
        push(bin, &mut q, 0, y);
        push(bin, &mut q, w - 1, y);
    }
    while let Some((x, y)) = q.pop_front() {
        if x > 0 {
            push(bin, &mut q, x - 1, y);
        }
        if y > 0 {
            push(bin, &mut q, x, y - 1);
        }
        if x + 1 < w {
            push(bin, &mut q, x + 1, y);
        }
        if y + 1 < h {
            push(bin, &mut q, x, y + 1);
        }
    }
}

/// Grayscale opening of the brightness (a minimum filter, then a maximum filter, both square
/// with half-width `r`): bright specks narrower than the window vanish into the dark strokes
/// around them, so a digit nicked by scratch residue is whole again, while the strokes keep their
/// width and the light background between characters (wider than the window) stays.
pub fn open_bright(g: &GrayImage, r: u32) -> GrayImage {
    if r == 0 {
        return g.clone();
    }
    let lo = filter_sep(g, r, u8::min, 255);
    filter_sep(&lo, r, u8::max, 0)
}

/// Side of the grid a glyph is sampled onto for [`glyph_doubts`] (width; height is 1.5 times).
const GLYPH_GRID: usize = 10;

/// The dark-pixel occupancy of a glyph's tight box, sampled on a small grid: a shape that can be
/// compared with the line's other glyphs, whatever their size.
fn glyph_shape(bin: &GrayImage, x0: i32, x1: i32) -> Option<Vec<f32>> {
    let (w, h) = bin.dimensions();
    let x0 = x0.clamp(0, w as i32 - 1) as u32;
    let x1 = x1.clamp(0, w as i32) as u32;
    if x1 <= x0 + 1 {
        return None;
    }
    let dark = |x: u32, y: u32| bin.get_pixel(x, y).0[0] == 0;
    let (mut bx0, mut by0, mut bx1, mut by1) = (u32::MAX, u32::MAX, 0, 0);
    for y in 0..h {
        for x in x0..x1 {
            if dark(x, y) {
                bx0 = bx0.min(x);
                by0 = by0.min(y);
                bx1 = bx1.max(x + 1);
                by1 = by1.max(y + 1);
            }
        }
    }
    if bx1 <= bx0 || by1 <= by0 {
        return None;
    }
    let (gw, gh) = (GLYPH_GRID, GLYPH_GRID * 3 / 2);
    let (cw, ch) = (
        (bx1 - bx0) as f32 / gw as f32,
        (by1 - by0) as f32 / gh as f32,
    );
    let mut out = vec![0.0f32; gw * gh];
    for (k, cell) in out.iter_mut().enumerate() {
        let (gx, gy) = ((k % gw) as f32, (k / gw) as f32);
        let xs = (bx0 as f32 + gx * cw) as u32;
        let xe = ((bx0 as f32 + (gx + 1.0) * cw).ceil() as u32).clamp(xs + 1, bx1);
        let ys = (by0 as f32 + gy * ch) as u32;
        let ye = ((by0 as f32 + (gy + 1.0) * ch).ceil() as u32).clamp(ys + 1, by1);
        let mut n = 0u32;
        let mut d = 0u32;
        for y in ys..ye {
            for x in xs..xe {
                n += 1;
                d += u32::from(dark(x, y));
            }
        }
        *cell = d as f32 / n.max(1) as f32;
    }
    Some(out)
}

fn shape_dist(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>() / a.len() as f32
}

/// Checks each recognised glyph of one printed line (all in one font) against the line's other
/// glyphs: a glyph is in doubt when its shape is nearer to a glyph read as another character
/// than to every glyph read as its own character, or, when no other glyph was read as its
/// character, nearer to another character's glyph than glyphs of one character usually are to
/// each other in this line. Catches a damaged digit read consistently as the wrong one (a
/// nicked 0 read as 9) when the line shows the right one elsewhere. `cells` are (x0, x1, char)
/// on the binarized line `bin` (black text on white). A glyph that cannot be sampled is in doubt.
///
/// With `strict` (a line read through scratch residue, where any digit may be damaged), a glyph
/// alone of its kind cannot be checked and is in doubt.
pub fn glyph_doubts(bin: &GrayImage, cells: &[(i32, i32, char)], strict: bool) -> Vec<bool> {
    let shapes: Vec<Option<Vec<f32>>> = cells
        .iter()
        .map(|&(x0, x1, _)| glyph_shape(bin, x0, x1))
        .collect();
    let n = cells.len();
    // nearest same-character and nearest other-character distance of each glyph
    let mut same = vec![f32::INFINITY; n];
    let mut other = vec![f32::INFINITY; n];
    for i in 0..n {
        let Some(a) = &shapes[i] else { continue };
        for j in 0..n {
            if i == j {
                continue;
            }
            let Some(b) = &shapes[j] else { continue };
            let d = shape_dist(a, b);
            if cells[i].2 == cells[j].2 {
                same[i] = same[i].min(d);
            } else {
                other[i] = other[i].min(d);
            }
        }
    }
    let mut typical: Vec<f32> = same.iter().copied().filter(|d| d.is_finite()).collect();
    typical.sort_by(|a, b| a.total_cmp(b));
    let typical = typical.get(typical.len() / 2).copied();
    (0..n)
        .map(|i| {
            if shapes[i].is_none() {
                return true;
            }
            if same[i].is_finite() {
                // nearer (or not clearly farther) to another character than to its own, or
                // unlike every glyph of its own character: damaged
                other[i] <= SAME_MARGIN * same[i]
                    || typical.is_some_and(|t| same[i] > DAMAGE_FACTOR * t.max(1e-3))
            } else {
                // alone of its kind: in doubt when it looks like another character's glyph
                strict || typical.is_none_or(|t| other[i] <= 2.0 * t)
            }
        })
        .collect()
}

/// A glyph's nearest glyph of another character must be this many times farther than its
/// nearest glyph of its own character.
pub const SAME_MARGIN: f32 = 1.5;
/// A glyph farther than this many times the line's typical same-character distance from every
/// glyph of its own character is damaged.
pub const DAMAGE_FACTOR: f32 = 3.0;

/// A separable square min or max filter (edges padded with `pad`, the neutral value).
fn filter_sep(g: &GrayImage, r: u32, f: fn(u8, u8) -> u8, pad: u8) -> GrayImage {
    let (w, h) = g.dimensions();
    let r = r as i64;
    let at = |img: &GrayImage, x: i64, y: i64| {
        if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
            pad
        } else {
            img.get_pixel(x as u32, y as u32).0[0]
        }
    };
    let mut tmp = GrayImage::new(w, h);
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            let v = (-r..=r).fold(pad, |acc, d| f(acc, at(g, x + d, y)));
            tmp.put_pixel(x as u32, y as u32, Luma([v]));
        }
    }
    let mut out = GrayImage::new(w, h);
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            let v = (-r..=r).fold(pad, |acc, d| f(acc, at(&tmp, x, y + d)));
            out.put_pixel(x as u32, y as u32, Luma([v]));
        }
    }
    out
}

/// Median height of character-like dark blobs (the measured text height), if any.
pub fn char_height(g: &GrayImage) -> Option<f32> {
    let t = otsu(g);
    let (w, h) = g.dimensions();
    let n = (w * h) as usize;
    let dark: Vec<bool> = g.pixels().map(|p| p.0[0] <= t).collect();
    let mut seen = vec![false; n];
    let mut heights = Vec::new();
    let mut q = VecDeque::new();
    for s in 0..n {
        if !dark[s] || seen[s] {
            continue;
        }
        seen[s] = true;
        q.push_back(s);
        let (mut x0, mut y0, mut x1, mut y1, mut cnt) = (u32::MAX, u32::MAX, 0, 0, 0u32);
        while let Some(i) = q.pop_front() {
            let (x, y) = (i as u32 % w, i as u32 / w);
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
            cnt += 1;
            for (dx, dy) in [(1i64, 0i64), (-1, 0), (0, 1), (0, -1)] {
                let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                    continue;
                }
                let j = (ny as u32 * w + nx as u32) as usize;
                if dark[j] && !seen[j] {
                    seen[j] = true;
                    q.push_back(j);
                }
            }
        }
        let bw = x1 - x0 + 1;
        let bh = y1 - y0 + 1;
        if bh >= 6 && (bh as f32) < h as f32 * 0.3 && bw <= bh * 2 && bh <= bw * 8 && cnt >= 12 {
            heights.push(bh);
        }
    }
    if heights.len() < 5 {
        return None;
    }
    heights.sort_unstable();
    Some(heights[heights.len() / 2] as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_on_yellow_is_light_on_dark_in_the_darkest_channel() {
        let mut img = RgbImage::from_pixel(4, 1, image::Rgb([250, 200, 0]));
        img.put_pixel(1, 0, image::Rgb([255, 255, 255]));
        let luma = to_gray(&img);
        let m = min_channel(&img);
        // in luma the text barely stands out; in the darkest channel it is all the way apart
        assert!(luma.get_pixel(1, 0).0[0] - luma.get_pixel(0, 0).0[0] < 70);
        assert_eq!((m.get_pixel(0, 0).0[0], m.get_pixel(1, 0).0[0]), (0, 255));
    }

    #[test]
    fn dark_ground_touching_the_border_is_cleared_and_text_inside_stays() {
        // a black frame around a white bar holding a black mark
        let mut b = GrayImage::from_pixel(20, 10, Luma([0]));
        for y in 2..8 {
            for x in 2..18 {
                b.put_pixel(x, y, Luma([255]));
            }
        }
        b.put_pixel(9, 5, Luma([0]));
        b.put_pixel(10, 5, Luma([0]));
        clear_border(&mut b);
        let dark: Vec<(u32, u32)> = b
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0[0] == 0)
            .map(|(x, y, _)| (x, y))
            .collect();
        assert_eq!(dark, vec![(9, 5), (10, 5)]);
        clear_border(&mut GrayImage::new(0, 0));
    }

    fn card_on_table(angle: f32) -> RgbImage {
        let mut img = RgbImage::from_pixel(400, 300, image::Rgb([90, 110, 130]));
        let r = RotRect {
            cx: 200.0,
            cy: 150.0,
            w: 220.0,
            h: 130.0,
            angle,
        };
        let (s, c) = angle.to_radians().sin_cos();
        for y in 0..300 {
            for x in 0..400 {
                let dx = x as f32 - r.cx;
                let dy = y as f32 - r.cy;
                let u = dx * c + dy * s;
                let v = -dx * s + dy * c;
                if u.abs() < r.w / 2.0 && v.abs() < r.h / 2.0 {
                    img.put_pixel(x, y, image::Rgb([240, 230, 200]));
                }
            }
        }
        img
    }

    #[test]
    fn finds_a_rotated_card_and_its_angle() {
        for angle in [-5.0f32, 0.0, 4.0] {
            let regions = find_regions(&card_on_table(angle));
            assert_eq!(regions.len(), 1, "angle {angle}");
            let r = &regions[0].rect;
            assert!((r.angle - angle).abs() < 1.0, "{} vs {angle}", r.angle);
            assert!(
                (r.w - 220.0).abs() < 8.0 && (r.h - 130.0).abs() < 8.0,
                "{r:?}"
            );
            assert!((r.cx - 200.0).abs() < 3.0 && (r.cy - 150.0).abs() < 3.0);
        }
    }

    #[test]
    fn empty_table_has_no_region() {
        let img = RgbImage::from_fn(300, 200, |_, y| image::Rgb([100, 100 + (y / 4) as u8, 90]));
        assert!(find_regions(&img).is_empty());
    }

    #[test]
    fn not_an_image_and_truncated_jpeg_get_their_own_errors() {
        assert!(matches!(
            decode_photo(b"hello, this is text"),
            Err(PhotoError::NotImage(_))
        ));
        let mut jpeg = Vec::new();
        let img = card_on_table(2.0);
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
            .unwrap();
        assert!(decode_photo(&jpeg).is_ok());
        let cut = &jpeg[..jpeg.len() / 3];
        assert!(matches!(decode_photo(cut), Err(PhotoError::Corrupt(_))));
        assert!(jpeg_is_complete(&jpeg));
        let mut trailer = jpeg.clone();
        trailer.extend_from_slice(b"phone trailer \xff\xda");
        assert!(jpeg_is_complete(&trailer));
        for n in [3, 100, jpeg.len() - 2, jpeg.len() - 1] {
            assert!(!jpeg_is_complete(&jpeg[..n]), "cut at {n}");
        }
    }

    #[test]
    fn huge_photo_is_downscaled() {
        let big = GrayImage::from_pixel(6000, 4500, Luma([200]));
        let mut png = Vec::new();
        image::DynamicImage::ImageLuma8(big)
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let p = decode_photo(&png).unwrap();
        assert_eq!(p.rgb.dimensions(), (2400, 1800));
        assert!((p.scale_to_original - 2.5).abs() < 1e-3);
        assert_eq!(p.original_size, (6000, 4500));
    }

    #[test]
    fn speck_inside_a_ring_is_removed_and_the_ring_kept() {
        let mut g = GrayImage::from_pixel(40, 40, Luma([255]));
        for y in 5..35u32 {
            for x in 8..32u32 {
                let ring = !(12..28).contains(&x) || !(9..31).contains(&y);
                let dot = (18..22).contains(&x) && (17..23).contains(&y);
                if ring || dot {
                    g.put_pixel(x, y, Luma([0]));
                }
            }
        }
        clean_specks(&mut g);
        assert_eq!(g.get_pixel(20, 20).0[0], 255, "dot removed");
        assert_eq!(g.get_pixel(9, 20).0[0], 0, "ring kept");
    }

    #[test]
    fn opening_fills_a_nick_in_a_stroke_and_keeps_the_gaps() {
        // a dark bar 6 px thick with a 2 px bright nick across it, and a 10 px gap to a second bar
        let mut g = GrayImage::from_pixel(40, 20, Luma([220]));
        for y in 4..16u32 {
            for x in (5..11u32).chain(21..27) {
                g.put_pixel(x, y, Luma([20]));
            }
        }
        g.put_pixel(7, 9, Luma([210]));
        g.put_pixel(8, 9, Luma([210]));
        g.put_pixel(7, 10, Luma([210]));
        g.put_pixel(8, 10, Luma([210]));
        let o = open_bright(&g, 2);
        assert_eq!(o.get_pixel(7, 9).0[0], 20, "nick filled");
        assert_eq!(o.get_pixel(15, 10).0[0], 220, "gap between bars kept");
        assert_eq!(o.get_pixel(5, 10).0[0], 20, "bar kept its width");
        assert_eq!(o.get_pixel(4, 10).0[0], 220);
    }

    #[test]
    fn a_glyph_shaped_like_another_character_is_in_doubt() {
        // a line of boxes: "0" = ring, "1" = bar; the fourth glyph is a ring read as "1"
        let mut g = GrayImage::from_pixel(200, 40, Luma([255]));
        let ring = |g: &mut GrayImage, x0: u32| {
            for y in 5..35u32 {
                for x in x0..x0 + 20 {
                    if !(x0 + 5..x0 + 15).contains(&x) || !(10..30).contains(&y) {
                        g.put_pixel(x, y, Luma([0]));
                    }
                }
            }
        };
        let bar = |g: &mut GrayImage, x0: u32| {
            for y in 5..35u32 {
                for x in x0 + 7..x0 + 13 {
                    g.put_pixel(x, y, Luma([0]));
                }
            }
        };
        ring(&mut g, 0);
        bar(&mut g, 30);
        ring(&mut g, 60);
        ring(&mut g, 90);
        bar(&mut g, 120);
        let cells = [
            (0, 25, '0'),
            (30, 55, '1'),
            (60, 85, '0'),
            (90, 115, '1'),
            (120, 145, '1'),
        ];
        // the ring read as "1" is in doubt, and so are the rings read as "0": identical shapes
        // read two ways make every one of them doubtful; the bars are fine
        assert_eq!(
            glyph_doubts(&g, &cells, false),
            [true, false, true, true, false]
        );
        let right = [
            (0, 25, '0'),
            (30, 55, '1'),
            (60, 85, '0'),
            (90, 115, '0'),
            (120, 145, '1'),
        ];
        assert_eq!(glyph_doubts(&g, &right, false), [false; 5]);
        // a single "1" among rings can be checked by nothing in the line: strict doubts it
        let lone = [(0, 25, '0'), (30, 55, '1'), (60, 85, '0'), (90, 115, '0')];
        assert_eq!(glyph_doubts(&g, &lone, false), [false; 4]);
        assert_eq!(glyph_doubts(&g, &lone, true), [false, true, false, false]);
    }

    #[test]
    fn otsu_splits_two_levels() {
        let g = GrayImage::from_fn(20, 20, |x, _| Luma([if x < 10 { 30 } else { 220 }]));
        let t = otsu(&g);
        assert!((30..220).contains(&t));
    }
}
