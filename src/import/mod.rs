//! Voucher lists as shops get them: CSV or TXT, from Excel or typed by hand.
//!
//! Reading is strict about the file (a binary, a 1 GB file or a 200 kB line is refused as a
//! whole, before anything is staged) and lenient about the lines (each line gets its own
//! verdict later, in the store).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::domain::voucher::RawVoucher;
use crate::i18n::Lang;

/// Larger lists than this are refused: a voucher line is ~50 bytes, so this is millions of
/// vouchers, and anything bigger is almost surely the wrong file.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// A voucher line is well under 200 characters; a much longer one means a wrong file.
pub const MAX_LINE_CHARS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    Missing(String),
    IsDirectory(String),
    Unreadable(String, String),
    Empty,
    HeaderOnly,
    TooBig { bytes: u64 },
    Binary { kind: &'static str },
    NulByte { line: u64 },
    LineTooLong { line: u64, chars: usize },
    NoColumns,
    NeedColumn(&'static str),
    NeedProduct,
    Cancelled,
}

impl ImportError {
    pub fn message(&self, lang: Lang) -> String {
        use ImportError::*;
        match (self, lang) {
            (Missing(p), Lang::Id) => format!("file {p} tidak ada: periksa nama dan foldernya."),
            (Missing(p), Lang::En) => format!("file {p} does not exist: check its name and folder."),
            (IsDirectory(p), Lang::Id) => format!("{p} adalah folder, bukan file: pilih file CSV/TXT di dalamnya."),
            (IsDirectory(p), Lang::En) => format!("{p} is a folder, not a file: pick a CSV/TXT file inside it."),
            (Unreadable(p, e), Lang::Id) => format!("file {p} tidak bisa dibaca ({e}): periksa izin file."),
            (Unreadable(p, e), Lang::En) => format!("cannot read {p} ({e}): check the file's permissions."),
            (Empty, Lang::Id) => "file kosong (0 baris voucher): pilih file yang benar.".into(),
            (Empty, Lang::En) => "the file is empty (no voucher lines): pick the right file.".into(),
            (HeaderOnly, Lang::Id) => "file hanya berisi judul kolom, tanpa voucher: isi datanya dulu.".into(),
            (HeaderOnly, Lang::En) => "the file has a header but no vouchers: fill in the data first.".into(),
            (TooBig { bytes }, Lang::Id) => format!(
                "file terlalu besar ({}, batasnya {}): pecah file menjadi beberapa bagian.",
                human_bytes(*bytes), human_bytes(MAX_FILE_BYTES)
            ),
            (TooBig { bytes }, Lang::En) => format!(
                "the file is too big ({}, the limit is {}): split it into parts.",
                human_bytes(*bytes), human_bytes(MAX_FILE_BYTES)
            ),
            (Binary { kind }, Lang::Id) => format!(
                "ini bukan daftar teks CSV/TXT ({kind}): simpan sebagai CSV dari Excel lalu impor lagi."
            ),
            (Binary { kind }, Lang::En) => format!(
                "this is not a CSV/TXT text list ({kind}): save it as CSV from Excel and import again."
            ),
            (NulByte { line }, Lang::Id) => format!(
                "baris {line} berisi byte NUL: file rusak atau bukan teks. Simpan ulang sebagai CSV."
            ),
            (NulByte { line }, Lang::En) => format!(
                "line {line} holds a NUL byte: the file is damaged or not text. Save it again as CSV."
            ),
            (LineTooLong { line, chars }, Lang::Id) => format!(
                "baris {line} panjangnya {chars} karakter (maks {MAX_LINE_CHARS}): ini bukan daftar voucher, periksa filenya."
            ),
            (LineTooLong { line, chars }, Lang::En) => format!(
                "line {line} is {chars} characters long (max {MAX_LINE_CHARS}): this is not a voucher list, check the file."
            ),
            (NoColumns, Lang::Id) => "kolom tidak ditemukan: pisahkan kolom dengan , ; tab atau |.".into(),
            (NoColumns, Lang::En) => "no columns found: separate the columns with , ; tab or |.".into(),
            (NeedColumn(c), Lang::Id) => format!(
                "kolom {c} tidak ada di judul: pakai judul seperti kode_produk, kode_voucher, serial, kadaluarsa."
            ),
            (NeedColumn(c), Lang::En) => format!(
                "the header has no {c} column: use headers such as kode_produk, kode_voucher, serial, kadaluarsa."
            ),
            (NeedProduct, Lang::Id) => "daftar ini tidak punya kolom produk: pilih produknya (--product KODE).".into(),
            (NeedProduct, Lang::En) => "this list has no product column: choose the product (--product CODE).".into(),
            (Cancelled, Lang::Id) => "impor dibatalkan: tidak ada yang disimpan.".into(),
            (Cancelled, Lang::En) => "import cancelled: nothing was saved.".into(),
        }
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for ImportError {}

pub fn human_bytes(b: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    if b as f64 >= 1024.0 * MB {
        format!("{:.1} GB", b as f64 / (1024.0 * MB))
    } else if b as f64 >= MB {
        format!("{:.0} MB", b as f64 / MB)
    } else {
        format!("{} kB", b.div_ceil(1024))
    }
}

/// A list read from a file, before any rule.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub encoding: &'static str,
    pub delimiter: char,
    pub has_header: bool,
    /// Whether the list has an expiry column at all.
    pub has_expiry: bool,
    /// (line number in the file, values). Blank lines are skipped.
    pub lines: Vec<(u64, RawVoucher)>,
}

/// Reads and parses a voucher list file. `product` is used when the list has no product column.
pub fn read_file(
    path: &Path,
    product: Option<&str>,
    cancel: &AtomicBool,
) -> Result<Parsed, ImportError> {
    parse_bytes(&read_bytes(path)?, product, cancel)
}

/// The file's bytes, after refusing what is not a file or is far too big.
fn read_bytes(path: &Path) -> Result<Vec<u8>, ImportError> {
    let shown = path.display().to_string();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ImportError::Missing(shown))
        }
        Err(e) => return Err(ImportError::Unreadable(shown, e.to_string())),
    };
    if meta.is_dir() {
        return Err(ImportError::IsDirectory(shown));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(ImportError::TooBig { bytes: meta.len() });
    }
    std::fs::read(path).map_err(|e| ImportError::Unreadable(shown, e.to_string()))
}

/// Magic numbers of files people pick by mistake.
fn sniff_binary(b: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "Excel .xlsx / zip"),
        (b"\xD0\xCF\x11\xE0", "Excel .xls"),
        (b"%PDF", "PDF"),
        (b"\x89PNG", "PNG image"),
        (b"\xFF\xD8\xFF", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"\x7FELF", "program"),
        (b"MZ", "Windows program"),
        (b"SQLite format 3", "SQLite database"),
        (b"\x1F\x8B", "gzip archive"),
    ];
    MAGIC
        .iter()
        .find(|(m, _)| b.starts_with(m))
        .map(|(_, k)| *k)
}

/// UTF-16 without a BOM shows up as a zero in every other byte.
fn utf16_without_bom(b: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let n = b.len().min(4096) & !1;
    if n < 4 {
        return None;
    }
    let (mut even0, mut odd0) = (0, 0);
    for i in (0..n).step_by(2) {
        even0 += (b[i] == 0) as usize;
        odd0 += (b[i + 1] == 0) as usize;
    }
    let half = n / 2;
    if odd0 * 10 >= half * 9 && even0 * 10 <= half {
        Some(encoding_rs::UTF_16LE)
    } else if even0 * 10 >= half * 9 && odd0 * 10 <= half {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// Decodes: UTF-8 (with or without BOM), UTF-16 LE/BE (BOM, or the zero-byte pattern), and
/// Windows-1252 for anything else (old Excel exports).
pub fn decode(b: &[u8]) -> Result<(String, &'static str), ImportError> {
    if let Some(kind) = sniff_binary(b) {
        return Err(ImportError::Binary { kind });
    }
    let (enc, body): (&'static encoding_rs::Encoding, &[u8]) =
        if let Some(rest) = b.strip_prefix(b"\xEF\xBB\xBF") {
            (encoding_rs::UTF_8, rest)
        } else if let Some(rest) = b.strip_prefix(b"\xFF\xFE") {
            (encoding_rs::UTF_16LE, rest)
        } else if let Some(rest) = b.strip_prefix(b"\xFE\xFF") {
            (encoding_rs::UTF_16BE, rest)
        } else if let Some(enc) = utf16_without_bom(b) {
            (enc, b)
        } else {
            (encoding_rs::UTF_8, b)
        };
    let name = match (enc.name(), b.len() != body.len()) {
        ("UTF-8", true) => "UTF-8 BOM",
        ("UTF-8", false) => "UTF-8",
        ("UTF-16LE", _) => "UTF-16LE",
        ("UTF-16BE", _) => "UTF-16BE",
        _ => "windows-1252",
    };
    if enc == encoding_rs::UTF_8 {
        match std::str::from_utf8(body) {
            Ok(s) => return Ok((s.to_owned(), name)),
            Err(_) => {
                let (s, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(body);
                return Ok((s.into_owned(), "windows-1252"));
            }
        }
    }
    let (s, had_errors) = enc.decode_without_bom_handling(body);
    if had_errors {
        return Err(ImportError::Binary {
            kind: "invalid UTF-16",
        });
    }
    Ok((s.into_owned(), name))
}

/// Refuses NULs, binary noise and overlong lines, naming the first bad line.
fn check_text(text: &str) -> Result<(), ImportError> {
    let bytes = text.as_bytes();
    // Line lengths: a line's bytes bound its characters, so characters are counted only for
    // the rare line that is long in bytes.
    let mut start = 0usize;
    for (i, end) in memchr::memchr_iter(b'\n', bytes)
        .chain(std::iter::once(bytes.len()))
        .enumerate()
    {
        if end - start > MAX_LINE_CHARS {
            let chars = text[start..end].chars().count();
            if chars > MAX_LINE_CHARS {
                return Err(ImportError::LineTooLong {
                    line: i as u64 + 1,
                    chars,
                });
            }
        }
        start = end + 1;
    }
    let is_control = |c: u8| (c < 0x20 && c != b'\t' && c != b'\r' && c != b'\n') || c == 0x7f;
    if !bytes.iter().any(|&c| is_control(c)) {
        return Ok(());
    }
    let controls = bytes.iter().filter(|&&c| is_control(c)).count();
    if controls > 16 && controls * 50 > bytes.len() {
        return Err(ImportError::Binary {
            kind: "binary data",
        });
    }
    if let Some(at) = memchr::memchr(0, bytes) {
        let line = memchr::memchr_iter(b'\n', &bytes[..at]).count() as u64 + 1;
        return Err(ImportError::NulByte { line });
    }
    Err(ImportError::Binary {
        kind: "control characters",
    })
}

const DELIMS: [char; 4] = [',', ';', '\t', '|'];

/// Counts each candidate outside quotes per line and picks the one most lines agree on.
pub fn sniff_delimiter(text: &str) -> Option<char> {
    let sample: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(30)
        .collect();
    let mut best: Option<(usize, usize, char)> = None;
    for d in DELIMS {
        let counts: Vec<usize> = sample
            .iter()
            .map(|l| {
                let mut inq = false;
                l.chars()
                    .filter(|&c| {
                        if c == '"' {
                            inq = !inq;
                        }
                        c == d && !inq
                    })
                    .count()
            })
            .collect();
        // The most common non-zero count, and how many lines have it.
        let mut freq = std::collections::HashMap::new();
        for &c in counts.iter().filter(|&&c| c > 0) {
            *freq.entry(c).or_insert(0usize) += 1;
        }
        if let Some((&count, &lines)) = freq.iter().max_by_key(|(c, n)| (**n, **c)) {
            let cand = (lines, count, d);
            if best.is_none_or(|b| (cand.0, cand.1) > (b.0, b.1)) {
                best = Some(cand);
            }
        }
    }
    best.map(|b| b.2)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Product,
    Code,
    Serial,
    Expiry,
}

/// Header names seen in the wild, compared lower-case without spaces, dots, dashes, underscores.
fn column_of(name: &str) -> Option<Col> {
    let key: String = name
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '_' | '-' | '\u{feff}'))
        .flat_map(|c| c.to_lowercase())
        .collect();
    Some(match key.as_str() {
        "kodeproduk" | "product" | "productcode" | "produk" | "kdproduk" => Col::Product,
        "kodevoucher" | "vouchercode" | "kode" | "pin" | "voucher" | "kodegosok" => Col::Code,
        "serial" | "serialnumber" | "sn" | "nomorseri" | "noseri" | "serialno" | "nomorserial" => {
            Col::Serial
        }
        "kadaluarsa" | "tglkadaluarsa" | "expiry" | "expirydate" | "exp" | "kadaluwarsa"
        | "tglkadaluwarsa" | "expired" | "expdate" => Col::Expiry,
        _ => return None,
    })
}

/// Parses decoded bytes into lines of values.
/// Parses a whole list into memory (small lists, tests, the demo).
pub fn parse_bytes(
    bytes: &[u8],
    product: Option<&str>,
    cancel: &AtomicBool,
) -> Result<Parsed, ImportError> {
    let mut reader = ListReader::open(bytes, product)?;
    let mut lines = Vec::with_capacity(reader.estimated_lines());
    while let Some(l) = reader.next_line()? {
        if lines.len() % 4096 == 4095 && cancel.load(Ordering::Relaxed) {
            return Err(ImportError::Cancelled);
        }
        lines.push(l);
    }
    if lines.is_empty() {
        return Err(ImportError::HeaderOnly);
    }
    Ok(Parsed {
        encoding: reader.encoding,
        delimiter: reader.delimiter,
        has_header: reader.has_header,
        has_expiry: reader.has_expiry,
        lines,
    })
}

/// Reads a list line by line, after the whole-file checks, so big lists can be staged while
/// they are read.
pub struct ListReader {
    pub encoding: &'static str,
    pub delimiter: char,
    pub has_header: bool,
    /// Whether the list has an expiry column at all.
    pub has_expiry: bool,
    rdr: csv::Reader<std::io::Cursor<Vec<u8>>>,
    layout: Vec<Option<Col>>,
    product: Option<String>,
    /// A header-less list's first line, read to learn the layout and not yet handed out.
    first: Option<csv::StringRecord>,
    rec: csv::StringRecord,
    seen_byte: usize,
    seen_line: u64,
    lines_total: usize,
}

impl ListReader {
    /// Decodes and checks the whole file, finds the separator and the columns.
    pub fn open(bytes: &[u8], product: Option<&str>) -> Result<ListReader, ImportError> {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ImportError::Empty);
        }
        let (text, encoding) = decode(bytes)?;
        check_text(&text)?;
        if text.trim().is_empty() {
            return Err(ImportError::Empty);
        }
        let delimiter = sniff_delimiter(&text).ok_or(ImportError::NoColumns)?;
        let lines_total = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter as u8)
            .has_headers(false)
            .flexible(true)
            .from_reader(std::io::Cursor::new(text.into_bytes()));
        let mut first = csv::StringRecord::new();
        loop {
            if !rdr
                .read_record(&mut first)
                .map_err(|_| ImportError::NoColumns)?
            {
                return Err(ImportError::Empty);
            }
            if !first.iter().all(|f| f.trim().is_empty()) {
                break;
            }
        }
        let header: Vec<Option<Col>> = first.iter().map(|f| column_of(f.trim())).collect();
        let has_header = header.iter().flatten().count() >= 2;
        let layout: Vec<Option<Col>> = if has_header {
            for (col, name) in [(Col::Code, "kode_voucher"), (Col::Serial, "serial")] {
                if !header.contains(&Some(col)) {
                    return Err(ImportError::NeedColumn(name));
                }
            }
            header
        } else {
            // No header: `code | serial`, `product, code, serial[, expiry]` or
            // `code, serial, expiry`.
            let first_is_number = first.get(0).map(str::trim).is_some_and(|f| {
                f.chars().any(|c| c.is_ascii_digit()) && !f.chars().any(|c| c.is_ascii_alphabetic())
            });
            match (first.len(), first_is_number) {
                (0 | 1, _) => return Err(ImportError::NoColumns),
                (2, _) => vec![Some(Col::Code), Some(Col::Serial)],
                (3, true) => vec![Some(Col::Code), Some(Col::Serial), Some(Col::Expiry)],
                (3, false) => vec![Some(Col::Product), Some(Col::Code), Some(Col::Serial)],
                (_, true) => vec![Some(Col::Code), Some(Col::Serial), Some(Col::Expiry)],
                (_, false) => vec![
                    Some(Col::Product),
                    Some(Col::Code),
                    Some(Col::Serial),
                    Some(Col::Expiry),
                ],
            }
        };
        let has_expiry = layout.contains(&Some(Col::Expiry));
        let product = product
            .map(|p| p.trim().to_uppercase())
            .filter(|p| !p.is_empty());
        if !layout.contains(&Some(Col::Product)) && product.is_none() {
            return Err(ImportError::NeedProduct);
        }
        let mut reader = ListReader {
            encoding,
            delimiter,
            has_header,
            has_expiry,
            rdr,
            layout,
            product,
            first: None,
            rec: csv::StringRecord::new(),
            seen_byte: 0,
            seen_line: 1,
            lines_total,
        };
        if !has_header {
            reader.first = Some(first);
        }
        Ok(reader)
    }

    /// Lines in the file, blank ones included: for progress.
    pub fn estimated_lines(&self) -> usize {
        self.lines_total
    }

    /// The csv reader does not count the blank lines it skips, so line numbers come from byte
    /// offsets: newlines are counted forward from the previous record.
    fn line_of(&mut self, rec: &csv::StringRecord) -> u64 {
        let tb = self.rdr.get_ref().get_ref();
        let mut at = rec
            .position()
            .map_or(0, |p| p.byte() as usize)
            .min(tb.len());
        // The position may point at the blank lines skipped before the record.
        while at < tb.len() && matches!(tb[at], b'\r' | b'\n') {
            at += 1;
        }
        if at >= self.seen_byte {
            self.seen_line += memchr::memchr_iter(b'\n', &tb[self.seen_byte..at]).count() as u64;
            self.seen_byte = at;
        }
        self.seen_line
    }

    fn raw_of(&self, rec: &csv::StringRecord) -> RawVoucher {
        let mut raw = RawVoucher::default();
        for (i, col) in self.layout.iter().enumerate() {
            let Some(col) = col else { continue };
            let v = rec.get(i).map(|s| trim(s).to_owned());
            match col {
                Col::Product => raw.product = v,
                Col::Code => raw.code = v,
                Col::Serial => raw.serial = v,
                Col::Expiry => raw.expiry = v,
            }
        }
        if raw.product.as_deref().is_none_or(|p| p.is_empty()) {
            if let Some(p) = &self.product {
                raw.product = Some(p.clone());
            }
        }
        raw
    }

    /// The next non-blank line with its line number in the file.
    pub fn next_line(&mut self) -> Result<Option<(u64, RawVoucher)>, ImportError> {
        if let Some(first) = self.first.take() {
            let line = self.line_of(&first);
            return Ok(Some((line, self.raw_of(&first))));
        }
        let mut rec = std::mem::take(&mut self.rec);
        let out = loop {
            if !self
                .rdr
                .read_record(&mut rec)
                .map_err(|_| ImportError::NoColumns)?
            {
                break None;
            }
            if !rec.iter().all(|f| f.trim().is_empty()) {
                let line = self.line_of(&rec);
                break Some((line, self.raw_of(&rec)));
            }
        };
        self.rec = rec;
        Ok(out)
    }
}

/// `str::trim`, without its Unicode scan for the usual value that starts and ends with a
/// visible ASCII character.
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&a), Some(&z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Opens a list file for streaming, with the same whole-file refusals as [`read_file`].
pub fn open_file(path: &Path, product: Option<&str>) -> Result<ListReader, ImportError> {
    let bytes = read_bytes(path)?;
    ListReader::open(&bytes, product)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(b: &[u8], p: Option<&str>) -> Result<Parsed, ImportError> {
        parse_bytes(b, p, &AtomicBool::new(false))
    }

    #[test]
    fn decodes_each_encoding() {
        assert_eq!(decode(b"a,b").unwrap().1, "UTF-8");
        assert_eq!(
            decode(b"\xEF\xBB\xBFa,b").unwrap(),
            ("a,b".into(), "UTF-8 BOM")
        );
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a;é".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert_eq!(decode(&le).unwrap(), ("a;é".into(), "UTF-16LE"));
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("a;é".encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(decode(&be).unwrap(), ("a;é".into(), "UTF-16BE"));
        let nobom: Vec<u8> = "kode,serial\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(decode(&nobom).unwrap().1, "UTF-16LE");
        // 0xE9 is é in Windows-1252 and invalid alone in UTF-8.
        assert_eq!(decode(b"caf\xE9").unwrap(), ("café".into(), "windows-1252"));
    }

    #[test]
    fn sniffs_delimiters() {
        assert_eq!(sniff_delimiter("a,b,c\n1,2,3"), Some(','));
        assert_eq!(sniff_delimiter("a;b;c\n1;2,5;3"), Some(';'));
        assert_eq!(sniff_delimiter("a\tb\n1\t2"), Some('\t'));
        assert_eq!(sniff_delimiter("1234 5678 | 99\n2222 | 33"), Some('|'));
        assert_eq!(sniff_delimiter("\"a,b\";c\n\"x,y\";z"), Some(';'));
        assert_eq!(sniff_delimiter("abc\ndef"), None);
    }

    #[test]
    fn header_aliases() {
        for h in [
            "kode_produk",
            "Kode Produk",
            "product",
            "product_code",
            "PRODUK",
        ] {
            assert_eq!(column_of(h), Some(Col::Product), "{h}");
        }
        for h in [
            "kode_voucher",
            "Kode Voucher",
            "voucher_code",
            "kode",
            "pin",
        ] {
            assert_eq!(column_of(h), Some(Col::Code), "{h}");
        }
        for h in [
            "serial",
            "Serial Number",
            "sn",
            "nomor_seri",
            "no_seri",
            "No. Seri",
        ] {
            assert_eq!(column_of(h), Some(Col::Serial), "{h}");
        }
        for h in [
            "kadaluarsa",
            "Tgl Kadaluarsa",
            "expiry",
            "expiry_date",
            "exp",
            "Tgl. Kadaluarsa",
        ] {
            assert_eq!(column_of(h), Some(Col::Expiry), "{h}");
        }
        assert_eq!(column_of("harga"), None);
    }

    #[test]
    fn plain_list_needs_a_product() {
        let b = b"2321 3482 8773 2553 | 769347833724\n";
        assert_eq!(parse(b, None).unwrap_err(), ImportError::NeedProduct);
        let p = parse(b, Some("tselvd5")).unwrap();
        assert!(!p.has_header && !p.has_expiry);
        assert_eq!(p.lines[0].1.product.as_deref(), Some("TSELVD5"));
        assert_eq!(p.lines[0].1.code.as_deref(), Some("2321 3482 8773 2553"));
    }

    #[test]
    fn header_only_empty_and_blank_lines() {
        assert_eq!(parse(b"", None).unwrap_err(), ImportError::Empty);
        assert_eq!(parse(b"\n \r\n", None).unwrap_err(), ImportError::Empty);
        assert_eq!(
            parse(b"kode_produk,kode_voucher,serial,kadaluarsa\n\n", None).unwrap_err(),
            ImportError::HeaderOnly
        );
        let p = parse(b"produk,kode,sn\n\nXLVD5,1,2\n\nXLVD5,3,4\n", None).unwrap();
        assert_eq!(p.lines.iter().map(|l| l.0).collect::<Vec<_>>(), vec![3, 5]);
    }

    #[test]
    fn missing_required_column_is_named() {
        assert_eq!(
            parse(b"produk,kode,harga\nX,1,2\n", None).unwrap_err(),
            ImportError::NeedColumn("serial")
        );
    }

    #[test]
    fn refuses_binary_nul_and_long_lines() {
        assert!(matches!(
            parse(b"PK\x03\x04xxxx", None),
            Err(ImportError::Binary { .. })
        ));
        assert!(matches!(
            parse(b"\x89PNG\r\n\x1a\n\0\0", None),
            Err(ImportError::Binary { .. })
        ));
        let noise: Vec<u8> = (0..4000u32).map(|i| (i * 7 % 32) as u8).collect();
        assert!(matches!(
            parse(&noise, None),
            Err(ImportError::Binary { .. })
        ));
        assert_eq!(
            parse(b"produk,kode,sn\nX,1\0,2\n", None).unwrap_err(),
            ImportError::NulByte { line: 2 }
        );
        let mut long = b"produk,kode,sn\nX,1,2\n".to_vec();
        long.extend(std::iter::repeat_n(b'7', 200 * 1024));
        assert!(matches!(
            parse(&long, None).unwrap_err(),
            ImportError::LineTooLong {
                line: 3,
                chars: 204800
            }
        ));
    }

    #[test]
    fn cancel_stops_reading() {
        let mut b = b"produk,kode,sn\n".to_vec();
        for i in 0..10_000 {
            b.extend(format!("X,{i},{i}\n").as_bytes());
        }
        assert_eq!(
            parse_bytes(&b, None, &AtomicBool::new(true)).unwrap_err(),
            ImportError::Cancelled
        );
    }

    #[test]
    fn messages_in_both_languages() {
        let all = [
            ImportError::Missing("x".into()),
            ImportError::IsDirectory("x".into()),
            ImportError::Unreadable("x".into(), "e".into()),
            ImportError::Empty,
            ImportError::HeaderOnly,
            ImportError::TooBig { bytes: 1 << 30 },
            ImportError::Binary { kind: "PNG" },
            ImportError::NulByte { line: 3 },
            ImportError::LineTooLong {
                line: 3,
                chars: 9999,
            },
            ImportError::NoColumns,
            ImportError::NeedColumn("serial"),
            ImportError::NeedProduct,
            ImportError::Cancelled,
        ];
        for e in all {
            assert_ne!(e.message(Lang::Id), e.message(Lang::En));
            assert!(e.message(Lang::En).contains(':'), "{e}");
        }
        assert!(ImportError::TooBig { bytes: 1 << 30 }
            .to_string()
            .contains("1.0 GB"));
    }
}
