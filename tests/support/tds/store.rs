//! The in-memory table store behind the TDS test server: typed columns, unique keys, and an undo
//! log per connection so that an open transaction vanishes when its connection drops.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

/// A column type the server knows. Enough for OtoMaX-like tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlType {
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Bit,
    /// varchar(n); n = 0 means max (kept as 8000 on the wire).
    VarChar(u16),
    NVarChar(u16),
    Date,
    DateTime,
    Decimal(u8, u8),
}

impl SqlType {
    /// The INFORMATION_SCHEMA `DATA_TYPE` name.
    pub fn name(&self) -> &'static str {
        match self {
            SqlType::TinyInt => "tinyint",
            SqlType::SmallInt => "smallint",
            SqlType::Int => "int",
            SqlType::BigInt => "bigint",
            SqlType::Bit => "bit",
            SqlType::VarChar(_) => "varchar",
            SqlType::NVarChar(_) => "nvarchar",
            SqlType::Date => "date",
            SqlType::DateTime => "datetime",
            SqlType::Decimal(..) => "decimal",
        }
    }

    pub fn char_len(&self) -> Option<i64> {
        match self {
            SqlType::VarChar(0) | SqlType::NVarChar(0) => Some(-1),
            SqlType::VarChar(n) | SqlType::NVarChar(n) => Some(*n as i64),
            _ => None,
        }
    }

    pub fn parse(name: &str, args: &[i64]) -> Result<SqlType, String> {
        let n = |i: usize, d: i64| args.get(i).copied().unwrap_or(d);
        Ok(match name.to_ascii_lowercase().as_str() {
            "tinyint" => SqlType::TinyInt,
            "smallint" => SqlType::SmallInt,
            "int" | "integer" => SqlType::Int,
            "bigint" => SqlType::BigInt,
            "bit" => SqlType::Bit,
            "varchar" | "char" => SqlType::VarChar(n(0, 1).clamp(0, 8000) as u16),
            "nvarchar" | "nchar" => SqlType::NVarChar(n(0, 1).clamp(0, 4000) as u16),
            "date" => SqlType::Date,
            "datetime" | "datetime2" | "smalldatetime" => SqlType::DateTime,
            "decimal" | "numeric" => SqlType::Decimal(n(0, 18) as u8, n(1, 0) as u8),
            "money" => SqlType::Decimal(19, 4),
            other => {
                return Err(format!(
                    "Column, parameter, or variable: cannot find data type {other}."
                ))
            }
        })
    }
}

/// One value. Ordering and equality follow SQL Server where the tests need them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    Int(i64),
    Str(String),
    Bit(bool),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    Dec(Decimal),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "NULL"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s}"),
            Value::Bit(b) => write!(f, "{}", *b as u8),
            Value::Date(d) => write!(f, "{d}"),
            Value::DateTime(d) => write!(f, "{d}"),
            Value::Dec(d) => write!(f, "{d}"),
        }
    }
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    fn as_dec(&self) -> Option<Decimal> {
        match self {
            Value::Int(i) => Some(Decimal::from(*i)),
            Value::Dec(d) => Some(*d),
            Value::Bit(b) => Some(Decimal::from(*b as i64)),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn as_datetime(&self) -> Option<NaiveDateTime> {
        match self {
            Value::Date(d) => d.and_hms_opt(0, 0, 0),
            Value::DateTime(d) => Some(*d),
            Value::Str(s) => parse_datetime(s),
            _ => None,
        }
    }

    /// SQL comparison; None when either side is NULL or the types do not compare.
    pub fn compare(&self, other: &Value) -> Option<std::cmp::Ordering> {
        use Value::*;
        match (self, other) {
            (Null, _) | (_, Null) => None,
            (Str(a), Str(b)) => Some(a.trim_end().cmp(b.trim_end())),
            (Date(_) | DateTime(_), _) | (_, Date(_) | DateTime(_)) => {
                Some(self.as_datetime()?.cmp(&other.as_datetime()?))
            }
            _ => Some(self.as_dec()?.cmp(&other.as_dec()?)),
        }
    }

    /// The value converted to a column's type, or the error SQL Server would give.
    pub fn coerce(self, ty: &SqlType, col: &str) -> Result<Value, (u32, String)> {
        if self.is_null() {
            return Ok(Value::Null);
        }
        let conv = |what: &str| {
            (
                245,
                format!("Conversion failed when converting the value '{self}' to data type {what} (column {col})."),
            )
        };
        Ok(match ty {
            SqlType::TinyInt | SqlType::SmallInt | SqlType::Int | SqlType::BigInt => {
                let d = self.as_dec().ok_or_else(|| conv(ty.name()))?;
                Value::Int(d.trunc().try_into().map_err(|_| conv(ty.name()))?)
            }
            SqlType::Bit => Value::Bit(self.as_dec().ok_or_else(|| conv("bit"))? != Decimal::ZERO),
            SqlType::Decimal(_, s) => {
                let mut d = self.as_dec().ok_or_else(|| conv("decimal"))?;
                d.rescale(*s as u32);
                Value::Dec(d)
            }
            SqlType::Date => Value::Date(self.as_datetime().ok_or_else(|| conv("date"))?.date()),
            SqlType::DateTime => {
                Value::DateTime(self.as_datetime().ok_or_else(|| conv("datetime"))?)
            }
            SqlType::VarChar(n) | SqlType::NVarChar(n) => {
                let s = match self {
                    Value::Str(s) => s,
                    other => other.to_string(),
                };
                if *n != 0 && s.chars().count() > *n as usize {
                    return Err((
                        2628,
                        format!(
                            "String or binary data would be truncated in column '{col}'. Truncated value: '{}'.",
                            s.chars().take(*n as usize).collect::<String>()
                        ),
                    ));
                }
                Value::Str(s)
            }
        })
    }
}

pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y%m%d %H:%M:%S",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Some(d);
        }
    }
    for f in ["%Y-%m-%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return d.and_hms_opt(0, 0, 0);
        }
    }
    None
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub ty: SqlType,
    pub nullable: bool,
    pub identity: bool,
}

#[derive(Debug, Clone)]
pub struct Unique {
    pub name: String,
    pub primary: bool,
    pub cols: Vec<usize>,
}

pub type Row = Vec<Value>;

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub uniques: Vec<Unique>,
    /// Rows by id; ids keep the undo log independent of positions.
    pub rows: Vec<(u64, Row)>,
    next_identity: i64,
    index: Vec<HashMap<Vec<Value>, u64>>,
}

impl Table {
    pub fn new(name: &str, columns: Vec<Column>, uniques: Vec<Unique>) -> Table {
        let index = uniques.iter().map(|_| HashMap::new()).collect();
        Table {
            name: name.to_string(),
            columns,
            uniques,
            rows: Vec::new(),
            next_identity: 1,
            index,
        }
    }

    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }

    fn key(&self, u: usize, row: &Row) -> Vec<Value> {
        self.uniques[u]
            .cols
            .iter()
            .map(|&c| match &row[c] {
                Value::Str(s) => Value::Str(s.trim_end().to_lowercase()),
                v => v.clone(),
            })
            .collect()
    }

    fn rebuild_index(&mut self) {
        let mut index: Vec<HashMap<Vec<Value>, u64>> =
            self.uniques.iter().map(|_| HashMap::new()).collect();
        for (id, row) in &self.rows {
            for (u, idx) in index.iter_mut().enumerate() {
                idx.insert(self.key(u, row), *id);
            }
        }
        self.index = index;
    }
}

/// What a transaction must undo when it rolls back or its connection drops.
#[derive(Debug)]
pub enum Undo {
    Insert(String, u64),
    Delete(String, u64, Row),
    Update(String, u64, Row),
    Create(String),
    Drop(Table),
}

pub type SqlError = (u32, String);

#[derive(Debug, Default)]
pub struct Db {
    pub tables: HashMap<String, Table>,
    next_row_id: u64,
}

impl Db {
    pub fn table(&self, name: &str) -> Result<&Table, SqlError> {
        self.tables
            .get(&name.to_lowercase())
            .ok_or_else(|| (208, format!("Invalid object name '{name}'.")))
    }

    pub fn table_mut(&mut self, name: &str) -> Result<&mut Table, SqlError> {
        self.tables
            .get_mut(&name.to_lowercase())
            .ok_or_else(|| (208, format!("Invalid object name '{name}'.")))
    }

    pub fn create(&mut self, t: Table, undo: &mut Vec<Undo>) -> Result<(), SqlError> {
        let key = t.name.to_lowercase();
        if self.tables.contains_key(&key) {
            return Err((
                2714,
                format!(
                    "There is already an object named '{}' in the database.",
                    t.name
                ),
            ));
        }
        undo.push(Undo::Create(key.clone()));
        self.tables.insert(key, t);
        Ok(())
    }

    pub fn drop_table(
        &mut self,
        name: &str,
        if_exists: bool,
        undo: &mut Vec<Undo>,
    ) -> Result<(), SqlError> {
        match self.tables.remove(&name.to_lowercase()) {
            Some(t) => {
                undo.push(Undo::Drop(t));
                Ok(())
            }
            None if if_exists => Ok(()),
            None => Err((3701, format!("Cannot drop the table '{name}', because it does not exist or you do not have permission."))),
        }
    }

    /// Inserts one row given values for the named columns (the rest NULL or identity).
    pub fn insert(
        &mut self,
        table: &str,
        cols: &[usize],
        values: Vec<Value>,
        undo: &mut Vec<Undo>,
    ) -> Result<(), SqlError> {
        let id = self.next_row_id;
        let t = self.table_mut(table)?;
        let mut row = vec![Value::Null; t.columns.len()];
        for (&c, v) in cols.iter().zip(values) {
            let col = &t.columns[c];
            row[c] = v.coerce(&col.ty, &col.name)?;
        }
        for (i, col) in t.columns.iter().enumerate() {
            if col.identity && row[i].is_null() {
                row[i] = Value::Int(t.next_identity);
                t.next_identity += 1;
            }
            if !col.nullable && row[i].is_null() {
                return Err((
                    515,
                    format!(
                        "Cannot insert the value NULL into column '{}', table '{}'; column does not allow nulls. INSERT fails.",
                        col.name, t.name
                    ),
                ));
            }
        }
        let keys: Vec<Vec<Value>> = (0..t.uniques.len()).map(|u| t.key(u, &row)).collect();
        for (u, key) in keys.iter().enumerate() {
            if t.index[u].contains_key(key) {
                let un = &t.uniques[u];
                let vals: Vec<String> = un.cols.iter().map(|&c| row[c].to_string()).collect();
                return Err((
                    2627,
                    format!(
                        "Violation of {} constraint '{}'. Cannot insert duplicate key in object 'dbo.{}'. The duplicate key value is ({}).",
                        if un.primary { "PRIMARY KEY" } else { "UNIQUE KEY" },
                        un.name,
                        t.name,
                        vals.join(", ")
                    ),
                ));
            }
        }
        for (u, key) in keys.into_iter().enumerate() {
            t.index[u].insert(key, id);
        }
        t.rows.push((id, row));
        self.next_row_id += 1;
        undo.push(Undo::Insert(table.to_lowercase(), id));
        Ok(())
    }

    pub fn delete_where(
        &mut self,
        table: &str,
        keep: &dyn Fn(&Row) -> Result<bool, SqlError>,
        undo: &mut Vec<Undo>,
    ) -> Result<u64, SqlError> {
        let t = self.table_mut(table)?;
        let mut kept = Vec::with_capacity(t.rows.len());
        let mut n = 0;
        for (id, row) in std::mem::take(&mut t.rows) {
            if keep(&row)? {
                kept.push((id, row));
            } else {
                undo.push(Undo::Delete(table.to_lowercase(), id, row));
                n += 1;
            }
        }
        t.rows = kept;
        t.rebuild_index();
        Ok(n)
    }

    pub fn update_where(
        &mut self,
        table: &str,
        f: &dyn Fn(&Row) -> Result<Option<Row>, SqlError>,
        undo: &mut Vec<Undo>,
    ) -> Result<u64, SqlError> {
        let t = self.table_mut(table)?;
        let mut n = 0;
        for (id, row) in t.rows.iter_mut() {
            if let Some(new) = f(row)? {
                let old = std::mem::replace(row, new);
                undo.push(Undo::Update(table.to_lowercase(), *id, old));
                n += 1;
            }
        }
        t.rebuild_index();
        Ok(n)
    }

    /// Undoes a transaction's changes, newest first.
    pub fn rollback(&mut self, undo: Vec<Undo>) {
        let mut touched = HashSet::new();
        let mut inserted: HashMap<String, HashSet<u64>> = HashMap::new();
        for u in undo.into_iter().rev() {
            match u {
                Undo::Insert(t, id) => {
                    inserted.entry(t).or_default().insert(id);
                }
                Undo::Delete(t, id, row) => {
                    if let Some(tb) = self.tables.get_mut(&t) {
                        tb.rows.push((id, row));
                        touched.insert(t);
                    }
                }
                Undo::Update(t, id, row) => {
                    if let Some(tb) = self.tables.get_mut(&t) {
                        if let Some(r) = tb.rows.iter_mut().find(|(i, _)| *i == id) {
                            r.1 = row;
                        }
                        touched.insert(t);
                    }
                }
                Undo::Create(t) => {
                    self.tables.remove(&t);
                }
                Undo::Drop(t) => {
                    self.tables.insert(t.name.to_lowercase(), t);
                }
            }
        }
        for (t, ids) in inserted {
            if let Some(tb) = self.tables.get_mut(&t) {
                tb.rows.retain(|(id, _)| !ids.contains(id));
                touched.insert(t);
            }
        }
        for t in touched {
            if let Some(tb) = self.tables.get_mut(&t) {
                tb.rows.sort_by_key(|(id, _)| *id);
                tb.rebuild_index();
            }
        }
    }
}
