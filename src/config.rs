//! Configuration: one TOML file, then environment overrides.
//!
//! Lookup order for the file: `--config`, then `KONTER_CONFIG`, then the platform config dir
//! (`~/.config/konter/config.toml` on Linux). A missing file at the platform path is fine (all
//! defaults); a missing file that was named explicitly is an error.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub shop: ShopConfig,
    pub stock: StockConfig,
    pub store: StoreConfig,
    pub otomax: OtomaxConfig,
    pub router: RouterConfig,
    pub hotspot: HotspotConfig,
    pub ui: UiConfig,
    pub serve: ServeConfig,
    pub ocr: OcrConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShopConfig {
    /// Shown in the title and on receipts.
    pub name: String,
    /// Who is working: recorded as `created_by` on every batch.
    pub user: String,
    pub language: Lang,
}

impl Default for ShopConfig {
    fn default() -> Self {
        ShopConfig {
            name: "Konter".into(),
            user: default_user(),
            language: Lang::Id,
        }
    }
}

fn default_user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "kasir".into())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StockConfig {
    /// F3 counts vouchers that expire within this many days.
    pub expiring_days: u32,
    /// Below this many vouchers in stock a product is marked low.
    pub low_stock: u32,
}

impl Default for StockConfig {
    fn default() -> Self {
        StockConfig {
            expiring_days: 30,
            low_stock: 10,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Where konter.db and the logs live. Empty: the platform data dir.
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtomaxConfig {
    /// ADO-style connection string. Empty: the embedded SQLite ledger stands in for OtoMaX.
    pub url: String,
    /// Accept the server's certificate without checking it (self-signed SQLEXPRESS).
    pub trust_cert: bool,
    /// "" (as the URL's Encrypt says), "required", "login" (TLS for the login only) or
    /// "plaintext" (no TLS at all; a test server on loopback only).
    pub encrypt: String,
    /// Seconds to wait for the TCP connection and the login; 0: the URL's Connect Timeout (15).
    pub connect_timeout_s: u64,
    /// Seconds to wait for each answer of the server; 0: the URL's Command Timeout (30).
    pub command_timeout_s: u64,
    /// Connection attempts after the first one fails, with growing pauses between them.
    pub retries: u32,
    /// Seconds between the TUI's background checks (`SELECT 1`) of the SQL Server connection;
    /// 0: the default (20).
    pub probe_s: u64,
    pub vouchers: crate::otomax::mapping::VoucherMapping,
    pub produk: crate::otomax::mapping::ProdukMapping,
    pub transaksi: crate::otomax::mapping::TransaksiMapping,
}

impl Default for OtomaxConfig {
    fn default() -> Self {
        OtomaxConfig {
            url: String::new(),
            trust_cert: false,
            encrypt: String::new(),
            connect_timeout_s: 0,
            command_timeout_s: 0,
            retries: 2,
            probe_s: 20,
            vouchers: Default::default(),
            produk: Default::default(),
            transaksi: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouterConfig {
    /// host:port of the RouterOS API. Empty: no router.
    pub addr: String,
    pub user: String,
    pub password: String,
    /// api-ssl (port 8729) over TLS instead of the plain API.
    pub tls: bool,
    /// PEM file with the router's certificate (or its CA) to trust for api-ssl.
    pub tls_ca_file: Option<PathBuf>,
    /// Accept any api-ssl certificate (self-signed routers on a trusted LAN only).
    pub tls_insecure: bool,
    /// Seconds to wait for the router before giving up on a reply (0: the default, 15).
    pub timeout_secs: u64,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            addr: String::new(),
            user: "admin".into(),
            password: String::new(),
            tls: false,
            tls_ca_file: None,
            tls_insecure: false,
            timeout_secs: 15,
        }
    }
}

/// Hotspot vouchers: the profiles konter sells, blok names, generation and printing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HotspotConfig {
    /// Profiles offered by generate (they must exist on the router).
    pub profiles: Vec<HotspotProfile>,
    /// Blok letters the cashier may generate for.
    pub blok_letters: String,
    /// Canonical blok -> canonical blok, e.g. "BLOK-W" = "BLOK-WARTEL".
    pub blok_aliases: std::collections::BTreeMap<String, String>,
    /// "vc": password = user name; "up": a separate password.
    pub mode: crate::domain::hotspot::VoucherMode,
    /// Length of generated user names (4 to 12).
    pub name_len: usize,
    /// The hotspot login page; QR codes on printed vouchers point here.
    pub login_url: String,
    /// Default print destination for `--print` without a value and the F4 `p` key.
    pub printer: String,
    /// Thermal paper width in mm: 58 or 80.
    pub paper_mm: u32,
    /// Seconds between background syncs while the TUI runs.
    pub sync_interval_s: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HotspotProfile {
    pub name: String,
    /// limit-uptime of its vouchers, and the S of `Blok-<L><S>`.
    pub minutes: u32,
    /// Whole rupiah.
    pub price: i64,
}

impl Default for HotspotConfig {
    fn default() -> Self {
        HotspotConfig {
            profiles: vec![
                HotspotProfile {
                    name: "10Menit".into(),
                    minutes: 10,
                    price: 5000,
                },
                HotspotProfile {
                    name: "30Menit".into(),
                    minutes: 30,
                    price: 20000,
                },
            ],
            blok_letters: "ABCDEF".into(),
            blok_aliases: Default::default(),
            mode: Default::default(),
            name_len: 6,
            login_url: "http://wartel.net/login".into(),
            printer: String::new(),
            paper_mm: 58,
            sync_interval_s: 10,
        }
    }
}

impl HotspotConfig {
    /// The configured profile with this name (any case).
    pub fn profile(&self, name: &str) -> Option<&HotspotProfile> {
        self.profiles
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name.trim()))
    }

    /// Aliases and prices for the hotspot rules.
    pub fn rules(&self) -> crate::store::hotspot::HotspotRules {
        use crate::domain::hotspot::{profile_key, PriceBook};
        let mut prices = PriceBook::default();
        for p in &self.profiles {
            prices.profile_prices.insert(profile_key(&p.name), p.price);
            match p.minutes {
                10 if prices.price_10 == 0 => prices.price_10 = p.price,
                30 if prices.price_30 == 0 => prices.price_30 = p.price,
                _ => {}
            }
        }
        crate::store::hotspot::HotspotRules {
            blok_aliases: self.blok_aliases.clone(),
            prices,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    /// Frames per second at most; renders in between are coalesced.
    pub max_fps: u32,
    /// Mouse capture breaks text selection over SSH, so it is off unless asked for.
    pub mouse: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            max_fps: 30,
            mouse: false,
        }
    }
}

/// `konter serve --photos`: the read-only photo endpoint for a chat bot.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// Address the endpoint listens on (`--bind` overrides it).
    pub bind: String,
    /// Bearer token the caller must send (at least 16 characters); KONTER_SERVE_TOKEN overrides
    /// it. A secret: never printed or logged.
    pub token: String,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            bind: "127.0.0.1:8088".into(),
            token: String::new(),
        }
    }
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("bind", &self.bind)
            .field("token", &redacted(&self.token))
            .finish()
    }
}

/// What a secret shows in debug output: only whether it is set.
fn redacted(secret: &str) -> &'static str {
    if secret.is_empty() {
        ""
    } else {
        "<redacted>"
    }
}

/// Voucher photos.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct OcrConfig {
    pub ai: AiConfig,
}

/// The optional AI extractor: an OpenAI-compatible vision model whose reading is merged with the
/// OCR result (the OCR result wins where the model fails or breaks a product rule).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AiConfig {
    /// Off by default; `konter ocr vouchers --ai` asks for it once.
    pub enabled: bool,
    /// Base URL of the OpenAI-compatible API, up to and including `/v1`.
    pub base_url: String,
    /// Vision model name, e.g. "llava" or "qwen2.5vl" on Ollama.
    pub model: String,
    /// Bearer key; empty: no Authorization header. KONTER_AI_KEY overrides it. A secret.
    pub api_key: String,
    /// Seconds to wait for the whole answer; then the OCR result stands alone.
    pub timeout_s: u64,
    /// The longer side of the photo sent to the model, in pixels.
    pub max_side: u32,
}

impl Default for AiConfig {
    fn default() -> Self {
        AiConfig {
            enabled: false,
            base_url: "http://127.0.0.1:11434/v1".into(),
            model: "qwen2.5vl".into(),
            api_key: String::new(),
            timeout_s: 60,
            max_side: 1600,
        }
    }
}

impl std::fmt::Debug for AiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AiConfig")
            .field("enabled", &self.enabled)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &redacted(&self.api_key))
            .field("timeout_s", &self.timeout_s)
            .field("max_side", &self.max_side)
            .finish()
    }
}

#[derive(Debug)]
pub enum ConfigError {
    NotFound(PathBuf),
    Read(PathBuf, std::io::Error),
    Parse(PathBuf, String),
    Insecure(PathBuf, u32),
    Env(String),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::NotFound(p) => write!(
                f,
                "config file {} not found; copy config.example.toml there or drop --config",
                p.display()
            ),
            ConfigError::Read(p, e) => write!(f, "cannot read config file {}: {e}", p.display()),
            ConfigError::Parse(p, e) => write!(f, "config file {} is not valid: {e}", p.display()),
            ConfigError::Insecure(p, mode) => write!(
                f,
                "config file {} holds a password or token but can be read by others (mode {:o}); \
                 run `chmod 600 {}` and start again",
                p.display(),
                mode & 0o777,
                p.display()
            ),
            ConfigError::Env(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Where the config came from, for `konter --help`-style diagnostics and the log.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
}

pub fn platform_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("id", "konter", "konter")
        .map(|d| d.config_dir().join("config.toml"))
}

pub fn platform_data_dir() -> PathBuf {
    directories::ProjectDirs::from("id", "konter", "konter")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".konter"))
}

/// Reads the environment through a function so tests need not touch the process environment.
pub fn load(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, ConfigError> {
    let (path, required) = match explicit {
        Some(p) => (Some(p.to_path_buf()), true),
        None => match env("KONTER_CONFIG").filter(|s| !s.is_empty()) {
            Some(p) => (Some(PathBuf::from(p)), true),
            None => (platform_config_path(), false),
        },
    };
    let mut config = match &path {
        Some(p) if p.exists() => read_file(p)?,
        Some(p) if required => return Err(ConfigError::NotFound(p.clone())),
        _ => Config::default(),
    };
    apply_env(&mut config, env)?;
    Ok(Loaded {
        config,
        path: path.filter(|p| p.exists()),
    })
}

pub fn read_file(path: &Path) -> Result<Config, ConfigError> {
    if path.is_dir() {
        return Err(ConfigError::Read(
            path.to_path_buf(),
            std::io::Error::other("it is a directory"),
        ));
    }
    let text = fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_path_buf(), e))?;
    let config: Config =
        toml::from_str(&text).map_err(|e| ConfigError::Parse(path.to_path_buf(), e.to_string()))?;
    if config.holds_secret() {
        check_private(path)?;
    }
    Ok(config)
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(path).map_err(|e| ConfigError::Read(path.to_path_buf(), e))?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(ConfigError::Insecure(path.to_path_buf(), mode));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), ConfigError> {
    Ok(())
}

fn apply_env(config: &mut Config, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    if let Some(v) = env("KONTER_DATA_DIR").filter(|s| !s.is_empty()) {
        config.store.data_dir = Some(PathBuf::from(v));
    }
    if let Some(v) = env("KONTER_OTOMAX_URL") {
        config.otomax.url = v;
    }
    if let Some(v) = env("KONTER_ROUTER_ADDR") {
        config.router.addr = v;
    }
    if let Some(v) = env("KONTER_ROUTER_USER") {
        config.router.user = v;
    }
    if let Some(v) = env("KONTER_ROUTER_PASSWORD") {
        config.router.password = v;
    }
    if let Some(v) = env("KONTER_SERVE_TOKEN").filter(|s| !s.is_empty()) {
        config.serve.token = v;
    }
    if let Some(v) = env("KONTER_AI_KEY").filter(|s| !s.is_empty()) {
        config.ocr.ai.api_key = v;
    }
    if let Some(v) = env("KONTER_LANG").filter(|s| !s.is_empty()) {
        config.shop.language = match v.to_ascii_lowercase().as_str() {
            "id" => Lang::Id,
            "en" => Lang::En,
            other => {
                return Err(ConfigError::Env(format!(
                    "KONTER_LANG={other} is not a language konter knows; use id or en"
                )))
            }
        };
    }
    Ok(())
}

impl Config {
    /// A password, token or key in the file (not from the environment) makes the file secret.
    pub fn holds_secret(&self) -> bool {
        !self.router.password.is_empty()
            || url_has_password(&self.otomax.url)
            || !self.serve.token.is_empty()
            || !self.ocr.ai.api_key.is_empty()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.store
            .data_dir
            .clone()
            .unwrap_or_else(platform_data_dir)
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir().join("konter.db")
    }
}

fn url_has_password(url: &str) -> bool {
    url.split(';').any(|part| {
        let mut kv = part.splitn(2, '=');
        let k = kv.next().unwrap_or("").trim().to_ascii_lowercase();
        let v = kv.next().unwrap_or("").trim();
        matches!(k.as_str(), "password" | "pwd") && !v.is_empty()
    })
}

/// The process environment, for callers outside tests.
pub fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn example_config_parses() {
        let text = include_str!("../config.example.toml");
        let c: Config = toml::from_str(text).expect("config.example.toml must parse");
        assert_eq!(c.stock.expiring_days, 30);
    }

    #[test]
    fn unknown_key_is_an_error() {
        let err = toml::from_str::<Config>("[shop]\nnmae = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("nmae"), "{err}");
    }

    #[test]
    fn explicit_missing_file_is_an_error() {
        let err = load(Some(Path::new("/nonexistent/konter.toml")), &env_of(&[])).unwrap_err();
        assert!(matches!(err, ConfigError::NotFound(_)));
    }

    #[test]
    fn konter_config_env_is_used_before_platform_dir() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        fs::write(&p, "[shop]\nuser = \"budi\"\n").unwrap();
        let l = load(None, &env_of(&[("KONTER_CONFIG", p.to_str().unwrap())])).unwrap();
        assert_eq!(l.config.shop.user, "budi");
        assert_eq!(l.path.as_deref(), Some(p.as_path()));
    }

    #[test]
    fn explicit_flag_beats_env() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.toml");
        let b = dir.path().join("b.toml");
        fs::write(&a, "[shop]\nuser = \"a\"\n").unwrap();
        fs::write(&b, "[shop]\nuser = \"b\"\n").unwrap();
        let l = load(Some(&a), &env_of(&[("KONTER_CONFIG", b.to_str().unwrap())])).unwrap();
        assert_eq!(l.config.shop.user, "a");
    }

    #[test]
    fn env_overrides_file() {
        let l = load(
            Some(Path::new("config.example.toml")),
            &env_of(&[
                ("KONTER_DATA_DIR", "/tmp/kd"),
                ("KONTER_OTOMAX_URL", "Server=x;Database=otomax"),
                ("KONTER_ROUTER_ADDR", "10.0.0.1:8728"),
                ("KONTER_ROUTER_USER", "kasir"),
                ("KONTER_ROUTER_PASSWORD", "rahasia"),
            ]),
        )
        .unwrap();
        assert_eq!(l.config.data_dir(), PathBuf::from("/tmp/kd"));
        assert_eq!(l.config.otomax.url, "Server=x;Database=otomax");
        assert_eq!(l.config.router.addr, "10.0.0.1:8728");
        assert_eq!(l.config.router.user, "kasir");
        assert_eq!(l.config.router.password, "rahasia");
    }

    #[cfg(unix)]
    #[test]
    fn password_in_world_readable_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        fs::write(&p, "[router]\npassword = \"rahasia\"\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load(Some(&p), &env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(load(Some(&p), &env_of(&[])).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn password_in_connection_string_counts_as_secret() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        fs::write(&p, "[otomax]\nurl = \"Server=.;User Id=sa;Password=x\"\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            load(Some(&p), &env_of(&[])).unwrap_err(),
            ConfigError::Insecure(..)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn serve_token_and_ai_key_in_the_file_count_as_secrets() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for text in [
            "[serve]\ntoken = \"0123456789abcdef0123\"\n",
            "[ocr.ai]\napi_key = \"sk-rahasia\"\n",
        ] {
            let p = dir.path().join("c.toml");
            fs::write(&p, text).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
            let err = load(Some(&p), &env_of(&[])).unwrap_err();
            assert!(matches!(err, ConfigError::Insecure(..)), "{text}: {err}");
            assert!(!err.to_string().contains("rahasia"), "{err}");
            fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
            assert!(load(Some(&p), &env_of(&[])).is_ok());
        }
    }

    #[test]
    fn serve_token_and_ai_key_come_from_the_environment_and_stay_out_of_debug() {
        let l = load(
            Some(Path::new("config.example.toml")),
            &env_of(&[
                ("KONTER_SERVE_TOKEN", "tok-0123456789abcdef"),
                ("KONTER_AI_KEY", "sk-0123456789"),
            ]),
        )
        .unwrap();
        assert_eq!(l.config.serve.token, "tok-0123456789abcdef");
        assert_eq!(l.config.ocr.ai.api_key, "sk-0123456789");
        assert!(!l.config.ocr.ai.enabled);
        let shown = format!("{:?}", l.config);
        assert!(!shown.contains("0123456789"), "{shown}");
    }

    #[test]
    fn world_readable_file_without_password_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        fs::write(&p, "[shop]\nuser = \"x\"\n").unwrap();
        assert!(load(Some(&p), &env_of(&[])).is_ok());
    }

    #[test]
    fn bad_language_in_env_is_explained() {
        let err = load(
            Some(Path::new("config.example.toml")),
            &env_of(&[("KONTER_LANG", "fr")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("id or en"));
    }
}
