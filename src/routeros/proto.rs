//! The RouterOS API wire format: length-prefixed words, sentences ended by an empty word.
//!
//! Words are bytes, not text: RouterOS keeps comments in whatever the writer sent (often
//! Windows-1252), and a value may hold `=`, NUL or a newline. Nothing here assumes UTF-8.
//! The reader is shared by the client and the simulator. It never buffers more than
//! `max_sentence` bytes of one sentence: a longer word is read and thrown away, and the sentence
//! is marked so the caller can report it instead of running out of memory.

use tokio::io::{AsyncRead, AsyncReadExt};

/// Bytes of one sentence the reader keeps by default (16 MiB). RouterOS words are small; a
/// larger one is almost always a script source or a broken peer.
pub const DEFAULT_MAX_SENTENCE: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtoError {
    /// A length prefix started with a reserved control byte (>= 0xF8).
    ControlByte(u8),
    /// The peer closed the connection in the middle of a sentence.
    Truncated,
    Io(String),
}

impl std::fmt::Display for ProtoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProtoError::ControlByte(b) => write!(
                f,
                "protocol error: reserved control byte 0x{b:02x} where a word length was expected \
                 (is this really the RouterOS API port?)"
            ),
            ProtoError::Truncated => f.write_str("the connection closed in the middle of a reply"),
            ProtoError::Io(e) => write!(f, "connection error: {e}"),
        }
    }
}

impl std::error::Error for ProtoError {}

/// Appends the length prefix of a word of `len` bytes.
pub fn encode_len(len: usize, out: &mut Vec<u8>) {
    let len = len as u64;
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x4000 {
        out.extend_from_slice(&((len as u16) | 0x8000).to_be_bytes());
    } else if len < 0x20_0000 {
        let v = (len as u32) | 0xC0_0000;
        out.extend_from_slice(&v.to_be_bytes()[1..]);
    } else if len < 0x1000_0000 {
        out.extend_from_slice(&((len as u32) | 0xE000_0000).to_be_bytes());
    } else {
        out.push(0xF0);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// How many bytes the length prefix takes, from its first byte.
pub fn len_prefix_size(first: u8) -> Result<usize, ProtoError> {
    match first {
        b if b < 0x80 => Ok(1),
        b if b < 0xC0 => Ok(2),
        b if b < 0xE0 => Ok(3),
        b if b < 0xF0 => Ok(4),
        0xF0..=0xF7 => Ok(5),
        b => Err(ProtoError::ControlByte(b)),
    }
}

/// Decodes a complete length prefix (`prefix.len()` must be `len_prefix_size(prefix[0])`).
pub fn decode_len(prefix: &[u8]) -> Result<usize, ProtoError> {
    let first = *prefix.first().ok_or(ProtoError::Truncated)?;
    let size = len_prefix_size(first)?;
    if prefix.len() != size {
        return Err(ProtoError::Truncated);
    }
    let v = match size {
        1 => prefix[0] as u32,
        2 => u16::from_be_bytes([prefix[0], prefix[1]]) as u32 & 0x3FFF,
        3 => u32::from_be_bytes([0, prefix[0], prefix[1], prefix[2]]) & 0x1F_FFFF,
        4 => u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) & 0x0FFF_FFFF,
        _ => u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]),
    };
    Ok(v as usize)
}

pub fn encode_word(word: &[u8], out: &mut Vec<u8>) {
    encode_len(word.len(), out);
    out.extend_from_slice(word);
}

/// Encodes a whole sentence, ending it with the empty word.
pub fn encode_sentence<W: AsRef<[u8]>>(words: &[W], out: &mut Vec<u8>) {
    for w in words {
        encode_word(w.as_ref(), out);
    }
    out.push(0);
}

/// One sentence as read. `dropped` counts the bytes of words that were over the limit and were
/// discarded; their place in `words` holds an empty word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawSentence {
    pub words: Vec<Vec<u8>>,
    pub dropped: Option<usize>,
    /// The attribute names of the dropped words (`comment` for `=comment=...`), read from the
    /// first bytes of each; empty for a dropped word that is not an attribute.
    pub dropped_names: Vec<String>,
}

/// Reads sentences from any byte stream, keeping at most `max_sentence` bytes of each.
pub struct SentenceReader<R> {
    inner: R,
    max_sentence: usize,
    scratch: Vec<u8>,
}

impl<R: AsyncRead + Unpin> SentenceReader<R> {
    pub fn new(inner: R, max_sentence: usize) -> Self {
        SentenceReader {
            inner,
            max_sentence,
            scratch: Vec::new(),
        }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads one sentence. `Ok(None)` is a clean end of stream between sentences.
    pub async fn read_sentence(&mut self) -> Result<Option<RawSentence>, ProtoError> {
        let mut sentence = RawSentence::default();
        let mut kept = 0usize;
        loop {
            let len = match self.read_len(sentence.words.is_empty()).await? {
                None => return Ok(None),
                Some(l) => l,
            };
            if len == 0 {
                if sentence.words.is_empty() {
                    // RouterOS never sends empty sentences; skip stray terminators.
                    continue;
                }
                return Ok(Some(sentence));
            }
            if kept + len > self.max_sentence {
                // Keep only the head of the word, to say which property it was.
                let mut head = [0u8; 64];
                let h = len.min(head.len());
                self.inner
                    .read_exact(&mut head[..h])
                    .await
                    .map_err(io_to_proto)?;
                self.discard(len - h).await?;
                if let Some((name, _)) = split_attr(&head[..h]) {
                    sentence
                        .dropped_names
                        .push(String::from_utf8_lossy(name).into_owned());
                }
                *sentence.dropped.get_or_insert(0) += len;
                sentence.words.push(Vec::new());
                continue;
            }
            let mut word = vec![0u8; len];
            self.inner
                .read_exact(&mut word)
                .await
                .map_err(io_to_proto)?;
            kept += len;
            sentence.words.push(word);
        }
    }

    async fn read_len(&mut self, at_start: bool) -> Result<Option<usize>, ProtoError> {
        let mut first = [0u8; 1];
        match self.inner.read(&mut first).await {
            Ok(0) if at_start => return Ok(None),
            Ok(0) => return Err(ProtoError::Truncated),
            Ok(_) => {}
            Err(e) => return Err(io_to_proto(e)),
        }
        let size = len_prefix_size(first[0])?;
        let mut prefix = [0u8; 5];
        prefix[0] = first[0];
        if size > 1 {
            self.inner
                .read_exact(&mut prefix[1..size])
                .await
                .map_err(io_to_proto)?;
        }
        decode_len(&prefix[..size]).map(Some)
    }

    async fn discard(&mut self, mut len: usize) -> Result<(), ProtoError> {
        if self.scratch.is_empty() {
            self.scratch = vec![0u8; 64 * 1024];
        }
        while len > 0 {
            let n = len.min(self.scratch.len());
            self.inner
                .read_exact(&mut self.scratch[..n])
                .await
                .map_err(io_to_proto)?;
            len -= n;
        }
        Ok(())
    }
}

fn io_to_proto(e: std::io::Error) -> ProtoError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        ProtoError::Truncated
    } else {
        ProtoError::Io(e.to_string())
    }
}

/// Splits an attribute word `=name=value` on the second `=` only (values may contain `=`).
pub fn split_attr(word: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = word.strip_prefix(b"=")?;
    let eq = memchr::memchr(b'=', rest)?;
    Some((&rest[..eq], &rest[eq + 1..]))
}

/// Text of a word for people: UTF-8 when it is valid, otherwise Windows-1252 (what RouterOS
/// tools write). Never fails.
pub fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            text.into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(len: usize) -> Vec<u8> {
        let mut v = Vec::new();
        encode_len(len, &mut v);
        v
    }

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    /// The vectors of routeros-api.md (librouteros conftest.py, go-routeros proto tests).
    const VECTORS: &[(usize, &str)] = &[
        (0, "00"),
        (0x01, "01"),
        (127, "7f"),
        (0x87, "80 87"),
        (130, "80 82"),
        (0x4321, "c0 43 21"),
        (2097140, "df ff f4"),
        (0x2acdef, "e0 2a cd ef"),
        (268435440, "ef ff ff f0"),
        (0x10000080, "f0 10 00 00 80"),
    ];

    #[test]
    fn length_vectors_encode() {
        for (len, bytes) in VECTORS {
            assert_eq!(enc(*len), hex(bytes), "length {len:#x}");
        }
    }

    #[test]
    fn length_vectors_decode() {
        for (len, bytes) in VECTORS {
            let b = hex(bytes);
            assert_eq!(len_prefix_size(b[0]).unwrap(), b.len());
            assert_eq!(decode_len(&b).unwrap(), *len, "bytes {bytes}");
        }
    }

    #[test]
    fn boundaries_round_trip() {
        for len in [
            0x7f,
            0x80,
            0x3fff,
            0x4000,
            0x1f_ffff,
            0x20_0000,
            0xfff_ffff,
            0x1000_0000,
        ] {
            let b = enc(len);
            assert_eq!(decode_len(&b).unwrap(), len);
        }
    }

    #[test]
    fn short_prefixes_are_errors() {
        assert_eq!(decode_len(&[]), Err(ProtoError::Truncated));
        assert_eq!(decode_len(&[0x80]), Err(ProtoError::Truncated));
    }

    #[test]
    fn control_bytes_are_errors() {
        for b in 0xF8..=0xFF {
            assert_eq!(len_prefix_size(b), Err(ProtoError::ControlByte(b)));
        }
    }

    #[tokio::test]
    async fn sentences_round_trip_with_odd_bytes() {
        let words: Vec<Vec<u8>> = vec![
            b"!re".to_vec(),
            b"=name=a=b==c".to_vec(),
            b"=comment=nul\0and\nnewline".to_vec(),
            vec![b'x'; 0x4321],
            b"=comment=\x96 Pak D\xe9d\xe9".to_vec(),
        ];
        let mut buf = Vec::new();
        encode_sentence(&words, &mut buf);
        encode_sentence(&[b"!done"], &mut buf);
        let mut r = SentenceReader::new(&buf[..], DEFAULT_MAX_SENTENCE);
        let s = r.read_sentence().await.unwrap().unwrap();
        assert_eq!(s.words, words);
        assert_eq!(s.dropped, None);
        let s = r.read_sentence().await.unwrap().unwrap();
        assert_eq!(s.words, vec![b"!done".to_vec()]);
        assert_eq!(r.read_sentence().await.unwrap(), None);
    }

    #[tokio::test]
    async fn oversized_words_are_dropped_not_buffered() {
        let mut big = b"=comment=".to_vec();
        big.resize(5000, b'z');
        let mut buf = Vec::new();
        encode_sentence(
            &[b"!re".to_vec(), big, b"=a=b".to_vec(), vec![b'q'; 2000]],
            &mut buf,
        );
        encode_sentence(&[b"!done"], &mut buf);
        let mut r = SentenceReader::new(&buf[..], 1000);
        let s = r.read_sentence().await.unwrap().unwrap();
        assert_eq!(s.dropped, Some(7000));
        assert_eq!(s.dropped_names, vec!["comment".to_string()]);
        assert_eq!(s.words.len(), 4);
        assert_eq!(s.words[2], b"=a=b");
        // The stream stays in step: the next sentence reads normally.
        let s = r.read_sentence().await.unwrap().unwrap();
        assert_eq!(s.words, vec![b"!done".to_vec()]);
    }

    #[tokio::test]
    async fn truncated_and_control_bytes() {
        let mut r = SentenceReader::new(&[0x05, b'a', b'b'][..], 100);
        assert_eq!(r.read_sentence().await, Err(ProtoError::Truncated));
        let mut r = SentenceReader::new(&[0xF8, 0, 0][..], 100);
        assert_eq!(r.read_sentence().await, Err(ProtoError::ControlByte(0xF8)));
    }

    /// Random bytes never panic the reader: every input ends in a sentence, an error or EOF.
    #[tokio::test]
    async fn random_bytes_do_not_panic() {
        let mut x: u64 = 0x1234_5678_9abc_def0;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..2000 {
            let len = (next() % 64) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let mut r = SentenceReader::new(&bytes[..], 256);
            for _ in 0..64 {
                match r.read_sentence().await {
                    Ok(Some(s)) => {
                        let _ = crate::routeros::command::Reply::parse(s.words);
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }

    #[test]
    fn attributes_split_on_second_equals() {
        assert_eq!(split_attr(b"=name=a=b"), Some((&b"name"[..], &b"a=b"[..])));
        assert_eq!(split_attr(b"=ret="), Some((&b"ret"[..], &b""[..])));
        assert_eq!(split_attr(b".tag=1"), None);
    }

    #[test]
    fn text_falls_back_to_windows_1252() {
        assert_eq!(decode_text("Dédé".as_bytes()), "Dédé");
        assert_eq!(decode_text(b"D\xe9d\xe9 \x96 \x80"), "Dédé – €");
    }
}
