//! The ADO-style connection string (`KONTER_OTOMAX_URL` / `otomax.url`), parsed into typed
//! settings. Parsed here rather than by tiberius so that every mistake gets a message naming the
//! key, the password never reaches a log, and `trust_cert` can only come from an explicit option.

use std::fmt;
use std::time::Duration;

#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    Sql {
        user: String,
        password: String,
    },
    /// Integrated security (the Windows login of the process). Only on Windows builds.
    Windows,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Sql { user, .. } => write!(f, "Sql {{ user: {user:?}, password: *** }}"),
            Auth::Windows => write!(f, "Windows"),
        }
    }
}

/// How the TDS stream is protected, as the `Encrypt` key or `otomax.encrypt` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encrypt {
    /// TLS for everything; the server must support it (tiberius' default).
    Required,
    /// TLS for the login only.
    LoginOnly,
    /// No TLS at all, not even for the login. Only for a test server on loopback.
    Plaintext,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnSettings {
    pub host: String,
    pub port: Option<u16>,
    /// A named instance (`.\SQLEXPRESS`), found through the SQL Browser on UDP 1434.
    pub instance: Option<String>,
    pub database: String,
    pub auth: Auth,
    pub encrypt: Encrypt,
    pub trust_cert: bool,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    pub app_name: String,
    /// TDS packet size asked of the server (512..=32767); bigger packets carry a bulk load in
    /// fewer writes.
    pub packet_size: u32,
}

impl ConnSettings {
    /// `host,port` or `host\instance`, for messages (never the password).
    pub fn target(&self) -> String {
        match (&self.instance, self.port) {
            (Some(i), _) => format!("{}\\{i}", self.host),
            (None, Some(p)) => format!("{},{p}", self.host),
            (None, None) => format!("{},1433", self.host),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "otomax.url / KONTER_OTOMAX_URL: {}", self.0)
    }
}

impl std::error::Error for UrlError {}

fn split_pairs(s: &str) -> Result<Vec<(String, String)>, UrlError> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        // key
        let mut key = String::new();
        while i < chars.len() && chars[i] != '=' && chars[i] != ';' {
            key.push(chars[i]);
            i += 1;
        }
        if i >= chars.len() || chars[i] == ';' {
            if !key.trim().is_empty() {
                return Err(UrlError(format!(
                    "'{}' has no value; write it as key=value, pairs separated by ';'",
                    key.trim()
                )));
            }
            i += 1;
            continue;
        }
        i += 1; // '='
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        let mut val = String::new();
        if i < chars.len() && (chars[i] == '\'' || chars[i] == '"' || chars[i] == '{') {
            let close = if chars[i] == '{' { '}' } else { chars[i] };
            i += 1;
            loop {
                if i >= chars.len() {
                    return Err(UrlError(format!(
                        "the value of '{}' opens a quote that is never closed",
                        key.trim()
                    )));
                }
                if chars[i] == close {
                    if close != '}' && chars.get(i + 1) == Some(&close) {
                        val.push(close);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                val.push(chars[i]);
                i += 1;
            }
            while i < chars.len() && chars[i] != ';' {
                i += 1;
            }
        } else {
            while i < chars.len() && chars[i] != ';' {
                val.push(chars[i]);
                i += 1;
            }
            val = val.trim_end().to_string();
        }
        i += 1;
        out.push((key.trim().to_ascii_lowercase(), val));
    }
    Ok(out)
}

fn boolean(key: &str, v: &str) -> Result<bool, UrlError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "sspi" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(UrlError(format!("{key}={v} is not true or false"))),
    }
}

fn seconds(key: &str, v: &str) -> Result<Duration, UrlError> {
    let n: u64 = v
        .trim()
        .parse()
        .map_err(|_| UrlError(format!("{key}={v} is not a whole number of seconds")))?;
    if n == 0 {
        return Err(UrlError(format!(
            "{key}=0 would wait forever; give a number of seconds such as 15"
        )));
    }
    Ok(Duration::from_secs(n))
}

/// Parses an ADO.NET-style connection string.
pub fn parse(s: &str) -> Result<ConnSettings, UrlError> {
    if s.trim().is_empty() {
        return Err(UrlError("empty".into()));
    }
    let mut server = None;
    let mut database = None;
    let mut user = None;
    let mut password = None;
    let mut integrated = false;
    let mut encrypt = Encrypt::Required;
    let mut trust_cert = false;
    let mut connect_timeout = Duration::from_secs(15);
    let mut command_timeout = Duration::from_secs(30);
    let mut app_name = "konter".to_string();
    let mut packet_size = 16384;
    for (k, v) in split_pairs(s)? {
        match k.as_str() {
            "server" | "data source" | "address" | "addr" | "network address" => server = Some(v),
            "database" | "initial catalog" => database = Some(v),
            "user id" | "uid" | "user" | "username" => user = Some(v),
            "password" | "pwd" => password = Some(v),
            "integrated security" | "trusted_connection" => integrated = boolean(&k, &v)?,
            "encrypt" => {
                encrypt = match v.trim().to_ascii_lowercase().as_str() {
                    "true" | "yes" | "mandatory" | "strict" => Encrypt::Required,
                    "false" | "no" | "optional" => Encrypt::LoginOnly,
                    "danger_plaintext" | "plaintext" => Encrypt::Plaintext,
                    _ => {
                        return Err(UrlError(format!(
                            "Encrypt={v} is not known; use true, false or DANGER_PLAINTEXT"
                        )))
                    }
                }
            }
            "trustservercertificate" | "trust server certificate" => trust_cert = boolean(&k, &v)?,
            "connect timeout" | "connection timeout" | "timeout" => {
                connect_timeout = seconds(&k, &v)?
            }
            "command timeout" => command_timeout = seconds(&k, &v)?,
            "application name" | "app" => app_name = v,
            "packet size" => {
                packet_size = v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (512..=32767).contains(n))
                    .ok_or_else(|| {
                        UrlError(format!(
                            "Packet Size={v} must be a number from 512 to 32767"
                        ))
                    })?
            }
            "multipleactiveresultsets" | "persist security info" | "pooling" | "workstation id" => {
            }
            other => {
                return Err(UrlError(format!(
                    "'{other}' is not a key konter understands; use Server, Database, User Id, \
                     Password, Integrated Security, Encrypt, TrustServerCertificate, \
                     Connect Timeout, Command Timeout"
                )))
            }
        }
    }
    let server = server.filter(|s| !s.trim().is_empty()).ok_or_else(|| {
        UrlError("Server is missing; e.g. Server=tcp:127.0.0.1,1433 or Server=.\\SQLEXPRESS".into())
    })?;
    let (host, port, instance) = parse_server(&server)?;
    let database = database.filter(|d| !d.trim().is_empty()).ok_or_else(|| {
        UrlError("Database is missing; OtoMaX usually uses Database=otomax".into())
    })?;
    let auth =
        if integrated {
            Auth::Windows
        } else {
            match (user, password) {
                (Some(u), Some(p)) if !u.is_empty() => Auth::Sql {
                    user: u,
                    password: p,
                },
                (Some(u), None) if !u.is_empty() => {
                    return Err(UrlError(format!("Password for User Id={u} is missing")))
                }
                _ => return Err(UrlError(
                    "give User Id and Password (SQL login) or Integrated Security=true (Windows)"
                        .into(),
                )),
            }
        };
    Ok(ConnSettings {
        host,
        port,
        instance,
        database,
        auth,
        encrypt,
        trust_cert,
        connect_timeout,
        command_timeout,
        app_name,
        packet_size,
    })
}

fn parse_server(s: &str) -> Result<(String, Option<u16>, Option<String>), UrlError> {
    let s = s.trim();
    let s = s
        .strip_prefix("tcp:")
        .or_else(|| s.strip_prefix("TCP:"))
        .unwrap_or(s);
    if s.starts_with("np:") || s.starts_with("lpc:") {
        return Err(UrlError(format!(
            "Server={s}: named pipes and shared memory are not supported; enable TCP/IP in SQL Server Configuration Manager and use tcp:host,port"
        )));
    }
    let (rest, port) = match s.rsplit_once(',') {
        Some((h, p)) => {
            let port: u16 = p
                .trim()
                .parse()
                .map_err(|_| UrlError(format!("Server={s}: '{p}' is not a port number")))?;
            (h.trim(), Some(port))
        }
        None => (s, None),
    };
    let (host, instance) = match rest.split_once('\\') {
        Some((h, i)) if !i.is_empty() => (h, Some(i.to_string())),
        Some((h, _)) => (h, None),
        None => (rest, None),
    };
    let host = match host {
        "." | "(local)" | "localhost" | "" => "127.0.0.1".to_string(),
        h => h.to_string(),
    };
    Ok((host, port, instance))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_and_sql_login() {
        let c = parse("Server=tcp:10.0.0.5,1444;Database=otomax;User Id=konter;Password='a;b=c';Encrypt=true;TrustServerCertificate=false;Connect Timeout=5").unwrap();
        assert_eq!(c.host, "10.0.0.5");
        assert_eq!(c.port, Some(1444));
        assert_eq!(c.instance, None);
        assert_eq!(c.database, "otomax");
        assert_eq!(
            c.auth,
            Auth::Sql {
                user: "konter".into(),
                password: "a;b=c".into()
            }
        );
        assert_eq!(c.encrypt, Encrypt::Required);
        assert!(!c.trust_cert);
        assert_eq!(c.connect_timeout, Duration::from_secs(5));
        assert_eq!(c.target(), "10.0.0.5,1444");
    }

    #[test]
    fn named_instance_on_this_machine() {
        let c = parse(r"Data Source=.\SQLEXPRESS;Initial Catalog=otomax;Integrated Security=SSPI")
            .unwrap();
        assert_eq!(c.host, "127.0.0.1");
        assert_eq!(c.instance.as_deref(), Some("SQLEXPRESS"));
        assert_eq!(c.port, None);
        assert_eq!(c.auth, Auth::Windows);
        assert_eq!(c.target(), r"127.0.0.1\SQLEXPRESS");
    }

    #[test]
    fn trust_cert_and_plaintext_only_when_asked() {
        let c = parse("Server=h;Database=d;uid=u;pwd=p").unwrap();
        assert!(!c.trust_cert);
        assert_eq!(c.encrypt, Encrypt::Required);
        let c = parse(
            "Server=h;Database=d;uid=u;pwd=p;TrustServerCertificate=yes;Encrypt=DANGER_PLAINTEXT",
        )
        .unwrap();
        assert!(c.trust_cert);
        assert_eq!(c.encrypt, Encrypt::Plaintext);
    }

    #[test]
    fn password_never_in_debug_output() {
        let c = parse("Server=h;Database=d;User Id=u;Password=rahasia123").unwrap();
        assert!(!format!("{c:?}").contains("rahasia123"));
    }

    #[test]
    fn mistakes_are_named() {
        let e = parse("Server=h;User Id=u;Password=p").unwrap_err();
        assert!(e.to_string().contains("Database is missing"), "{e}");
        let e = parse("Database=d;User Id=u;Password=p").unwrap_err();
        assert!(e.to_string().contains("Server is missing"), "{e}");
        let e = parse("Server=h,abc;Database=d;User Id=u;Password=p").unwrap_err();
        assert!(e.to_string().contains("not a port"), "{e}");
        let e = parse("Server=h;Database=d;User Id=u").unwrap_err();
        assert!(e.to_string().contains("Password"), "{e}");
        let e = parse("Server=h;Database=d;User Id=u;Password=p;Colour=blue").unwrap_err();
        assert!(e.to_string().contains("'colour'"), "{e}");
        let e = parse("Server=h;Database=d;User Id=u;Password='open").unwrap_err();
        assert!(e.to_string().contains("never closed"), "{e}");
        let e = parse("Server=h;Database=d;User Id=u;Password=p;Connect Timeout=0").unwrap_err();
        assert!(e.to_string().contains("forever"), "{e}");
    }
}
