//! Commands going out and reply sentences coming in, as values. These stay inside the
//! `routeros` module: callers above the adapter use the typed operations in `ops`.

use super::proto::{decode_text, split_attr};

/// One API command: the path, `=name=value` attributes, `.proplist` and query words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub(crate) words: Vec<Vec<u8>>,
}

impl Command {
    pub fn new(path: &str) -> Self {
        Command {
            words: vec![path.as_bytes().to_vec()],
        }
    }

    pub fn path(&self) -> String {
        decode_text(&self.words[0])
    }

    /// `=name=value`; the value is bytes and may contain `=`, NUL or newlines.
    pub fn attr(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        let value = value.as_ref();
        let mut w = Vec::with_capacity(name.len() + value.len() + 2);
        w.push(b'=');
        w.extend_from_slice(name.as_bytes());
        w.push(b'=');
        w.extend_from_slice(value);
        self.words.push(w);
        self
    }

    /// Only these properties come back (essential for speed with thousands of rows).
    pub fn proplist(self, fields: &[&str]) -> Self {
        if fields.is_empty() {
            return self;
        }
        let joined = fields.join(",");
        self.attr(".proplist", joined)
    }

    pub fn query(mut self, q: &Query) -> Self {
        q.push_words(&mut self.words);
        self
    }

    /// Adds one raw word (the simulator tests use this to send malformed input).
    pub fn raw_word(mut self, word: impl Into<Vec<u8>>) -> Self {
        self.words.push(word.into());
        self
    }

    pub fn words(&self) -> &[Vec<u8>] {
        &self.words
    }
}

/// A print query, evaluated by the router as a stack machine. Build with the helpers; `And`/`Or`
/// nest as expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// `?name=value`
    Eq(String, Vec<u8>),
    /// `?<name=value`
    Lt(String, Vec<u8>),
    /// `?>name=value`
    Gt(String, Vec<u8>),
    /// `?name`: has the property.
    Has(String),
    /// `?-name`: lacks the property.
    Lacks(String),
    Not(Box<Query>),
    And(Vec<Query>),
    Or(Vec<Query>),
}

impl Query {
    pub fn eq(name: &str, value: impl AsRef<[u8]>) -> Query {
        Query::Eq(name.into(), value.as_ref().to_vec())
    }

    fn push_words(&self, out: &mut Vec<Vec<u8>>) {
        fn kv(prefix: &str, name: &str, value: &[u8]) -> Vec<u8> {
            let mut w = Vec::with_capacity(prefix.len() + name.len() + 1 + value.len());
            w.extend_from_slice(prefix.as_bytes());
            w.extend_from_slice(name.as_bytes());
            w.push(b'=');
            w.extend_from_slice(value);
            w
        }
        match self {
            Query::Eq(n, v) => out.push(kv("?=", n, v)),
            Query::Lt(n, v) => out.push(kv("?<", n, v)),
            Query::Gt(n, v) => out.push(kv("?>", n, v)),
            Query::Has(n) => out.push(format!("?{n}").into_bytes()),
            Query::Lacks(n) => out.push(format!("?-{n}").into_bytes()),
            Query::Not(q) => {
                q.push_words(out);
                out.push(b"?#!".to_vec());
            }
            Query::And(qs) | Query::Or(qs) => {
                let op: &[u8] = if matches!(self, Query::And(_)) {
                    b"?#&"
                } else {
                    b"?#|"
                };
                for q in qs {
                    q.push_words(out);
                }
                for _ in 1..qs.len() {
                    out.push(op.to_vec());
                }
            }
        }
    }
}

/// The attributes of one reply sentence, in order, as bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub(crate) attrs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Row {
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    /// The value as text (UTF-8, else Windows-1252); empty when missing.
    pub fn text(&self, name: &str) -> String {
        self.get(name).map(decode_text).unwrap_or_default()
    }

    pub fn opt_text(&self, name: &str) -> Option<String> {
        self.get(name).map(decode_text)
    }

    pub fn u64(&self, name: &str) -> u64 {
        self.get(name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// RouterOS booleans: `true`/`yes`.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some(b"true") | Some(b"yes"))
    }

    pub fn len(&self) -> usize {
        self.attrs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.attrs.iter().map(|(k, v)| (k.as_slice(), v.as_slice()))
    }
}

/// What a reply sentence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    Re,
    Done,
    Trap,
    Fatal,
    Empty,
    Other,
}

/// A parsed reply sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub kind: ReplyKind,
    pub tag: Option<Vec<u8>>,
    pub row: Row,
    /// `!fatal` carries its reason as a bare word, not an attribute.
    pub bare: Vec<Vec<u8>>,
}

impl Reply {
    pub fn parse(words: Vec<Vec<u8>>) -> Reply {
        let mut it = words.into_iter();
        let first = it.next().unwrap_or_default();
        let kind = match first.as_slice() {
            b"!re" => ReplyKind::Re,
            b"!done" => ReplyKind::Done,
            b"!trap" => ReplyKind::Trap,
            b"!fatal" => ReplyKind::Fatal,
            b"!empty" => ReplyKind::Empty,
            _ => ReplyKind::Other,
        };
        let mut tag = None;
        let mut row = Row::default();
        let mut bare = Vec::new();
        for w in it {
            if let Some(t) = w.strip_prefix(b".tag=") {
                tag = Some(t.to_vec());
            } else if let Some((k, v)) = split_attr(&w) {
                row.attrs.push((k.to_vec(), v.to_vec()));
            } else {
                bare.push(w);
            }
        }
        Reply {
            kind,
            tag,
            row,
            bare,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(c: &Command) -> Vec<String> {
        c.words.iter().map(|w| decode_text(w)).collect()
    }

    #[test]
    fn commands_build_words() {
        let c = Command::new("/ip/hotspot/user/print")
            .proplist(&["name", "uptime"])
            .query(&Query::Or(vec![
                Query::eq("profile", "10Menit"),
                Query::eq("profile", "30Menit"),
                Query::Not(Box::new(Query::Has("disabled".into()))),
            ]));
        assert_eq!(
            words(&c),
            vec![
                "/ip/hotspot/user/print",
                "=.proplist=name,uptime",
                "?=profile=10Menit",
                "?=profile=30Menit",
                "?disabled",
                "?#!",
                "?#|",
                "?#|",
            ]
        );
    }

    #[test]
    fn replies_parse_tags_and_attrs() {
        let r = Reply::parse(vec![
            b"!re".to_vec(),
            b".tag=7".to_vec(),
            b"=name=a=b".to_vec(),
            b"=disabled=true".to_vec(),
            b"=bytes-in=42".to_vec(),
        ]);
        assert_eq!(r.kind, ReplyKind::Re);
        assert_eq!(r.tag.as_deref(), Some(&b"7"[..]));
        assert_eq!(r.row.text("name"), "a=b");
        assert!(r.row.flag("disabled"));
        assert_eq!(r.row.u64("bytes-in"), 42);
        let f = Reply::parse(vec![b"!fatal".to_vec(), b"session terminated".to_vec()]);
        assert_eq!(f.kind, ReplyKind::Fatal);
        assert_eq!(f.bare, vec![b"session terminated".to_vec()]);
    }
}
