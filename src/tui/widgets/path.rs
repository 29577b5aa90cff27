//! Path completion for the file prompt: Tab completes the longest common prefix of the
//! matching entries and lists them when there is more than one. Only folders and .csv/.txt
//! files are offered, since those are what intake reads.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Completion {
    /// The input after completion (unchanged when nothing matched).
    pub input: String,
    /// The names that matched, for display (folders end in '/').
    pub candidates: Vec<String>,
}

fn expand_home(input: &str) -> String {
    if let Some(rest) = input.strip_prefix("~/") {
        if let Some(home) = std::env::var_os("HOME") {
            return format!("{}/{rest}", PathBuf::from(home).display());
        }
    }
    input.to_string()
}

/// Resolves what the user typed against `base` (the working folder).
pub fn resolve(input: &str, base: &Path) -> PathBuf {
    let p = PathBuf::from(expand_home(input.trim()));
    if p.is_absolute() {
        p
    } else {
        base.join(p)
    }
}

fn offered(path: &Path, is_dir: bool, exts: &[&str]) -> bool {
    is_dir
        || path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// The list files intake reads.
pub const LIST_EXTS: [&str; 2] = ["csv", "txt"];

pub fn complete(input: &str, base: &Path) -> Completion {
    complete_with(input, base, &LIST_EXTS)
}

/// [`complete`] offering folders and files with one of `exts` (photos, say).
pub fn complete_with(input: &str, base: &Path, exts: &[&str]) -> Completion {
    let typed = expand_home(input);
    let (dir_part, prefix) = match typed.rfind('/') {
        Some(i) => (&typed[..=i], &typed[i + 1..]),
        None => ("", typed.as_str()),
    };
    let dir = if dir_part.is_empty() {
        base.to_path_buf()
    } else {
        resolve(dir_part, base)
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Completion {
            input: input.to_string(),
            candidates: vec![],
        };
    };
    let mut names: Vec<(String, bool)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_dir = e.path().is_dir();
            let hidden = name.starts_with('.') && !prefix.starts_with('.');
            (name.starts_with(prefix) && !hidden && offered(&e.path(), is_dir, exts))
                .then_some((name, is_dir))
        })
        .collect();
    names.sort();
    let candidates: Vec<String> = names
        .iter()
        .map(|(n, d)| if *d { format!("{n}/") } else { n.clone() })
        .collect();
    let completed = match candidates.as_slice() {
        [] => {
            return Completion {
                input: input.to_string(),
                candidates,
            }
        }
        [one] => one.clone(),
        many => common_prefix(many),
    };
    Completion {
        input: format!("{dir_part}{completed}"),
        candidates,
    }
}

/// `*` (any run) and `?` (one character) in a file name, as a shell would match them.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // dp over the pattern: positions of the name reachable so far
    let mut reach = vec![false; n.len() + 1];
    reach[0] = true;
    for &pc in &p {
        let mut next = vec![false; n.len() + 1];
        for i in 0..=n.len() {
            if !reach[i] {
                continue;
            }
            match pc {
                '*' => {
                    for r in next.iter_mut().skip(i) {
                        *r = true;
                    }
                }
                '?' if i < n.len() => next[i + 1] = true,
                c if i < n.len() && n[i] == c => next[i + 1] = true,
                _ => {}
            }
        }
        reach = next;
    }
    reach[n.len()]
}

/// A typed path whose last part has `*` or `?`: the matching files of that folder (sorted);
/// any other path as it is.
pub fn expand_wildcards(path: &Path) -> Vec<PathBuf> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return vec![path.to_path_buf()];
    };
    if !name.contains(['*', '?']) {
        return vec![path.to_path_buf()];
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| wildcard_match(name, &e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn common_prefix(names: &[String]) -> String {
    let first = &names[0];
    let mut len = first.len();
    for n in &names[1..] {
        len = first
            .char_indices()
            .zip(n.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map(|((i, c), _)| i + c.len_utf8())
            .unwrap_or(0)
            .min(len);
    }
    first[..len].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn completes_unique_file_and_lists_many() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("stok_nov.csv"), "x").unwrap();
        fs::write(d.path().join("stok_des.csv"), "x").unwrap();
        fs::write(d.path().join("stok_foto.jpg"), "x").unwrap();
        fs::create_dir(d.path().join("arsip")).unwrap();
        fs::write(d.path().join("arsip/list.txt"), "x").unwrap();

        let c = complete("st", d.path());
        assert_eq!(c.input, "stok_");
        assert_eq!(c.candidates, vec!["stok_des.csv", "stok_nov.csv"]);

        let c = complete("stok_n", d.path());
        assert_eq!(c.input, "stok_nov.csv");

        let c = complete("ar", d.path());
        assert_eq!(c.input, "arsip/");
        let c = complete("arsip/", d.path());
        assert_eq!(c.input, "arsip/list.txt");

        let c = complete("zzz", d.path());
        assert_eq!(c.input, "zzz");
        assert!(c.candidates.is_empty());
    }

    #[test]
    fn photo_prompt_offers_photos() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("stok_nov.csv"), "x").unwrap();
        fs::write(d.path().join("stok_foto.JPG"), "x").unwrap();
        let c = complete_with("st", d.path(), &crate::ocr::PHOTO_EXTS);
        assert_eq!(c.input, "stok_foto.JPG");
    }

    #[test]
    fn wildcards_pick_files() {
        assert!(wildcard_match("*.jpg", "0001.jpg"));
        assert!(wildcard_match("00?1.jpg", "0001.jpg"));
        assert!(!wildcard_match("*.jpg", "0001.png"));
        assert!(wildcard_match("a*b*c", "aXXbYc"));
        assert!(!wildcard_match("a*b*c", "aXXbY"));
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("b.jpg"), "x").unwrap();
        fs::write(d.path().join("a.jpg"), "x").unwrap();
        fs::write(d.path().join("c.txt"), "x").unwrap();
        let got = expand_wildcards(&d.path().join("*.jpg"));
        assert_eq!(got, vec![d.path().join("a.jpg"), d.path().join("b.jpg")]);
        assert_eq!(
            expand_wildcards(&d.path().join("c.txt")),
            vec![d.path().join("c.txt")]
        );
        assert!(expand_wildcards(&d.path().join("*.png")).is_empty());
    }

    #[test]
    fn absolute_paths_complete() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("vouchers.csv"), "x").unwrap();
        let typed = format!("{}/vou", d.path().display());
        let c = complete(&typed, Path::new("/"));
        assert_eq!(c.input, format!("{}/vouchers.csv", d.path().display()));
    }
}
