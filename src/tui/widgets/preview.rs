//! A voucher card's picture beside its fields (F2 preview, F3 search): the card's crop out of
//! its photo, drawn with the terminal's graphics protocol (kitty, sixel or iTerm2, found by a
//! query at start) or with half blocks everywhere else (and on the test backend).
//!
//! Decoding a phone photo takes long, so it runs in a job, and the card's crop (already shrunk
//! to a few hundred pixels) is kept: moving through the rows only re-draws crops that are here.
//! The drawing itself (a small crop fitted to the pane) is cached per pane size too.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use image::DynamicImage;
use ratatui::layout::{Rect, Size};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use ratatui_image::picker::{Picker, ProtocolType};
use ratatui_image::protocol::Protocol;
use ratatui_image::{Image, Resize};

use crate::i18n::Lang;
use crate::tui::action::Action;
use crate::tui::jobs::Jobs;
use crate::tui::theme::Theme;

static PICKER: OnceLock<Picker> = OnceLock::new();

/// Asks the terminal which graphics protocol it speaks and its cell size in pixels. Call once
/// after entering the alternate screen and before reading events; a terminal that does not
/// answer gets half blocks.
// The options have a private field, so they cannot be built with `..Default::default()`.
#[allow(clippy::field_reassign_with_default)]
pub fn init_from_terminal() {
    let mut options = ratatui_image::picker::cap_parser::QueryStdioOptions::default();
    options.timeout = QUERY_TIMEOUT;
    let started = std::time::Instant::now();
    let picker =
        Picker::from_query_stdio_with_options(options).unwrap_or_else(|_| Picker::halfblocks());
    if started.elapsed() >= QUERY_TIMEOUT {
        // No full answer (tmux without passthrough drops the wrapped queries): the query's
        // reader thread still waits on stdin and would eat the user's first key. A status
        // request the terminal itself answers ends that read instead.
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = out.write_all(b"\x1b[5n");
        let _ = out.flush();
    }
    tracing::info!(
        "card previews: {:?} (terminal query {} ms)",
        picker.protocol_type(),
        started.elapsed().as_millis()
    );
    let _ = PICKER.set(picker);
}

/// How long the terminal may take to answer the graphics query at start.
const QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1000);

/// The picker found at start, or half blocks (tests, the CLI).
pub fn picker() -> Picker {
    PICKER.get().cloned().unwrap_or_else(Picker::halfblocks)
}

/// The protocol name for the help line ("kitty", "sixel", "iTerm2", "halfblocks").
pub fn protocol_name() -> &'static str {
    match picker().protocol_type() {
        ProtocolType::Halfblocks => "halfblocks",
        ProtocolType::Sixel => "sixel",
        ProtocolType::Kitty => "kitty",
        ProtocolType::Iterm2 => "iTerm2",
    }
}

/// The longest side of a kept crop, in pixels: plenty for a side pane, small to keep.
const CROP_MAX: u32 = 480;
/// Crops and drawings kept.
const KEEP: usize = 48;

/// "x,y,w,h[,angle]" as stored: the card's bounds in the photo's own pixels.
fn parse_box(b: &str) -> Option<(u32, u32, u32, u32)> {
    let v: Vec<f64> = b
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    match v.as_slice() {
        [x, y, w, h, ..] if *w >= 1.0 && *h >= 1.0 && *x >= 0.0 && *y >= 0.0 => {
            Some((*x as u32, *y as u32, *w as u32, *h as u32))
        }
        _ => None,
    }
}

/// Decodes the photo and cuts out the card (the whole photo when there is no box), shrunk to at
/// most [`CROP_MAX`] pixels on its long side. Blocking: run it in a job.
pub fn load_crop(path: &Path, card_box: Option<&str>) -> Result<DynamicImage, String> {
    let (img, s) = decoded(path)?;
    let s = s.max(1e-6);
    let cut = match card_box.and_then(parse_box) {
        Some((x, y, w, h)) => {
            let (iw, ih) = (img.width(), img.height());
            let x = ((x as f32 / s) as u32).min(iw.saturating_sub(1));
            let y = ((y as f32 / s) as u32).min(ih.saturating_sub(1));
            let w = ((w as f32 / s).ceil() as u32).clamp(1, iw - x);
            let h = ((h as f32 / s).ceil() as u32).clamp(1, ih - y);
            img.crop_imm(x, y, w, h)
        }
        None => (*img).clone(),
    };
    Ok(if cut.width().max(cut.height()) > CROP_MAX {
        cut.resize(CROP_MAX, CROP_MAX, image::imageops::FilterType::Triangle)
    } else {
        cut
    })
}

/// The last photo decoded, kept: a photo holds several cards, and their crops are asked for
/// together. The lock also makes a second job for the same photo wait and reuse the first's.
#[allow(clippy::type_complexity)]
static LAST: std::sync::Mutex<Option<(std::path::PathBuf, Arc<DynamicImage>, f32)>> =
    std::sync::Mutex::new(None);

fn decoded(path: &Path) -> Result<(Arc<DynamicImage>, f32), String> {
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((p, img, s)) = last.as_ref() {
        if p == path {
            return Ok((img.clone(), *s));
        }
    }
    let (photo, _) = crate::ocr::prep::load_photo(path).map_err(|e| e.to_string())?;
    let img = Arc::new(DynamicImage::ImageRgb8(photo.rgb));
    *last = Some((path.to_path_buf(), img.clone(), photo.scale_to_original));
    Ok((img, photo.scale_to_original))
}

/// A finished crop job, for the screen that asked.
#[derive(Clone)]
pub struct CropLoaded {
    pub key: String,
    pub result: Result<Arc<DynamicImage>, String>,
}

impl std::fmt::Debug for CropLoaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CropLoaded")
            .field("key", &self.key)
            .field("ok", &self.result.is_ok())
            .finish()
    }
}

enum Slot {
    Loading,
    Ready(Arc<DynamicImage>),
    Failed(String),
}

/// The crops and drawings of one screen.
#[derive(Default)]
pub struct CardPreview {
    crops: HashMap<String, Slot>,
    order: VecDeque<String>,
    drawn: HashMap<(String, u16, u16), Protocol>,
}

pub fn key(path: &str, card_box: Option<&str>) -> String {
    format!("{path}#{}", card_box.unwrap_or(""))
}

impl CardPreview {
    /// Starts loading the crop unless it is here or under way.
    pub fn request(
        &mut self,
        jobs: &mut Jobs,
        label: &str,
        path: &str,
        card_box: Option<&str>,
        wrap: fn(CropLoaded) -> Action,
    ) {
        let k = key(path, card_box);
        if self.crops.contains_key(&k) {
            return;
        }
        self.crops.insert(k.clone(), Slot::Loading);
        self.order.push_back(k.clone());
        while self.order.len() > KEEP {
            if let Some(old) = self.order.pop_front() {
                self.crops.remove(&old);
                self.drawn.retain(|(p, _, _), _| *p != old);
            }
        }
        let path = path.to_string();
        let card_box = card_box.map(str::to_string);
        jobs.spawn_blocking(label.to_string(), move |_| {
            let result = load_crop(Path::new(&path), card_box.as_deref()).map(Arc::new);
            Ok(wrap(CropLoaded { key: k, result }))
        });
    }

    pub fn loaded(&mut self, l: &CropLoaded) {
        if let Some(slot) = self.crops.get_mut(&l.key) {
            *slot = match &l.result {
                Ok(img) => Slot::Ready(img.clone()),
                Err(e) => Slot::Failed(e.clone()),
            };
        }
    }

    /// Whether the crop of this card is ready (for tests).
    pub fn is_ready(&self, path: &str, card_box: Option<&str>) -> bool {
        matches!(self.crops.get(&key(path, card_box)), Some(Slot::Ready(_)))
    }

    /// Draws the card into `area`: the picture, or what stands in its way.
    pub fn render(
        &mut self,
        f: &mut Frame,
        area: Rect,
        path: &str,
        card_box: Option<&str>,
        theme: &Theme,
        lang: Lang,
    ) {
        if area.width < 4 || area.height < 2 {
            return;
        }
        let k = key(path, card_box);
        let text = match self.crops.get(&k) {
            Some(Slot::Ready(img)) => {
                let dk = (k.clone(), area.width, area.height);
                if !self.drawn.contains_key(&dk) {
                    let p = picker();
                    match p.new_protocol(
                        (**img).clone(),
                        Size::new(area.width, area.height),
                        Resize::Scale(Some(image::imageops::FilterType::Triangle)),
                    ) {
                        Ok(proto) => {
                            if self.drawn.len() >= KEEP {
                                self.drawn.clear();
                            }
                            self.drawn.insert(dk.clone(), proto);
                        }
                        Err(e) => {
                            let msg = format!("{}: {e}", lang.t("gambar gagal", "drawing failed"));
                            f.render_widget(
                                Paragraph::new(Line::styled(msg, theme.error))
                                    .wrap(Wrap { trim: true }),
                                area,
                            );
                            return;
                        }
                    }
                }
                if let Some(proto) = self.drawn.get(&dk) {
                    let sz = proto.size();
                    // centred in the pane
                    let r = Rect::new(
                        area.x + area.width.saturating_sub(sz.width) / 2,
                        area.y,
                        sz.width.min(area.width),
                        sz.height.min(area.height),
                    );
                    f.render_widget(Image::new(proto), r);
                }
                return;
            }
            Some(Slot::Loading) => Line::styled(
                lang.t("memuat foto kartu ...", "loading the card photo ..."),
                theme.dim,
            ),
            Some(Slot::Failed(e)) => Line::styled(
                format!(
                    "{}: {e}",
                    lang.t("foto tidak bisa dibuka", "photo cannot be opened")
                ),
                theme.warn,
            ),
            None => Line::styled(lang.t("foto belum dimuat", "photo not loaded"), theme.dim),
        };
        f.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_parse_and_bad_ones_do_not() {
        assert_eq!(parse_box("10,20,300,200,-2.5"), Some((10, 20, 300, 200)));
        assert_eq!(parse_box("10,20,300,200"), Some((10, 20, 300, 200)));
        assert_eq!(parse_box("10,20,0,200"), None);
        assert_eq!(parse_box("a,b"), None);
    }

    #[test]
    fn the_crop_is_the_card_shrunk() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.png");
        let mut img = image::RgbImage::new(1000, 800);
        for (x, y, px) in img.enumerate_pixels_mut() {
            *px = if (100..700).contains(&x) && (200..500).contains(&y) {
                image::Rgb([250, 10, 10])
            } else {
                image::Rgb([0, 0, 0])
            };
        }
        img.save(&p).unwrap();
        let c = load_crop(&p, Some("100,200,600,300,0")).unwrap();
        assert_eq!((c.width(), c.height()), (480, 240));
        let px = c.to_rgb8().get_pixel(240, 120).0;
        assert_eq!(px, [250, 10, 10]);
        let whole = load_crop(&p, None).unwrap();
        assert_eq!(whole.width(), 480);
        let bad = dir.path().join("x.jpg");
        std::fs::write(&bad, b"not a photo").unwrap();
        assert!(load_crop(&bad, None).unwrap_err().contains("not an image"));
    }
}
