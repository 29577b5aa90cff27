//! A small T-SQL subset for the TDS test server: enough for konter's adapter, the tests'
//! setup, and a person trying queries by hand with `tsql`.
//!
//! Statements: SELECT [TOP n] ... [FROM t] [WHERE] [GROUP BY] [ORDER BY]; INSERT INTO .. VALUES;
//! INSERT BULK; CREATE TABLE; DROP TABLE [IF EXISTS]; DELETE; UPDATE .. SET; BEGIN TRAN;
//! COMMIT; ROLLBACK; SET/USE (accepted, no effect). Expressions: literals, @params, columns,
//! = <> < > <= >=, AND/OR/NOT, IN (list | uncorrelated subquery), IS [NOT] NULL, LIKE 'x%',
//! COUNT/SUM/MIN/MAX, CASE WHEN, @@VERSION, @@TRANCOUNT, GETDATE(), LEN().

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;

use super::store::{Column, Db, Row, SqlError, SqlType, Table, Undo, Unique, Value};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(String),
    Str(String),
    Param(String),
    Global(String),
    Sym(&'static str),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, SqlError> {
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let err = |m: String| (102, m);
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && b.get(i + 1) == Some(&'-') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '\'' || ((c == 'N' || c == 'n') && b.get(i + 1) == Some(&'\'')) {
            if c != '\'' {
                i += 1;
            }
            i += 1;
            let mut v = String::new();
            loop {
                match b.get(i) {
                    None => {
                        return Err(err(
                            "Unclosed quotation mark after the character string.".into()
                        ))
                    }
                    Some('\'') if b.get(i + 1) == Some(&'\'') => {
                        v.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        v.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(v));
        } else if c == '[' {
            let mut v = String::new();
            i += 1;
            while i < b.len() {
                if b[i] == ']' {
                    if b.get(i + 1) == Some(&']') {
                        v.push(']');
                        i += 2;
                        continue;
                    }
                    break;
                }
                v.push(b[i]);
                i += 1;
            }
            i += 1;
            out.push(Tok::Ident(v));
        } else if c == '@' {
            let global = b.get(i + 1) == Some(&'@');
            i += if global { 2 } else { 1 };
            let st = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            let name: String = b[st..i].iter().collect();
            out.push(if global {
                Tok::Global(name.to_uppercase())
            } else {
                Tok::Param(name.to_uppercase())
            });
        } else if c.is_ascii_digit() {
            let st = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(b[st..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' || c == '#' {
            let st = i;
            while i < b.len()
                && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '#' || b[i] == '$')
            {
                i += 1;
            }
            out.push(Tok::Ident(b[st..i].iter().collect()));
        } else {
            let two: String = b[i..(i + 2).min(b.len())].iter().collect();
            let sym = match two.as_str() {
                "<>" => Some("<>"),
                "!=" => Some("<>"),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(s) = sym {
                out.push(Tok::Sym(s));
                i += 2;
                continue;
            }
            let s = match c {
                '(' => "(",
                ')' => ")",
                ',' => ",",
                '*' => "*",
                '=' => "=",
                '<' => "<",
                '>' => ">",
                ';' => ";",
                '.' => ".",
                '+' => "+",
                '-' => "-",
                _ => return Err(err(format!("Incorrect syntax near '{c}'."))),
            };
            out.push(Tok::Sym(s));
            i += 1;
        }
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub enum Expr {
    Lit(Value),
    Param(String),
    Global(String),
    Col(String),
    Star,
    Cmp(Box<Expr>, &'static str, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    In(Box<Expr>, Vec<Expr>),
    InSelect(Box<Expr>, Box<Select>),
    InSet(Box<Expr>, HashSet<Value>),
    IsNull(Box<Expr>, bool),
    Like(Box<Expr>, Box<Expr>),
    Agg(String, Option<Box<Expr>>),
    Func(String, Vec<Expr>),
    Case(Vec<(Expr, Expr)>, Option<Box<Expr>>),
    Neg(Box<Expr>),
}

#[derive(Debug, Clone)]
pub struct Select {
    top: Option<usize>,
    items: Vec<(Expr, Option<String>)>,
    from: Option<String>,
    filter: Option<Expr>,
    group: Vec<Expr>,
    order: Vec<(Expr, bool)>,
}

#[derive(Debug)]
pub enum Stmt {
    Select(Select),
    Insert {
        table: String,
        cols: Option<Vec<String>>,
        rows: Vec<Vec<Expr>>,
    },
    InsertBulk {
        table: String,
        cols: Vec<String>,
    },
    Create(Table),
    Drop {
        table: String,
        if_exists: bool,
    },
    Delete {
        table: String,
        filter: Option<Expr>,
    },
    Update {
        table: String,
        sets: Vec<(String, Expr)>,
        filter: Option<Expr>,
    },
    Begin,
    Commit,
    Rollback,
    Nothing,
    If(Expr, Box<Stmt>),
}

struct P {
    t: Vec<Tok>,
    i: usize,
}

fn is_kw(t: Option<&Tok>, k: &str) -> bool {
    matches!(t, Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(k))
}

const STMT_START: &[&str] = &[
    "SELECT", "INSERT", "CREATE", "DROP", "DELETE", "UPDATE", "BEGIN", "COMMIT", "ROLLBACK", "SET",
    "USE", "IF", "SAVE",
];

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }
    fn kw(&self, k: &str) -> bool {
        is_kw(self.peek(), k)
    }
    fn eat_kw(&mut self, k: &str) -> bool {
        if self.kw(k) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn near(&self) -> String {
        match self.peek() {
            None => "end of statement".into(),
            Some(Tok::Ident(s)) | Some(Tok::Num(s)) | Some(Tok::Str(s)) => s.clone(),
            Some(Tok::Param(s)) => format!("@{s}"),
            Some(Tok::Global(s)) => format!("@@{s}"),
            Some(Tok::Sym(s)) => s.to_string(),
        }
    }
    fn fail<T>(&self) -> Result<T, SqlError> {
        Err((102, format!("Incorrect syntax near '{}'.", self.near())))
    }
    fn expect_kw(&mut self, k: &str) -> Result<(), SqlError> {
        if self.eat_kw(k) {
            Ok(())
        } else {
            self.fail()
        }
    }
    fn expect_sym(&mut self, s: &str) -> Result<(), SqlError> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            self.fail()
        }
    }
    fn ident(&mut self) -> Result<String, SqlError> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                self.i += 1;
                Ok(s)
            }
            _ => self.fail(),
        }
    }
    /// A possibly qualified name; returns the last part (schema and database are ignored),
    /// except INFORMATION_SCHEMA.X which keeps its schema.
    fn name(&mut self) -> Result<String, SqlError> {
        let mut parts = vec![self.ident()?];
        while self.eat_sym(".") {
            parts.push(self.ident()?);
        }
        let n = parts.len();
        if n >= 2 && parts[n - 2].eq_ignore_ascii_case("INFORMATION_SCHEMA") {
            return Ok(format!(
                "INFORMATION_SCHEMA.{}",
                parts[n - 1].to_uppercase()
            ));
        }
        Ok(parts.pop().unwrap_or_default())
    }
    fn number(&mut self) -> Result<i64, SqlError> {
        match self.peek() {
            Some(Tok::Num(s)) => {
                let v = s
                    .parse()
                    .map_err(|_| (102, format!("Incorrect syntax near '{s}'.")))?;
                self.i += 1;
                Ok(v)
            }
            _ => self.fail(),
        }
    }
    fn at_stmt_end(&self) -> bool {
        match self.peek() {
            None => true,
            Some(Tok::Sym(";")) => true,
            Some(Tok::Ident(s)) => STMT_START.iter().any(|k| s.eq_ignore_ascii_case(k)),
            _ => false,
        }
    }

    fn stmt(&mut self) -> Result<Stmt, SqlError> {
        if self.eat_kw("SELECT") {
            return Ok(Stmt::Select(self.select_body()?));
        }
        if self.eat_kw("INSERT") {
            if self.eat_kw("BULK") {
                let table = self.name()?;
                self.expect_sym("(")?;
                let mut cols = Vec::new();
                loop {
                    cols.push(self.ident()?);
                    // skip the type and its arguments
                    let mut depth = 0;
                    loop {
                        match self.peek() {
                            Some(Tok::Sym("(")) => depth += 1,
                            Some(Tok::Sym(")")) if depth == 0 => break,
                            Some(Tok::Sym(")")) => depth -= 1,
                            Some(Tok::Sym(",")) if depth == 0 => break,
                            None => return self.fail(),
                            _ => {}
                        }
                        self.i += 1;
                    }
                    if self.eat_sym(")") {
                        break;
                    }
                    self.expect_sym(",")?;
                }
                while !self.at_stmt_end() {
                    self.i += 1;
                }
                return Ok(Stmt::InsertBulk { table, cols });
            }
            self.eat_kw("INTO");
            let table = self.name()?;
            let cols = if self.eat_sym("(") {
                let mut c = vec![self.ident()?];
                while self.eat_sym(",") {
                    c.push(self.ident()?);
                }
                self.expect_sym(")")?;
                Some(c)
            } else {
                None
            };
            self.expect_kw("VALUES")?;
            let mut rows = Vec::new();
            loop {
                self.expect_sym("(")?;
                let mut r = vec![self.expr()?];
                while self.eat_sym(",") {
                    r.push(self.expr()?);
                }
                self.expect_sym(")")?;
                rows.push(r);
                if !self.eat_sym(",") {
                    break;
                }
            }
            return Ok(Stmt::Insert { table, cols, rows });
        }
        if self.eat_kw("CREATE") {
            self.expect_kw("TABLE")?;
            return self.create();
        }
        if self.eat_kw("DROP") {
            self.expect_kw("TABLE")?;
            let if_exists = if self.eat_kw("IF") {
                self.expect_kw("EXISTS")?;
                true
            } else {
                false
            };
            let table = self.name()?;
            return Ok(Stmt::Drop { table, if_exists });
        }
        if self.eat_kw("DELETE") {
            self.eat_kw("FROM");
            let table = self.name()?;
            let filter = if self.eat_kw("WHERE") {
                Some(self.expr()?)
            } else {
                None
            };
            return Ok(Stmt::Delete { table, filter });
        }
        if self.eat_kw("UPDATE") {
            let table = self.name()?;
            self.expect_kw("SET")?;
            let mut sets = Vec::new();
            loop {
                let c = self.ident()?;
                self.expect_sym("=")?;
                sets.push((c, self.expr()?));
                if !self.eat_sym(",") {
                    break;
                }
            }
            let filter = if self.eat_kw("WHERE") {
                Some(self.expr()?)
            } else {
                None
            };
            return Ok(Stmt::Update {
                table,
                sets,
                filter,
            });
        }
        if self.eat_kw("BEGIN") {
            if !(self.eat_kw("TRAN") || self.eat_kw("TRANSACTION")) {
                return self.fail();
            }
            if matches!(self.peek(), Some(Tok::Ident(_))) && !self.at_stmt_end() {
                self.i += 1;
            }
            return Ok(Stmt::Begin);
        }
        if self.eat_kw("COMMIT") || self.eat_kw("ROLLBACK") {
            let commit = is_kw(self.t.get(self.i - 1), "COMMIT");
            let _ = self.eat_kw("TRAN") || self.eat_kw("TRANSACTION") || self.eat_kw("WORK");
            if matches!(self.peek(), Some(Tok::Ident(_))) && !self.at_stmt_end() {
                self.i += 1;
            }
            return Ok(if commit { Stmt::Commit } else { Stmt::Rollback });
        }
        if self.eat_kw("SET") || self.eat_kw("USE") {
            // Session options: accepted and ignored, up to the next statement.
            self.i += 1;
            while !self.at_stmt_end() {
                self.i += 1;
            }
            return Ok(Stmt::Nothing);
        }
        self.fail()
    }

    fn create(&mut self) -> Result<Stmt, SqlError> {
        let name = self.name()?;
        self.expect_sym("(")?;
        let mut columns: Vec<Column> = Vec::new();
        let mut uniques: Vec<(String, bool, Vec<String>)> = Vec::new();
        loop {
            if self.eat_kw("CONSTRAINT") {
                let cname = self.ident()?;
                self.table_constraint(Some(cname), &mut uniques)?;
            } else if self.kw("PRIMARY") || self.kw("UNIQUE") {
                self.table_constraint(None, &mut uniques)?;
            } else {
                let cname = self.ident()?;
                let tname = self.ident()?;
                let mut args = Vec::new();
                if self.eat_sym("(") {
                    if self.eat_kw("MAX") {
                        args.push(0);
                    } else {
                        args.push(self.number()?);
                        while self.eat_sym(",") {
                            args.push(self.number()?);
                        }
                    }
                    self.expect_sym(")")?;
                }
                let ty = SqlType::parse(&tname, &args).map_err(|m| (2715, m))?;
                let mut col = Column {
                    name: cname.clone(),
                    ty,
                    nullable: true,
                    identity: false,
                };
                loop {
                    if self.eat_kw("NOT") {
                        self.expect_kw("NULL")?;
                        col.nullable = false;
                    } else if self.eat_kw("NULL") {
                        col.nullable = true;
                    } else if self.eat_kw("IDENTITY") {
                        col.identity = true;
                        col.nullable = false;
                        if self.eat_sym("(") {
                            while !self.eat_sym(")") {
                                self.i += 1;
                            }
                        }
                    } else if self.eat_kw("PRIMARY") {
                        self.expect_kw("KEY")?;
                        col.nullable = false;
                        uniques.push((format!("PK_{name}"), true, vec![cname.clone()]));
                    } else if self.eat_kw("UNIQUE") {
                        uniques.push((format!("UQ_{name}_{cname}"), false, vec![cname.clone()]));
                    } else if self.eat_kw("DEFAULT") {
                        self.primary()?;
                    } else {
                        break;
                    }
                }
                columns.push(col);
            }
            if self.eat_sym(")") {
                break;
            }
            self.expect_sym(",")?;
        }
        let mut us = Vec::new();
        for (n, primary, cols) in uniques {
            let mut idx = Vec::new();
            for c in cols {
                let i = columns
                    .iter()
                    .position(|x| x.name.eq_ignore_ascii_case(&c))
                    .ok_or_else(|| {
                        (
                            1911,
                            format!("Column name '{c}' does not exist in the target table."),
                        )
                    })?;
                if primary {
                    columns[i].nullable = false;
                }
                idx.push(i);
            }
            us.push(Unique {
                name: n,
                primary,
                cols: idx,
            });
        }
        Ok(Stmt::Create(Table::new(&name, columns, us)))
    }

    fn table_constraint(
        &mut self,
        name: Option<String>,
        out: &mut Vec<(String, bool, Vec<String>)>,
    ) -> Result<(), SqlError> {
        let primary = if self.eat_kw("PRIMARY") {
            self.expect_kw("KEY")?;
            true
        } else {
            self.expect_kw("UNIQUE")?;
            false
        };
        let _ = self.eat_kw("CLUSTERED") || self.eat_kw("NONCLUSTERED");
        self.expect_sym("(")?;
        let mut cols = vec![self.ident()?];
        let _ = self.eat_kw("ASC") || self.eat_kw("DESC");
        while self.eat_sym(",") {
            cols.push(self.ident()?);
            let _ = self.eat_kw("ASC") || self.eat_kw("DESC");
        }
        self.expect_sym(")")?;
        let name = name
            .unwrap_or_else(|| format!("{}_{}", if primary { "PK" } else { "UQ" }, cols.join("_")));
        out.push((name, primary, cols));
        Ok(())
    }

    fn select_body(&mut self) -> Result<Select, SqlError> {
        let top = if self.eat_kw("TOP") {
            let paren = self.eat_sym("(");
            let n = self.number()? as usize;
            if paren {
                self.expect_sym(")")?;
            }
            Some(n)
        } else {
            None
        };
        let mut items = Vec::new();
        loop {
            let e = self.expr()?;
            let alias = if self.eat_kw("AS") {
                Some(match self.peek() {
                    Some(Tok::Str(s)) => {
                        let s = s.clone();
                        self.i += 1;
                        s
                    }
                    _ => self.ident()?,
                })
            } else if matches!(self.peek(), Some(Tok::Ident(s)) if !["FROM", "WHERE", "GROUP", "ORDER"].iter().any(|k| s.eq_ignore_ascii_case(k)) && !STMT_START.iter().any(|k| s.eq_ignore_ascii_case(k)))
            {
                Some(self.ident()?)
            } else {
                None
            };
            items.push((e, alias));
            if !self.eat_sym(",") {
                break;
            }
        }
        let mut from = None;
        if self.eat_kw("FROM") {
            from = Some(self.name()?);
            // optional alias and table hints
            let alias_follows = matches!(self.peek(), Some(Tok::Ident(s)) if !["WHERE", "GROUP", "ORDER", "WITH"].iter().any(|k| s.eq_ignore_ascii_case(k)) && !STMT_START.iter().any(|k| s.eq_ignore_ascii_case(k)));
            if self.eat_kw("AS") || alias_follows {
                self.ident()?;
            }
            if self.eat_kw("WITH") {
                self.expect_sym("(")?;
                while !self.eat_sym(")") {
                    if self.peek().is_none() {
                        return self.fail();
                    }
                    self.i += 1;
                }
            }
        }
        let filter = if self.eat_kw("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        let mut group = Vec::new();
        if self.eat_kw("GROUP") {
            self.expect_kw("BY")?;
            group.push(self.expr()?);
            while self.eat_sym(",") {
                group.push(self.expr()?);
            }
        }
        let mut order = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                let e = self.expr()?;
                let desc = if self.eat_kw("DESC") {
                    true
                } else {
                    self.eat_kw("ASC");
                    false
                };
                order.push((e, desc));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        Ok(Select {
            top,
            items,
            from,
            filter,
            group,
            order,
        })
    }

    fn expr(&mut self) -> Result<Expr, SqlError> {
        let mut l = self.and()?;
        while self.eat_kw("OR") {
            l = Expr::Or(Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<Expr, SqlError> {
        let mut l = self.not()?;
        while self.eat_kw("AND") {
            l = Expr::And(Box::new(l), Box::new(self.not()?));
        }
        Ok(l)
    }
    fn not(&mut self) -> Result<Expr, SqlError> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Expr, SqlError> {
        let l = self.add()?;
        for op in ["=", "<>", "<=", ">=", "<", ">"] {
            if self.eat_sym(op) {
                let op: &'static str = match op {
                    "=" => "=",
                    "<>" => "<>",
                    "<=" => "<=",
                    ">=" => ">=",
                    "<" => "<",
                    _ => ">",
                };
                return Ok(Expr::Cmp(Box::new(l), op, Box::new(self.add()?)));
            }
        }
        if self.eat_kw("IS") {
            let not = self.eat_kw("NOT");
            self.expect_kw("NULL")?;
            return Ok(Expr::IsNull(Box::new(l), !not));
        }
        let negate = self.eat_kw("NOT");
        let e = if self.eat_kw("IN") {
            self.expect_sym("(")?;
            if self.eat_kw("SELECT") {
                let s = self.select_body()?;
                self.expect_sym(")")?;
                Expr::InSelect(Box::new(l), Box::new(s))
            } else {
                let mut list = vec![self.expr()?];
                while self.eat_sym(",") {
                    list.push(self.expr()?);
                }
                self.expect_sym(")")?;
                Expr::In(Box::new(l), list)
            }
        } else if self.eat_kw("LIKE") {
            Expr::Like(Box::new(l), Box::new(self.add()?))
        } else if negate {
            return self.fail();
        } else {
            return Ok(l);
        };
        Ok(if negate { Expr::Not(Box::new(e)) } else { e })
    }
    fn add(&mut self) -> Result<Expr, SqlError> {
        let mut l = self.primary()?;
        loop {
            if self.eat_sym("+") {
                l = Expr::Func("+".into(), vec![l, self.primary()?]);
            } else if self.eat_sym("-") {
                l = Expr::Func("-".into(), vec![l, self.primary()?]);
            } else {
                return Ok(l);
            }
        }
    }
    fn primary(&mut self) -> Result<Expr, SqlError> {
        let t = self.peek().cloned();
        match t {
            Some(Tok::Num(n)) => {
                self.i += 1;
                if n.contains('.') {
                    Ok(Expr::Lit(Value::Dec(n.parse().map_err(|_| {
                        (102, format!("Incorrect syntax near '{n}'."))
                    })?)))
                } else {
                    Ok(Expr::Lit(Value::Int(n.parse().map_err(|_| {
                        (102, format!("Incorrect syntax near '{n}'."))
                    })?)))
                }
            }
            Some(Tok::Str(s)) => {
                self.i += 1;
                Ok(Expr::Lit(Value::Str(s)))
            }
            Some(Tok::Param(p)) => {
                self.i += 1;
                Ok(Expr::Param(p))
            }
            Some(Tok::Global(g)) => {
                self.i += 1;
                Ok(Expr::Global(g))
            }
            Some(Tok::Sym("*")) => {
                self.i += 1;
                Ok(Expr::Star)
            }
            Some(Tok::Sym("-")) => {
                self.i += 1;
                Ok(Expr::Neg(Box::new(self.primary()?)))
            }
            Some(Tok::Sym("(")) => {
                self.i += 1;
                let e = self.expr()?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Some(Tok::Ident(id)) => {
                self.i += 1;
                let up = id.to_uppercase();
                if up == "NULL" {
                    return Ok(Expr::Lit(Value::Null));
                }
                if up == "CASE" {
                    let mut arms = Vec::new();
                    while self.eat_kw("WHEN") {
                        let c = self.expr()?;
                        self.expect_kw("THEN")?;
                        arms.push((c, self.expr()?));
                    }
                    let els = if self.eat_kw("ELSE") {
                        Some(Box::new(self.expr()?))
                    } else {
                        None
                    };
                    self.expect_kw("END")?;
                    return Ok(Expr::Case(arms, els));
                }
                if self.eat_sym("(") {
                    if ["COUNT", "SUM", "MIN", "MAX"].contains(&up.as_str()) {
                        let arg = if self.eat_sym("*") {
                            None
                        } else {
                            Some(Box::new(self.expr()?))
                        };
                        self.expect_sym(")")?;
                        return Ok(Expr::Agg(up, arg));
                    }
                    let mut args = Vec::new();
                    if !self.eat_sym(")") {
                        args.push(self.expr()?);
                        while self.eat_sym(",") {
                            args.push(self.expr()?);
                        }
                        self.expect_sym(")")?;
                    }
                    return Ok(Expr::Func(up, args));
                }
                let mut name = id;
                while self.eat_sym(".") {
                    if self.eat_sym("*") {
                        return Ok(Expr::Star);
                    }
                    name = self.ident()?;
                }
                Ok(Expr::Col(name))
            }
            _ => self.fail(),
        }
    }
}

pub fn parse(sql: &str) -> Result<Vec<Stmt>, SqlError> {
    let mut p = P {
        t: tokenize(sql)?,
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        while p.eat_sym(";") {}
        if p.peek().is_none() {
            break;
        }
        if p.kw("IF") {
            // `IF <condition> <statement>`, e.g. `IF @@TRANCOUNT > 0 ROLLBACK`.
            p.i += 1;
            let cond = p.expr()?;
            let s = p.stmt()?;
            out.push(Stmt::If(cond, Box::new(s)));
            continue;
        }
        out.push(p.stmt()?);
        if !p.at_stmt_end() {
            return p.fail();
        }
    }
    Ok(out)
}

/// A result set: column names, their types, and the rows.
#[derive(Debug, Clone)]
pub struct ResultSet {
    pub columns: Vec<(String, SqlType)>,
    pub rows: Vec<Row>,
}

pub struct Ctx<'a> {
    pub params: &'a HashMap<String, Value>,
    pub trancount: i64,
    pub now: chrono::NaiveDateTime,
}

fn info_schema(db: &Db, database: &str) -> Table {
    let cols = [
        ("TABLE_CATALOG", SqlType::NVarChar(128)),
        ("TABLE_SCHEMA", SqlType::NVarChar(128)),
        ("TABLE_NAME", SqlType::NVarChar(128)),
        ("COLUMN_NAME", SqlType::NVarChar(128)),
        ("ORDINAL_POSITION", SqlType::Int),
        ("IS_NULLABLE", SqlType::VarChar(3)),
        ("DATA_TYPE", SqlType::NVarChar(128)),
        ("CHARACTER_MAXIMUM_LENGTH", SqlType::Int),
        ("NUMERIC_PRECISION", SqlType::TinyInt),
        ("NUMERIC_SCALE", SqlType::Int),
    ];
    let mut t = Table::new(
        "COLUMNS",
        cols.iter()
            .map(|(n, ty)| Column {
                name: n.to_string(),
                ty: ty.clone(),
                nullable: true,
                identity: false,
            })
            .collect(),
        vec![],
    );
    let mut names: Vec<&Table> = db
        .tables
        .values()
        .filter(|t| !t.name.starts_with('#'))
        .collect();
    names.sort_by(|a, b| a.name.cmp(&b.name));
    let mut id = 0;
    for tb in names {
        for (i, c) in tb.columns.iter().enumerate() {
            let (p, s) = match c.ty {
                SqlType::TinyInt => (Value::Int(3), Value::Int(0)),
                SqlType::SmallInt => (Value::Int(5), Value::Int(0)),
                SqlType::Int => (Value::Int(10), Value::Int(0)),
                SqlType::BigInt => (Value::Int(19), Value::Int(0)),
                SqlType::Decimal(p, s) => (Value::Int(p as i64), Value::Int(s as i64)),
                _ => (Value::Null, Value::Null),
            };
            t.rows.push((
                id,
                vec![
                    Value::Str(database.to_string()),
                    Value::Str("dbo".into()),
                    Value::Str(tb.name.clone()),
                    Value::Str(c.name.clone()),
                    Value::Int(i as i64 + 1),
                    Value::Str(if c.nullable { "YES" } else { "NO" }.into()),
                    Value::Str(c.ty.name().into()),
                    c.ty.char_len().map(Value::Int).unwrap_or(Value::Null),
                    p,
                    s,
                ],
            ));
            id += 1;
        }
    }
    t
}

pub const VERSION: &str = "konter TDS test server (in-memory; speaks a T-SQL subset) - 16.0.0";

impl Expr {
    fn has_agg(&self) -> bool {
        match self {
            Expr::Agg(..) => true,
            Expr::Cmp(a, _, b) | Expr::And(a, b) | Expr::Or(a, b) | Expr::Like(a, b) => {
                a.has_agg() || b.has_agg()
            }
            Expr::Not(a) | Expr::IsNull(a, _) | Expr::Neg(a) => a.has_agg(),
            Expr::Func(_, args) => args.iter().any(|a| a.has_agg()),
            Expr::Case(arms, e) => {
                arms.iter().any(|(a, b)| a.has_agg() || b.has_agg())
                    || e.as_ref().is_some_and(|e| e.has_agg())
            }
            _ => false,
        }
    }

    /// Replaces uncorrelated subqueries by the set of their values, once per statement.
    fn prepare(&mut self, db: &Db, database: &str, cx: &Ctx) -> Result<(), SqlError> {
        match self {
            Expr::InSelect(l, s) => {
                l.prepare(db, database, cx)?;
                let rs = run_select(db, database, s, cx)?;
                let set: HashSet<Value> = rs
                    .rows
                    .into_iter()
                    .filter_map(|r| r.into_iter().next())
                    .map(norm)
                    .collect();
                let l = std::mem::replace(l, Box::new(Expr::Lit(Value::Null)));
                *self = Expr::InSet(l, set);
            }
            Expr::Cmp(a, _, b) | Expr::And(a, b) | Expr::Or(a, b) | Expr::Like(a, b) => {
                a.prepare(db, database, cx)?;
                b.prepare(db, database, cx)?;
            }
            Expr::Not(a) | Expr::IsNull(a, _) | Expr::Neg(a) | Expr::InSet(a, _) => {
                a.prepare(db, database, cx)?
            }
            Expr::In(a, list) => {
                a.prepare(db, database, cx)?;
                for e in list {
                    e.prepare(db, database, cx)?;
                }
            }
            Expr::Func(_, args) => {
                for e in args {
                    e.prepare(db, database, cx)?;
                }
            }
            Expr::Agg(_, Some(a)) => a.prepare(db, database, cx)?,
            Expr::Case(arms, e) => {
                for (a, b) in arms {
                    a.prepare(db, database, cx)?;
                    b.prepare(db, database, cx)?;
                }
                if let Some(e) = e {
                    e.prepare(db, database, cx)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn norm(v: Value) -> Value {
    match v {
        Value::Str(s) => Value::Str(s.trim_end().to_string()),
        v => v,
    }
}

fn truth(v: &Value) -> bool {
    matches!(v, Value::Bit(true)) || matches!(v, Value::Int(i) if *i != 0)
}

fn like(s: &str, pat: &str) -> bool {
    let (s, p): (Vec<char>, Vec<char>) = (
        s.to_lowercase().chars().collect(),
        pat.to_lowercase().chars().collect(),
    );
    fn go(s: &[char], p: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('%') => (0..=s.len()).any(|i| go(&s[i..], &p[1..])),
            Some('_') => !s.is_empty() && go(&s[1..], &p[1..]),
            Some(c) => s.first() == Some(c) && go(&s[1..], &p[1..]),
        }
    }
    go(&s, &p)
}

fn eval(
    e: &Expr,
    t: Option<&Table>,
    row: Option<&Row>,
    group: &[&Row],
    cx: &Ctx,
) -> Result<Value, SqlError> {
    let b = |x: bool| Value::Bit(x);
    Ok(match e {
        Expr::Lit(v) => v.clone(),
        Expr::Param(p) => cx
            .params
            .get(p)
            .cloned()
            .ok_or_else(|| (137, format!("Must declare the scalar variable \"@{p}\".")))?,
        Expr::Global(g) => match g.as_str() {
            "VERSION" => Value::Str(VERSION.into()),
            "TRANCOUNT" => Value::Int(cx.trancount),
            "SPID" => Value::Int(51),
            _ => return Err((137, format!("Must declare the scalar variable \"@@{g}\"."))),
        },
        Expr::Col(c) => {
            let t = t.ok_or_else(|| (207, format!("Invalid column name '{c}'.")))?;
            let i = t
                .col(c)
                .ok_or_else(|| (207, format!("Invalid column name '{c}'.")))?;
            match row {
                Some(r) => r[i].clone(),
                None => Value::Null,
            }
        }
        Expr::Star => return Err((102, "Incorrect syntax near '*'.".into())),
        Expr::Cmp(a, op, c) => {
            let (x, y) = (eval(a, t, row, group, cx)?, eval(c, t, row, group, cx)?);
            match x.compare(&y) {
                None => b(false),
                Some(o) => b(match *op {
                    "=" => o.is_eq(),
                    "<>" => o.is_ne(),
                    "<" => o.is_lt(),
                    ">" => o.is_gt(),
                    "<=" => o.is_le(),
                    _ => o.is_ge(),
                }),
            }
        }
        Expr::And(a, c) => {
            b(truth(&eval(a, t, row, group, cx)?) && truth(&eval(c, t, row, group, cx)?))
        }
        Expr::Or(a, c) => {
            b(truth(&eval(a, t, row, group, cx)?) || truth(&eval(c, t, row, group, cx)?))
        }
        Expr::Not(a) => b(!truth(&eval(a, t, row, group, cx)?)),
        Expr::In(a, list) => {
            let x = eval(a, t, row, group, cx)?;
            let mut hit = false;
            for l in list {
                if x.compare(&eval(l, t, row, group, cx)?)
                    .is_some_and(|o| o.is_eq())
                {
                    hit = true;
                    break;
                }
            }
            b(hit)
        }
        Expr::InSet(a, set) => {
            let x = norm(eval(a, t, row, group, cx)?);
            b(!x.is_null() && set.contains(&x))
        }
        Expr::InSelect(..) => return Err((102, "subquery was not prepared".into())),
        Expr::IsNull(a, want) => b(eval(a, t, row, group, cx)?.is_null() == *want),
        Expr::Like(a, p) => match (eval(a, t, row, group, cx)?, eval(p, t, row, group, cx)?) {
            (Value::Null, _) | (_, Value::Null) => b(false),
            (x, y) => b(like(&x.to_string(), &y.to_string())),
        },
        Expr::Neg(a) => match eval(a, t, row, group, cx)? {
            Value::Int(i) => Value::Int(-i),
            Value::Dec(d) => Value::Dec(-d),
            v => v,
        },
        Expr::Case(arms, els) => {
            for (c, v) in arms {
                if truth(&eval(c, t, row, group, cx)?) {
                    return eval(v, t, row, group, cx);
                }
            }
            match els {
                Some(e) => eval(e, t, row, group, cx)?,
                None => Value::Null,
            }
        }
        Expr::Func(f, args) => {
            let mut v = Vec::new();
            for a in args {
                v.push(eval(a, t, row, group, cx)?);
            }
            match (f.as_str(), v.as_slice()) {
                ("GETDATE" | "SYSDATETIME", []) => Value::DateTime(cx.now),
                ("LEN", [x]) => match x {
                    Value::Null => Value::Null,
                    x => Value::Int(x.to_string().trim_end().chars().count() as i64),
                },
                ("ISNULL" | "COALESCE", [x, y]) => {
                    if x.is_null() {
                        y.clone()
                    } else {
                        x.clone()
                    }
                }
                ("+" | "-", [x, y]) => match (x, y) {
                    (Value::Int(a), Value::Int(c)) => {
                        Value::Int(if f == "+" { a + c } else { a - c })
                    }
                    (Value::Str(a), Value::Str(c)) if f == "+" => Value::Str(format!("{a}{c}")),
                    (Value::Null, _) | (_, Value::Null) => Value::Null,
                    _ => {
                        return Err((
                            8117,
                            format!("Operand data type is invalid for the {f} operator."),
                        ))
                    }
                },
                _ => {
                    return Err((
                        195,
                        format!("'{f}' is not a recognized built-in function name."),
                    ))
                }
            }
        }
        Expr::Agg(f, arg) => {
            let mut vals = Vec::new();
            for r in group {
                match arg {
                    None => vals.push(Value::Int(1)),
                    Some(a) => {
                        let v = eval(a, t, Some(r), &[], cx)?;
                        if !v.is_null() {
                            vals.push(v);
                        }
                    }
                }
            }
            match f.as_str() {
                "COUNT" => Value::Int(vals.len() as i64),
                "SUM" => {
                    if vals.is_empty() {
                        Value::Null
                    } else if vals
                        .iter()
                        .all(|v| matches!(v, Value::Int(_) | Value::Bit(_)))
                    {
                        Value::Int(
                            vals.iter()
                                .map(|v| {
                                    if let Value::Int(i) = v {
                                        *i
                                    } else {
                                        truth(v) as i64
                                    }
                                })
                                .sum(),
                        )
                    } else {
                        let mut s = Decimal::ZERO;
                        for v in &vals {
                            s += v
                                .clone()
                                .coerce(&SqlType::Decimal(38, 4), "SUM")
                                .map_err(|e| (8117, e.1))?
                                .to_string()
                                .parse::<Decimal>()
                                .unwrap_or_default();
                        }
                        Value::Dec(s)
                    }
                }
                _ => {
                    let mut best: Option<Value> = None;
                    for v in vals {
                        best = Some(match best {
                            None => v,
                            Some(bv) => {
                                let o = v.compare(&bv).unwrap_or(std::cmp::Ordering::Equal);
                                if (f == "MIN" && o.is_lt()) || (f == "MAX" && o.is_gt()) {
                                    v
                                } else {
                                    bv
                                }
                            }
                        })
                    }
                    best.unwrap_or(Value::Null)
                }
            }
        }
    })
}

fn infer(vals: impl Iterator<Item = Value>) -> SqlType {
    let mut ty: Option<SqlType> = None;
    for v in vals {
        let t = match v {
            Value::Null => continue,
            Value::Int(i) if i32::try_from(i).is_ok() => SqlType::Int,
            Value::Int(_) => SqlType::BigInt,
            Value::Str(_) => SqlType::NVarChar(4000),
            Value::Bit(_) => SqlType::Bit,
            Value::Date(_) => SqlType::Date,
            Value::DateTime(_) => SqlType::DateTime,
            Value::Dec(_) => SqlType::Decimal(38, 4),
        };
        ty = Some(match (ty, t) {
            (None, t) => t,
            (Some(SqlType::Int), SqlType::BigInt) => SqlType::BigInt,
            (Some(a), _) => a,
        });
    }
    ty.unwrap_or(SqlType::Int)
}

pub fn run_select(db: &Db, database: &str, s: &Select, cx: &Ctx) -> Result<ResultSet, SqlError> {
    let mut s = s.clone();
    let info;
    let table: Option<&Table> = match &s.from {
        None => None,
        Some(n) if n.eq_ignore_ascii_case("INFORMATION_SCHEMA.COLUMNS") => {
            info = info_schema(db, database);
            Some(&info)
        }
        Some(n) if n.to_uppercase().starts_with("INFORMATION_SCHEMA.") => {
            return Err((208, format!("Invalid object name '{n}'.")))
        }
        Some(n) => Some(db.table(n)?),
    };
    if let Some(f) = s.filter.as_mut() {
        f.prepare(db, database, cx)?;
    }
    for (e, _) in s.items.iter_mut() {
        e.prepare(db, database, cx)?;
    }
    // expand *
    let mut items: Vec<(Expr, String)> = Vec::new();
    for (e, alias) in &s.items {
        if matches!(e, Expr::Star) {
            let t = table.ok_or_else(|| (263, "Must specify table to select from.".into()))?;
            for c in &t.columns {
                items.push((Expr::Col(c.name.clone()), c.name.clone()));
            }
        } else {
            let name = alias.clone().unwrap_or_else(|| match e {
                Expr::Col(c) => c.clone(),
                _ => String::new(),
            });
            items.push((e.clone(), name));
        }
    }
    let empty: Vec<(u64, Row)> = Vec::new();
    let rows: &Vec<(u64, Row)> = table.map(|t| &t.rows).unwrap_or(&empty);
    let mut selected: Vec<&Row> = Vec::new();
    let single: Row = Vec::new();
    if table.is_none() {
        selected.push(&single);
    } else {
        for (_, r) in rows {
            let keep = match &s.filter {
                None => true,
                Some(f) => truth(&eval(f, table, Some(r), &[], cx)?),
            };
            if keep {
                selected.push(r);
            }
        }
    }
    let grouped = !s.group.is_empty() || items.iter().any(|(e, _)| e.has_agg());
    let mut out: Vec<(Row, Row)> = Vec::new(); // (values, order keys)
    let has_table = table.is_some();
    fn pick(has: bool, r: &Row) -> Option<&Row> {
        if has {
            Some(r)
        } else {
            None
        }
    }
    let row_of = |r| pick(has_table, r);
    if grouped {
        let mut groups: Vec<(Vec<Value>, Vec<&Row>)> = Vec::new();
        let mut pos: HashMap<Vec<Value>, usize> = HashMap::new();
        for r in &selected {
            let mut key = Vec::new();
            for g in &s.group {
                key.push(norm(eval(g, table, row_of(r), &[], cx)?));
            }
            match pos.get(&key) {
                Some(&i) => groups[i].1.push(r),
                None => {
                    pos.insert(key.clone(), groups.len());
                    groups.push((key, vec![r]));
                }
            }
        }
        if groups.is_empty() && s.group.is_empty() {
            groups.push((vec![], vec![]));
        }
        for (_, g) in &groups {
            let first = g.first().copied();
            let mut vals = Vec::new();
            for (e, _) in &items {
                vals.push(eval(e, table, first.and_then(&row_of), g, cx)?);
            }
            let mut keys = Vec::new();
            for (e, _) in &s.order {
                keys.push(eval(e, table, first.and_then(&row_of), g, cx)?);
            }
            out.push((vals, keys));
        }
    } else {
        for r in &selected {
            let mut vals = Vec::new();
            for (e, _) in &items {
                vals.push(eval(e, table, row_of(r), &[], cx)?);
            }
            let mut keys = Vec::new();
            for (e, _) in &s.order {
                keys.push(eval(e, table, row_of(r), &[], cx)?);
            }
            out.push((vals, keys));
        }
    }
    if !s.order.is_empty() {
        out.sort_by(|a, b| {
            for (i, (_, desc)) in s.order.iter().enumerate() {
                let o = match (a.1[i].is_null(), b.1[i].is_null()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Less,
                    (false, true) => std::cmp::Ordering::Greater,
                    _ => a.1[i].compare(&b.1[i]).unwrap_or(std::cmp::Ordering::Equal),
                };
                let o = if *desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let mut rows: Vec<Row> = out.into_iter().map(|(v, _)| v).collect();
    if let Some(n) = s.top {
        rows.truncate(n);
    }
    let columns = items
        .iter()
        .enumerate()
        .map(|(i, (e, name))| {
            let ty = match (e, table) {
                (Expr::Col(c), Some(t)) => t.col(c).map(|ci| t.columns[ci].ty.clone()),
                _ => None,
            }
            .unwrap_or_else(|| infer(rows.iter().map(|r| r[i].clone())));
            (name.clone(), ty)
        })
        .collect();
    Ok(ResultSet { columns, rows })
}

/// Outcome of one statement, for the wire layer.
pub enum Outcome {
    Rows(ResultSet),
    Count(u64),
    Done,
    Begin,
    Commit,
    Rollback,
    /// `INSERT BULK`: the wire layer now expects a bulk-load message for these columns.
    Bulk {
        table: String,
        cols: Vec<usize>,
    },
}

pub fn run_stmt(
    db: &mut Db,
    database: &str,
    st: Stmt,
    cx: &Ctx,
    undo: &mut Vec<Undo>,
) -> Result<Outcome, SqlError> {
    match st {
        Stmt::Select(s) => Ok(Outcome::Rows(run_select(db, database, &s, cx)?)),
        Stmt::Nothing => Ok(Outcome::Done),
        Stmt::If(cond, inner) => {
            if truth(&eval(&cond, None, None, &[], cx)?) {
                run_stmt(db, database, *inner, cx, undo)
            } else {
                Ok(Outcome::Done)
            }
        }
        Stmt::Begin => Ok(Outcome::Begin),
        Stmt::Commit => Ok(Outcome::Commit),
        Stmt::Rollback => Ok(Outcome::Rollback),
        Stmt::Create(t) => {
            db.create(t, undo)?;
            Ok(Outcome::Done)
        }
        Stmt::Drop { table, if_exists } => {
            db.drop_table(&table, if_exists, undo)?;
            Ok(Outcome::Done)
        }
        Stmt::InsertBulk { table, cols } => {
            let t = db.table(&table)?;
            let mut idx = Vec::new();
            for c in cols {
                idx.push(
                    t.col(&c)
                        .ok_or_else(|| (207, format!("Invalid column name '{c}'.")))?,
                );
            }
            Ok(Outcome::Bulk { table, cols: idx })
        }
        Stmt::Insert { table, cols, rows } => {
            let t = db.table(&table)?;
            let idx: Vec<usize> = match cols {
                Some(cs) => {
                    let mut v = Vec::new();
                    for c in cs {
                        v.push(
                            t.col(&c)
                                .ok_or_else(|| (207, format!("Invalid column name '{c}'.")))?,
                        );
                    }
                    v
                }
                None => (0..t.columns.len())
                    .filter(|&i| !t.columns[i].identity)
                    .collect(),
            };
            let mut n = 0;
            for r in rows {
                if r.len() != idx.len() {
                    return Err((
                        110,
                        "There are fewer columns in the INSERT statement than values specified in the VALUES clause.".into(),
                    ));
                }
                let mut vals = Vec::new();
                for e in &r {
                    vals.push(eval(e, None, None, &[], cx)?);
                }
                db.insert(&table, &idx, vals, undo)?;
                n += 1;
            }
            Ok(Outcome::Count(n))
        }
        Stmt::Delete { table, mut filter } => {
            if let Some(f) = filter.as_mut() {
                f.prepare(db, database, cx)?;
            }
            let t = db.table(&table)?.clone_shape();
            let keep = |r: &Row| -> Result<bool, SqlError> {
                Ok(match &filter {
                    None => false,
                    Some(f) => !truth(&eval(f, Some(&t), Some(r), &[], cx)?),
                })
            };
            Ok(Outcome::Count(db.delete_where(&table, &keep, undo)?))
        }
        Stmt::Update {
            table,
            mut sets,
            mut filter,
        } => {
            if let Some(f) = filter.as_mut() {
                f.prepare(db, database, cx)?;
            }
            for (_, e) in sets.iter_mut() {
                e.prepare(db, database, cx)?;
            }
            let t = db.table(&table)?.clone_shape();
            let mut idx = Vec::new();
            for (c, _) in &sets {
                idx.push(
                    t.col(c)
                        .ok_or_else(|| (207, format!("Invalid column name '{c}'.")))?,
                );
            }
            let f = |r: &Row| -> Result<Option<Row>, SqlError> {
                let hit = match &filter {
                    None => true,
                    Some(f) => truth(&eval(f, Some(&t), Some(r), &[], cx)?),
                };
                if !hit {
                    return Ok(None);
                }
                let mut new = r.clone();
                for (i, (_, e)) in idx.iter().zip(&sets) {
                    let col = &t.columns[*i];
                    new[*i] = eval(e, Some(&t), Some(r), &[], cx)?.coerce(&col.ty, &col.name)?;
                }
                Ok(Some(new))
            };
            Ok(Outcome::Count(db.update_where(&table, &f, undo)?))
        }
    }
}

impl Table {
    /// The table's columns without its rows, for evaluating expressions during a write.
    pub fn clone_shape(&self) -> Table {
        Table::new(&self.name, self.columns.clone(), self.uniques.clone())
    }
}
