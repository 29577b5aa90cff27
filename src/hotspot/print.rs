//! Printing vouchers: ESC/POS tickets for 58/80 mm thermal printers (to a device, a file or a
//! network printer on TCP 9100), and an A4 PDF sheet with QR codes for an office printer.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use qrcode::{Color, EcLevel, QrCode};
use tokio::io::AsyncWriteExt;

use crate::i18n::Lang;

/// One voucher as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub name: String,
    pub password: String,
    pub profile: String,
    pub minutes: u32,
    pub blok: String,
    /// Whole rupiah; 0 hides the price.
    pub price: i64,
}

impl Ticket {
    /// The login page with the code filled in, as Mikhmon's QR codes do.
    pub fn login_link(&self, login_url: &str) -> String {
        let sep = if login_url.contains('?') { '&' } else { '?' };
        format!(
            "{login_url}{sep}username={}&password={}",
            url_escape(&self.name),
            url_escape(&self.password)
        )
    }
}

fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `Rp5.000`: Indonesian thousands separators.
pub fn rupiah(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    format!("{}Rp{out}", if n < 0 { "-" } else { "" })
}

/// Tickets for the vouchers of a batch that exist on the router.
pub fn tickets_of(
    hs: &crate::config::HotspotConfig,
    b: &crate::store::hotspot::BatchView,
) -> Vec<Ticket> {
    let prof = hs.profile(&b.profile);
    b.vouchers
        .iter()
        .filter(|v| v.state == crate::store::hotspot::CREATED)
        .map(|v| Ticket {
            name: v.name.clone(),
            password: v.password.clone(),
            profile: v.profile.clone(),
            minutes: prof.map(|p| p.minutes).unwrap_or(0),
            blok: b.blok.clone(),
            price: prof.map(|p| p.price).unwrap_or(0),
        })
        .collect()
}

/// Where a print goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintDest {
    /// A network thermal printer, `host:port` (9100 unless given).
    Tcp(String),
    /// A device (`/dev/usb/lp0`) or a file, written as ESC/POS bytes.
    Path(PathBuf),
    /// An A4 PDF sheet with QR codes.
    Pdf(PathBuf),
}

impl PrintDest {
    /// `tcp:HOST[:PORT]` (or `tcp://…`), a path ending in `.pdf`, or any other path.
    pub fn parse(s: &str) -> Result<PrintDest, PrintError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(PrintError::Dest(
                "no print destination; give a device (/dev/usb/lp0), a file, tcp:HOST[:PORT] or a .pdf file".into(),
            ));
        }
        if let Some(rest) = s.strip_prefix("tcp://").or_else(|| s.strip_prefix("tcp:")) {
            let rest = rest.trim_end_matches('/');
            if rest.is_empty() {
                return Err(PrintError::Dest(format!(
                    "'{s}' names no printer host; write tcp:192.168.1.50 or tcp:192.168.1.50:9100"
                )));
            }
            let has_port = rest
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            return Ok(PrintDest::Tcp(if has_port {
                rest.to_string()
            } else {
                format!("{rest}:9100")
            }));
        }
        let p = PathBuf::from(s);
        if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")) {
            Ok(PrintDest::Pdf(p))
        } else {
            Ok(PrintDest::Path(p))
        }
    }
}

impl fmt::Display for PrintDest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrintDest::Tcp(a) => write!(f, "tcp:{a}"),
            PrintDest::Path(p) | PrintDest::Pdf(p) => write!(f, "{}", p.display()),
        }
    }
}

#[derive(Debug)]
pub enum PrintError {
    Dest(String),
    Io(String),
    /// A network printer dropped the connection (or stopped taking data) mid-print.
    Cut {
        dest: String,
        reason: String,
        /// Bytes the printer's connection accepted; the printer itself may have taken fewer.
        sent_bytes: usize,
        total_bytes: usize,
        /// Tickets whose bytes went out whole.
        tickets_sent: usize,
        tickets: usize,
    },
}

impl fmt::Display for PrintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrintError::Dest(m) | PrintError::Io(m) => f.write_str(m),
            PrintError::Cut {
                dest,
                reason,
                sent_bytes,
                total_bytes,
                tickets_sent,
                tickets,
            } => {
                if sent_bytes < total_bytes {
                    write!(
                        f,
                        "printer {dest} cut the print off ({reason}) after {sent_bytes} of \
                         {total_bytes} bytes: at most {tickets_sent} of {tickets} tickets were \
                         printed whole"
                    )?;
                } else {
                    write!(
                        f,
                        "printer {dest} cut the print off ({reason}) after all {total_bytes} \
                         bytes were sent but before it took them: fewer than {tickets} tickets \
                         were printed"
                    )?;
                }
                write!(
                    f,
                    "; the vouchers stay recorded in konter: check the paper and the printer, \
                     then print the batch again"
                )
            }
        }
    }
}

impl std::error::Error for PrintError {}

/// Paper width of a thermal printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    Mm58,
    Mm80,
}

impl Paper {
    pub fn from_mm(mm: u32) -> Result<Paper, PrintError> {
        match mm {
            58 => Ok(Paper::Mm58),
            80 => Ok(Paper::Mm80),
            other => Err(PrintError::Dest(format!(
                "paper width {other} mm is not supported; set hotspot.paper_mm to 58 or 80"
            ))),
        }
    }

    /// Characters per line in font A.
    pub fn columns(self) -> usize {
        match self {
            Paper::Mm58 => 32,
            Paper::Mm80 => 48,
        }
    }

    fn qr_module(self) -> u8 {
        match self {
            Paper::Mm58 => 5,
            Paper::Mm80 => 7,
        }
    }
}

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;

/// Printers speak a code page, not UTF-8: anything outside ASCII becomes `?`.
fn ascii(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c as u8
            } else {
                b'?'
            }
        })
        .collect()
}

fn line(out: &mut Vec<u8>, s: &str, cols: usize) {
    let mut b = ascii(s);
    b.truncate(cols);
    out.extend_from_slice(&b);
    out.push(b'\n');
}

/// ESC/POS bytes for the tickets: one ticket per voucher, each cut off.
pub fn escpos(
    tickets: &[Ticket],
    paper: Paper,
    shop: &str,
    login_url: &str,
    lang: Lang,
) -> Vec<u8> {
    escpos_with_ends(tickets, paper, shop, login_url, lang).0
}

/// [`escpos`], plus the byte offset where each ticket ends (to tell how far a cut-off print
/// got).
pub fn escpos_with_ends(
    tickets: &[Ticket],
    paper: Paper,
    shop: &str,
    login_url: &str,
    lang: Lang,
) -> (Vec<u8>, Vec<usize>) {
    let cols = paper.columns();
    let mut out = vec![ESC, b'@'];
    let mut ends = Vec::with_capacity(tickets.len());
    for t in tickets {
        out.extend_from_slice(&[ESC, b'a', 1, ESC, b'E', 1]);
        line(&mut out, shop, cols);
        out.extend_from_slice(&[ESC, b'E', 0]);
        line(
            &mut out,
            &format!(
                "{} {}",
                lang.t("Voucher Hotspot", "Hotspot voucher"),
                t.profile
            ),
            cols,
        );
        let vc = t.name == t.password;
        // the code in double width and height, so it can be read across the counter
        out.extend_from_slice(&[GS, b'!', 0x11]);
        line(&mut out, &t.name, cols / 2);
        out.extend_from_slice(&[GS, b'!', 0x00]);
        out.extend_from_slice(&[ESC, b'a', 0]);
        if vc {
            line(
                &mut out,
                lang.t("Kode = user = password", "Code = user = password"),
                cols,
            );
        } else {
            line(&mut out, &format!("User : {}", t.name), cols);
            line(&mut out, &format!("Pass : {}", t.password), cols);
        }
        let mut info = format!(
            "{} {}",
            t.blok,
            if t.minutes > 0 {
                format!("{} {}", t.minutes, lang.t("menit", "minutes"))
            } else {
                String::new()
            }
        );
        if t.price > 0 {
            info.push_str(&format!("  {}", rupiah(t.price)));
        }
        line(&mut out, info.trim(), cols);
        // a QR code (model 2) of the login link, drawn by the printer itself
        let data = t.login_link(login_url).into_bytes();
        out.extend_from_slice(&[ESC, b'a', 1]);
        out.extend_from_slice(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
        out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, paper.qr_module()]);
        out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 69, 49]);
        let len = data.len() + 3;
        out.extend_from_slice(&[
            GS,
            b'(',
            b'k',
            (len % 256) as u8,
            (len / 256) as u8,
            49,
            80,
            48,
        ]);
        out.extend_from_slice(&data);
        out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]);
        line(&mut out, login_url, cols);
        out.extend_from_slice(&[ESC, b'a', 0]);
        line(&mut out, &"-".repeat(cols), cols);
        // feed and partial cut
        out.extend_from_slice(&[ESC, b'd', 3, GS, b'V', 66, 0]);
        ends.push(out.len());
    }
    (out, ends)
}

/// Sends bytes to a thermal printer (TCP, device or file). A PDF destination is refused here:
/// use [`pdf_sheet`] for it.
pub async fn send(dest: &PrintDest, bytes: &[u8], timeout: Duration) -> Result<(), PrintError> {
    send_tickets(dest, bytes, &[], timeout).await
}

/// How long konter waits, after the last byte, for a network printer to close the connection
/// (or to reset it, which means it did not take everything). A printer that keeps the
/// connection open is taken to have the print.
const TCP_LINGER: Duration = Duration::from_millis(1500);

/// [`send`], where `ends` are the byte offsets where each ticket ends, so a cut-off network
/// print says how far it got ([`PrintError::Cut`]).
pub async fn send_tickets(
    dest: &PrintDest,
    bytes: &[u8],
    ends: &[usize],
    timeout: Duration,
) -> Result<(), PrintError> {
    match dest {
        PrintDest::Tcp(addr) => {
            let mut s = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr))
                .await
                .map_err(|_| {
                    PrintError::Io(format!(
                        "printer {addr} did not answer within {} s; check that it is on and the address is right",
                        timeout.as_secs()
                    ))
                })?
                .map_err(|e| {
                    PrintError::Io(format!(
                        "printer {addr} did not take the print: {e}; check that it is on and on the network, nothing was printed"
                    ))
                })?;
            let mut sent = 0usize;
            let outcome = tokio::time::timeout(timeout, write_and_linger(&mut s, bytes, &mut sent))
                .await
                .unwrap_or_else(|_| Err("it stopped taking data".to_string()));
            outcome.map_err(|reason| PrintError::Cut {
                dest: format!("tcp:{addr}"),
                reason,
                sent_bytes: sent,
                total_bytes: bytes.len(),
                tickets_sent: ends.iter().filter(|e| **e <= sent).count(),
                tickets: ends.len(),
            })
        }
        PrintDest::Path(p) => {
            let is_device = p.starts_with("/dev");
            let mut f = tokio::fs::OpenOptions::new()
                .write(true)
                .create(!is_device)
                .truncate(!is_device)
                .open(p)
                .await
                .map_err(|e| {
                    PrintError::Io(format!(
                        "cannot open {} for printing: {e}; check the printer path and its permissions",
                        p.display()
                    ))
                })?;
            f.write_all(bytes)
                .await
                .map_err(|e| PrintError::Io(format!("writing to {} failed: {e}", p.display())))?;
            f.flush()
                .await
                .map_err(|e| PrintError::Io(format!("writing to {} failed: {e}", p.display())))
        }
        PrintDest::Pdf(p) => Err(PrintError::Dest(format!(
            "{} is a PDF sheet, not a thermal printer",
            p.display()
        ))),
    }
}

/// Writes everything (counting in `sent` what the connection accepted), closes the sending
/// side and waits a moment for the printer to close or reset the connection.
async fn write_and_linger(
    s: &mut tokio::net::TcpStream,
    bytes: &[u8],
    sent: &mut usize,
) -> Result<(), String> {
    use tokio::io::AsyncReadExt;
    while *sent < bytes.len() {
        match s.write(&bytes[*sent..]).await {
            Ok(0) => return Err("the connection was closed".into()),
            Ok(n) => *sent += n,
            Err(e) => return Err(e.to_string()),
        }
    }
    s.flush().await.map_err(|e| e.to_string())?;
    s.shutdown().await.map_err(|e| e.to_string())?;
    let mut buf = [0u8; 256];
    let linger = tokio::time::sleep(TCP_LINGER);
    tokio::pin!(linger);
    loop {
        tokio::select! {
            r = s.read(&mut buf) => match r {
                // closed in good order: it took everything
                Ok(0) => return Ok(()),
                // status bytes some printers send back
                Ok(_) => continue,
                Err(e) => return Err(e.to_string()),
            },
            _ = &mut linger => return Ok(()),
        }
    }
}

fn pdf_text(s: &str) -> String {
    let mut out = String::new();
    for b in ascii(s) {
        match b {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            _ => out.push(b as char),
        }
    }
    out
}

/// An A4 sheet, 3 x 8 cards per page; each card has a QR code of the login link, the code, the
/// profile, blok and price.
pub fn pdf_sheet(tickets: &[Ticket], shop: &str, login_url: &str, lang: Lang) -> Vec<u8> {
    const W: f32 = 595.0;
    const H: f32 = 842.0;
    const COLS: usize = 3;
    const ROWS: usize = 8;
    const MARGIN: f32 = 18.0;
    let card_w = (W - 2.0 * MARGIN) / COLS as f32;
    let card_h = (H - 2.0 * MARGIN) / ROWS as f32;
    let per_page = COLS * ROWS;
    let mut pages: Vec<String> = Vec::new();
    for chunk in tickets.chunks(per_page).chain(
        // an empty batch still makes a (blank) valid page
        if tickets.is_empty() {
            Some(&[][..])
        } else {
            None
        },
    ) {
        let mut c = String::from("0.5 w\n");
        for (i, t) in chunk.iter().enumerate() {
            let x = MARGIN + (i % COLS) as f32 * card_w;
            let y = H - MARGIN - ((i / COLS) + 1) as f32 * card_h;
            c.push_str(&format!(
                "{:.2} {:.2} {:.2} {:.2} re S\n",
                x + 2.0,
                y + 2.0,
                card_w - 4.0,
                card_h - 4.0
            ));
            // at least 4 modules of white around the code (the quiet zone scanners need)
            let qr_size = card_h - 26.0;
            if let Ok(code) =
                QrCode::with_error_correction_level(t.login_link(login_url).as_bytes(), EcLevel::M)
            {
                let n = code.width();
                let m = qr_size / n as f32;
                let (qx, qy) = (x + 13.0, y + 13.0);
                for (k, color) in code.to_colors().iter().enumerate() {
                    if *color == Color::Dark {
                        let (col, row) = (k % n, k / n);
                        c.push_str(&format!(
                            "{:.2} {:.2} {:.2} {:.2} re\n",
                            qx + col as f32 * m,
                            qy + qr_size - (row + 1) as f32 * m,
                            m + 0.01,
                            m + 0.01
                        ));
                    }
                }
                c.push_str("f\n");
            }
            let tx = x + qr_size + 26.0;
            let mut ty = y + card_h - 18.0;
            let mut text = |font: &str, size: f32, s: &str| {
                c.push_str(&format!(
                    "BT /{font} {size} Tf {tx:.2} {ty:.2} Td ({}) Tj ET\n",
                    pdf_text(s)
                ));
                ty -= size + 3.0;
            };
            text("F2", 7.0, shop);
            text("F2", 12.0, &t.name);
            if t.name != t.password {
                text("F1", 8.0, &format!("Pass: {}", t.password));
            }
            text("F1", 8.0, &t.profile);
            text("F1", 8.0, &t.blok);
            if t.price > 0 {
                text("F1", 8.0, &rupiah(t.price));
            }
            text("F1", 6.0, lang.t("Pindai untuk masuk", "Scan to log in"));
        }
        pages.push(c);
    }
    // objects: 1 catalog, 2 pages, 3-4 fonts, then (page, content) pairs
    let mut objs: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        String::new(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>".into(),
    ];
    let mut kids = Vec::new();
    for content in &pages {
        let page_no = objs.len() + 1;
        kids.push(format!("{page_no} 0 R"));
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {W} {H}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
            page_no + 1
        ));
        objs.push(format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ));
    }
    objs[1] = format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    );
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Prints tickets to a destination: ESC/POS for printers and files, a PDF sheet for `.pdf`.
pub async fn print_tickets(
    dest: &PrintDest,
    tickets: &[Ticket],
    paper: Paper,
    shop: &str,
    login_url: &str,
    lang: Lang,
) -> Result<usize, PrintError> {
    match dest {
        PrintDest::Pdf(p) => {
            let bytes = pdf_sheet(tickets, shop, login_url, lang);
            tokio::fs::write(p, bytes).await.map_err(|e| {
                PrintError::Io(format!(
                    "cannot write the PDF sheet {}: {e}; check the folder exists and is writable",
                    p.display()
                ))
            })?;
        }
        _ => {
            let (bytes, ends) = escpos_with_ends(tickets, paper, shop, login_url, lang);
            send_tickets(dest, &bytes, &ends, Duration::from_secs(10)).await?;
        }
    }
    Ok(tickets.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    fn t(name: &str, pass: &str) -> Ticket {
        Ticket {
            name: name.into(),
            password: pass.into(),
            profile: "10Menit".into(),
            minutes: 10,
            blok: "BLOK-A".into(),
            price: 5000,
        }
    }

    #[test]
    fn destinations() {
        assert_eq!(
            PrintDest::parse("tcp:192.168.1.50").unwrap(),
            PrintDest::Tcp("192.168.1.50:9100".into())
        );
        assert_eq!(
            PrintDest::parse("tcp://printer.local:9101").unwrap(),
            PrintDest::Tcp("printer.local:9101".into())
        );
        assert!(matches!(
            PrintDest::parse("/dev/usb/lp0").unwrap(),
            PrintDest::Path(_)
        ));
        assert!(matches!(
            PrintDest::parse("sheet.PDF").unwrap(),
            PrintDest::Pdf(_)
        ));
        assert!(PrintDest::parse("  ")
            .unwrap_err()
            .to_string()
            .contains("tcp:HOST"));
        assert!(PrintDest::parse("tcp:").is_err());
        assert!(Paper::from_mm(76)
            .unwrap_err()
            .to_string()
            .contains("58 or 80"));
    }

    #[test]
    fn money_and_links() {
        assert_eq!(rupiah(5000), "Rp5.000");
        assert_eq!(rupiah(1_250_000), "Rp1.250.000");
        assert_eq!(rupiah(0), "Rp0");
        assert_eq!(
            t("ab c", "x&y").login_link("http://h/login"),
            "http://h/login?username=ab%20c&password=x%26y"
        );
        assert_eq!(
            t("a", "a").login_link("http://h/login?dst=x"),
            "http://h/login?dst=x&username=a&password=a"
        );
    }

    #[test]
    fn escpos_ticket_layout() {
        let b = escpos(
            &[t("k3x9a2", "k3x9a2"), t("user01", "pw0001")],
            Paper::Mm58,
            "Wartel Ké",
            "http://w/login",
            Lang::Id,
        );
        assert_eq!(&b[..2], &[ESC, b'@']);
        let text = String::from_utf8_lossy(&b);
        assert!(text.contains("Wartel K?\n"), "non-ASCII is replaced");
        assert!(text.contains("k3x9a2"));
        assert!(text.contains("Pass : pw0001"));
        assert!(text.contains("Rp5.000"));
        // two cuts, two QR print commands
        let cut = [GS, b'V', 66, 0];
        assert_eq!(b.windows(4).filter(|w| *w == cut).count(), 2);
        let qr_print = [GS, b'(', b'k', 3, 0, 49, 81, 48];
        assert_eq!(b.windows(8).filter(|w| *w == qr_print).count(), 2);
        // QR store length covers the link + 3
        let link = t("k3x9a2", "k3x9a2").login_link("http://w/login");
        let pos = b
            .windows(3)
            .position(|w| w == [49, 80, 48])
            .expect("QR store command");
        assert_eq!(
            b[pos - 2] as usize + 256 * b[pos - 1] as usize,
            link.len() + 3
        );
        // 58 mm lines are at most 32 characters
        let b = escpos(
            &[t(&"x".repeat(40), "y")],
            Paper::Mm58,
            &"S".repeat(50),
            "u",
            Lang::En,
        );
        assert!(String::from_utf8_lossy(&b).contains(&format!("{}\n", "S".repeat(32))));
    }

    #[tokio::test]
    async fn tcp_printer_receives_the_bytes() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await.unwrap();
            buf
        });
        let dest = PrintDest::parse(&format!("tcp:{addr}")).unwrap();
        let tickets = [t("k3x9a2", "k3x9a2")];
        let n = print_tickets(
            &dest,
            &tickets,
            Paper::Mm80,
            "Shop",
            "http://w/login",
            Lang::Id,
        )
        .await
        .unwrap();
        assert_eq!(n, 1);
        let got = server.await.unwrap();
        assert_eq!(
            got,
            escpos(&tickets, Paper::Mm80, "Shop", "http://w/login", Lang::Id)
        );
    }

    #[tokio::test]
    async fn printer_dropping_mid_print_says_how_far_it_got() {
        let tickets: Vec<Ticket> = (0..400).map(|i| t(&format!("u{i:05}"), "pw")).collect();
        let (bytes, ends) =
            escpos_with_ends(&tickets, Paper::Mm58, "Shop", "http://w/login", Lang::Id);
        assert_eq!(ends.len(), 400);
        assert_eq!(*ends.last().unwrap(), bytes.len());
        assert_eq!(
            bytes,
            escpos(&tickets, Paper::Mm58, "Shop", "http://w/login", Lang::Id)
        );
        // The printer takes a bit over two tickets, then goes away with data unread.
        let cut_at = ends[1] + 10;
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut got = vec![0u8; cut_at];
            s.read_exact(&mut got).await.unwrap();
            // more is waiting: closing now resets the connection
            s.readable().await.unwrap();
            drop(s);
            got
        });
        let dest = PrintDest::parse(&format!("tcp:{addr}")).unwrap();
        let e = print_tickets(
            &dest,
            &tickets,
            Paper::Mm58,
            "Shop",
            "http://w/login",
            Lang::Id,
        )
        .await
        .unwrap_err();
        let got = server.await.unwrap();
        assert_eq!(got, bytes[..cut_at]);
        let PrintError::Cut {
            sent_bytes,
            total_bytes,
            tickets_sent,
            tickets: n,
            ..
        } = &e
        else {
            panic!("expected a cut-off print, got {e:?}")
        };
        assert_eq!(*total_bytes, bytes.len());
        assert_eq!(*n, 400);
        assert!(*sent_bytes >= cut_at && sent_bytes <= total_bytes, "{e:?}");
        assert_eq!(
            *tickets_sent,
            ends.iter().filter(|x| **x <= *sent_bytes).count()
        );
        let msg = e.to_string();
        assert!(msg.contains(&format!("tcp:{addr}")), "{msg}");
        assert!(msg.contains("cut the print off"), "{msg}");
        assert!(msg.contains(&total_bytes.to_string()), "{msg}");
        assert!(msg.contains("400 tickets"), "{msg}");
        assert!(msg.contains("stay recorded"), "{msg}");
    }

    #[tokio::test]
    async fn unreachable_printer_is_explained() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let e = send(
            &PrintDest::Tcp(addr.to_string()),
            b"x",
            Duration::from_secs(2),
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("did not take the print"), "{e}");
    }

    #[tokio::test]
    async fn file_and_missing_folder() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.bin");
        send(&PrintDest::Path(p.clone()), b"abc", Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"abc");
        let e = send(
            &PrintDest::Path(dir.path().join("no/such/dir/x")),
            b"abc",
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("cannot open"), "{e}");
    }

    #[test]
    fn pdf_sheet_is_well_formed() {
        let tickets: Vec<Ticket> = (0..30).map(|i| t(&format!("u{i:05}"), "pw(1)")).collect();
        let pdf = pdf_sheet(&tickets, "Wartel (Pas)", "http://w/login", Lang::Id);
        let s = String::from_utf8_lossy(&pdf);
        assert!(s.starts_with("%PDF-1.4"));
        assert!(s.trim_end().ends_with("%%EOF"));
        assert!(s.contains("/Count 2"), "30 cards need 2 pages");
        assert!(s.contains("(Wartel \\(Pas\\)) Tj"));
        // every xref offset points at its object
        let xref_at: usize = s
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(s[xref_at..].starts_with("xref"));
        let entries: Vec<&str> = s[xref_at..]
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .collect();
        assert_eq!(entries.len(), 4 + 2 * 2);
        for (i, e) in entries.iter().enumerate() {
            let off: usize = e[..10].parse().unwrap();
            assert!(s[off..].starts_with(&format!("{} 0 obj", i + 1)));
        }
        // stream lengths are right
        for part in s.split("/Length ").skip(1) {
            let len: usize = part.split(' ').next().unwrap().parse().unwrap();
            let body = part.split_once("stream\n").unwrap().1;
            assert_eq!(&body[len..len + 9], "endstream");
        }
        assert!(pdf_sheet(&[], "x", "u", Lang::Id).starts_with(b"%PDF"));
    }

    #[tokio::test]
    async fn pdf_destination_writes_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.pdf");
        print_tickets(
            &PrintDest::Pdf(p.clone()),
            &[t("a", "a")],
            Paper::Mm58,
            "S",
            "http://w/login",
            Lang::Id,
        )
        .await
        .unwrap();
        assert!(std::fs::read(&p).unwrap().starts_with(b"%PDF"));
    }
}
