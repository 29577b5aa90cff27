//! Connection states shown in the status bar. Adapters report through `Action::Conn`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    SqlServer,
    Router,
}

impl Backend {
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::SqlServer, Backend::Router];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::SqlServer => "SQL Server",
            Backend::Router => "Router",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ConnState {
    /// Not configured: nothing to connect to.
    #[default]
    Disabled,
    Connecting,
    Connected,
    Error(String),
}

impl ConnState {
    /// A symbol that reads without colour: ● up, ◌ connecting, ✗ error, ○ not configured.
    pub fn symbol(&self) -> &'static str {
        match self {
            ConnState::Disabled => "○",
            ConnState::Connecting => "◌",
            ConnState::Connected => "●",
            ConnState::Error(_) => "✗",
        }
    }
}
