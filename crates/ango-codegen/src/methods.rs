//! The method table as `ango_core::api::methods_json()` writes it, and the small
//! TypeScript type expressions its `ty` fields hold.

use serde_json::Value;

use crate::ir::{GenError, GenResult, Ty};

/// One parameter of a table method.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Python (official) name, snake_case.
    pub name: String,
    /// Node name, camelCase.
    pub node_name: String,
    /// TypeScript type expression.
    pub ty: String,
    /// Python annotation.
    pub py_ty: String,
    /// JSON literal of the default; `None` when the parameter is required.
    pub default: Option<String>,
    /// Keyword-only in Python.
    pub keyword_only: bool,
    /// What it is.
    pub doc: String,
    /// Older names the core also accepts for it (Python: extra keyword-only parameters).
    pub aliases: Vec<String>,
}

/// What a table method returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Returns {
    /// The server's reply document `{status, data: T}`, naming `T`.
    Document(String),
    /// A value of a named type or a TypeScript type expression.
    Plain(String),
    /// Anything.
    Any,
}

/// One table method.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// Python name.
    pub name: String,
    /// Node name.
    pub node_name: String,
    /// What it does, its arguments, return value and errors.
    pub doc: String,
    /// Its parameters, in order.
    pub params: Vec<Param>,
    /// What it returns.
    pub returns: Returns,
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A field of `obj` by its snake_case name or camelCase spelling.
fn field<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| obj.get(camel(key)))
}

fn string(obj: &Value, key: &str, what: &str) -> GenResult<String> {
    match field(obj, key) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(GenError(format!("{what}: missing string field `{key}`"))),
    }
}

fn optional_string(obj: &Value, key: &str) -> Option<String> {
    field(obj, key).and_then(Value::as_str).map(str::to_string)
}

fn returns_of(value: Option<&Value>, what: &str) -> GenResult<Returns> {
    let bad = || GenError(format!("{what}: unreadable `returns`: {value:?}"));
    let value = match value {
        None | Some(Value::Null) => return Ok(Returns::Any),
        Some(v) => v,
    };
    let (kind, name) = match value {
        Value::String(s) => (s.as_str(), None),
        Value::Object(map) => {
            if let Some(kind) = map.get("kind").and_then(Value::as_str) {
                let name = ["type", "name", "value", "ty"]
                    .iter()
                    .find_map(|k| map.get(*k).and_then(Value::as_str));
                (kind, name)
            } else if map.len() == 1 {
                let (k, v) = map.iter().next().ok_or_else(bad)?;
                (k.as_str(), v.as_str())
            } else {
                return Err(bad());
            }
        }
        _ => return Err(bad()),
    };
    match (kind.to_ascii_lowercase().as_str(), name) {
        ("any", _) => Ok(Returns::Any),
        ("document", Some(t)) => Ok(Returns::Document(t.to_string())),
        ("plain", Some(t)) => Ok(Returns::Plain(t.to_string())),
        _ => Err(bad()),
    }
}

/// Reads the table: a JSON array of methods (or an object with a `methods` array).
pub fn parse_methods(table: &Value) -> GenResult<Vec<Method>> {
    let list = match table {
        Value::Array(list) => list,
        Value::Object(map) => map
            .get("methods")
            .and_then(Value::as_array)
            .ok_or_else(|| GenError("the method table has no `methods` array".into()))?,
        _ => return Err(GenError("the method table is not an array".into())),
    };
    let mut methods = Vec::new();
    for entry in list {
        let name = string(entry, "name", "a method")?;
        let what = format!("method {name}");
        let node_name = optional_string(entry, "node_name").unwrap_or_else(|| camel(&name));
        let doc = optional_string(entry, "doc").unwrap_or_default();
        let mut params = Vec::new();
        if let Some(list) = field(entry, "params").and_then(Value::as_array) {
            for p in list {
                let pname = string(p, "name", &what)?;
                let pwhat = format!("{what}, parameter {pname}");
                let default = match field(p, "default") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(other) => {
                        return Err(GenError(format!(
                            "{pwhat}: `default` must be a JSON literal in a string, not {other}"
                        )));
                    }
                };
                if let Some(d) = &default
                    && serde_json::from_str::<Value>(d).is_err()
                {
                    return Err(GenError(format!(
                        "{pwhat}: default {d:?} is not a JSON literal"
                    )));
                }
                params.push(Param {
                    node_name: optional_string(p, "node_name").unwrap_or_else(|| camel(&pname)),
                    ty: optional_string(p, "ty").unwrap_or_else(|| "unknown".into()),
                    py_ty: optional_string(p, "py_ty").unwrap_or_else(|| "Any".into()),
                    default,
                    keyword_only: field(p, "keyword_only")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    doc: optional_string(p, "doc").unwrap_or_default(),
                    aliases: field(p, "aliases")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default(),
                    name: pname,
                });
            }
        }
        let returns = returns_of(field(entry, "returns"), &what)?;
        methods.push(Method {
            name,
            node_name,
            doc,
            params,
            returns,
        });
    }
    methods.sort_by(|a, b| a.name.cmp(&b.name));
    for pair in methods.windows(2) {
        if pair[0].name == pair[1].name {
            return Err(GenError(format!("method {} is listed twice", pair[0].name)));
        }
    }
    Ok(methods)
}

/// Parses a TypeScript type expression of the table (`string`, `Task[]`,
/// `string | null`, `Record<string, unknown>`, `ApiDocument<TaskList>`, `'a' | 'b'`,
/// `{ ... }`). Object literals read as a map of anything.
pub fn parse_ts(text: &str) -> GenResult<Ty> {
    let mut p = TsParser {
        chars: text.chars().collect(),
        pos: 0,
        text,
    };
    let ty = p.union()?;
    p.skip_ws();
    if p.pos != p.chars.len() {
        return p.fail("unexpected text");
    }
    Ok(ty)
}

struct TsParser<'a> {
    chars: Vec<char>,
    pos: usize,
    text: &'a str,
}

impl TsParser<'_> {
    fn fail<T>(&self, what: &str) -> GenResult<T> {
        Err(GenError(format!(
            "type {:?}: {what} at character {}",
            self.text, self.pos
        )))
    }

    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.chars.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn union(&mut self) -> GenResult<Ty> {
        self.eat('|');
        let mut items = vec![self.postfix()?];
        while self.eat('|') {
            items.push(self.postfix()?);
        }
        Ok(Ty::union(items))
    }

    fn postfix(&mut self) -> GenResult<Ty> {
        let mut ty = self.primary()?;
        loop {
            self.skip_ws();
            if self.chars.get(self.pos) == Some(&'[') && self.chars.get(self.pos + 1) == Some(&']')
            {
                self.pos += 2;
                ty = Ty::Array(Box::new(ty));
            } else {
                return Ok(ty);
            }
        }
    }

    fn primary(&mut self) -> GenResult<Ty> {
        self.skip_ws();
        match self.chars.get(self.pos).copied() {
            Some('(') => {
                self.pos += 1;
                let ty = self.union()?;
                if !self.eat(')') {
                    return self.fail("expected `)`");
                }
                Ok(ty)
            }
            Some(q @ ('\'' | '"')) => {
                self.pos += 1;
                let start = self.pos;
                while self.chars.get(self.pos).is_some_and(|&c| c != q) {
                    self.pos += 1;
                }
                if self.pos >= self.chars.len() {
                    return self.fail("unterminated string");
                }
                let s: String = self.chars[start..self.pos].iter().collect();
                self.pos += 1;
                Ok(Ty::Lit(s))
            }
            Some('{') => {
                let mut depth = 0;
                while let Some(&c) = self.chars.get(self.pos) {
                    self.pos += 1;
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                return Ok(Ty::Map(Box::new(Ty::Any)));
                            }
                        }
                        _ => {}
                    }
                }
                self.fail("unterminated `{`")
            }
            Some('[') => {
                self.pos += 1;
                let mut items = Vec::new();
                if !self.eat(']') {
                    loop {
                        items.push(self.union()?);
                        if self.eat(']') {
                            break;
                        }
                        if !self.eat(',') {
                            return self.fail("expected `,` or `]`");
                        }
                    }
                }
                Ok(Ty::Tuple(items))
            }
            Some(c) if c.is_ascii_digit() || c == '-' => {
                let start = self.pos;
                while self
                    .chars
                    .get(self.pos)
                    .is_some_and(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
                {
                    self.pos += 1;
                }
                let _ = start;
                Ok(Ty::Num)
            }
            Some(c) if c.is_alphabetic() || c == '_' || c == '$' => {
                let start = self.pos;
                while self
                    .chars
                    .get(self.pos)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '$' || *c == '.')
                {
                    self.pos += 1;
                }
                let name: String = self.chars[start..self.pos].iter().collect();
                let mut args = Vec::new();
                if self.eat('<') {
                    loop {
                        args.push(self.union()?);
                        if self.eat('>') {
                            break;
                        }
                        if !self.eat(',') {
                            return self.fail("expected `,` or `>`");
                        }
                    }
                }
                Ok(match (name.as_str(), args.as_slice()) {
                    ("string", []) => Ty::Str,
                    ("number", []) => Ty::Num,
                    ("bigint", []) => Ty::Int,
                    ("boolean", []) => Ty::Bool,
                    ("true" | "false", []) => Ty::Bool,
                    ("unknown" | "any", []) => Ty::Any,
                    ("null" | "undefined" | "void", []) => Ty::Null,
                    ("object", []) => Ty::Map(Box::new(Ty::Any)),
                    ("Record", [_, v]) => Ty::Map(Box::new(v.clone())),
                    ("Array" | "ReadonlyArray", [t]) => Ty::Array(Box::new(t.clone())),
                    (_, []) => Ty::Named(name),
                    _ => Ty::Generic(name, args),
                })
            }
            _ => self.fail("expected a type"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ts_expressions_parse() {
        assert_eq!(parse_ts("string").unwrap(), Ty::Str);
        assert_eq!(
            parse_ts("Task[] | null").unwrap(),
            Ty::Union(vec![
                Ty::Array(Box::new(Ty::Named("Task".into()))),
                Ty::Null
            ])
        );
        assert_eq!(
            parse_ts("(string | number)[]").unwrap(),
            Ty::Array(Box::new(Ty::Union(vec![Ty::Str, Ty::Num])))
        );
        assert_eq!(
            parse_ts("Record<string, unknown>").unwrap(),
            Ty::Map(Box::new(Ty::Any))
        );
        assert_eq!(
            parse_ts("ApiDocument<TaskList>").unwrap(),
            Ty::Generic("ApiDocument".into(), vec![Ty::Named("TaskList".into())])
        );
        assert_eq!(
            parse_ts("'a' | \"b\"").unwrap(),
            Ty::Union(vec![Ty::Lit("a".into()), Ty::Lit("b".into())])
        );
        assert_eq!(
            parse_ts("{ a: string }").unwrap(),
            Ty::Map(Box::new(Ty::Any))
        );
        assert!(parse_ts("string |").is_err());
        assert!(parse_ts("Task[").is_err());
    }

    #[test]
    fn both_spellings_of_the_table_read() {
        let snake = json!([{"name": "get_task", "node_name": "getTask", "doc": "d",
            "params": [{"name": "task_id", "node_name": "taskId", "ty": "string", "py_ty": "str",
                        "default": null, "keyword_only": false, "doc": "p"}],
            "returns": {"Document": "TaskData"}}]);
        let camel = json!({"methods": [{"name": "get_task", "nodeName": "getTask", "doc": "d",
            "params": [{"name": "task_id", "nodeName": "taskId", "ty": "string", "pyTy": "str",
                        "keywordOnly": false, "doc": "p"}],
            "returns": {"kind": "document", "type": "TaskData"}}]});
        assert_eq!(
            parse_methods(&snake).unwrap(),
            parse_methods(&camel).unwrap()
        );
        let m = &parse_methods(&snake).unwrap()[0];
        assert_eq!(m.returns, Returns::Document("TaskData".into()));
        assert_eq!(m.params[0].default, None);
    }

    #[test]
    fn bad_tables_are_refused() {
        let bad_default = json!([{"name": "m", "params": [{"name": "p", "default": "nope"}]}]);
        assert!(
            parse_methods(&bad_default)
                .unwrap_err()
                .0
                .contains("not a JSON literal")
        );
        let twice = json!([{"name": "m"}, {"name": "m"}]);
        assert!(parse_methods(&twice).unwrap_err().0.contains("twice"));
        let bad_returns = json!([{"name": "m", "returns": {"Document": 3}}]);
        assert!(parse_methods(&bad_returns).is_err());
    }
}
