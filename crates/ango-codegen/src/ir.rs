//! The language-neutral model the generators render: named types read from JSON
//! Schemas (as `schemars` writes them), and type expressions.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A type expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// Any JSON value (`unknown` / `Any`).
    Any,
    /// `null` / `None`.
    Null,
    /// `boolean` / `bool`.
    Bool,
    /// An integer (`number` / `int`).
    Int,
    /// A number (`number` / `float`).
    Num,
    /// A string.
    Str,
    /// One string value.
    Lit(String),
    /// A named type (a definition, a type parameter, or a well-known name such as `Date`).
    Named(String),
    /// A named generic type applied to arguments (`ApiDocument<ProjectData>`).
    Generic(String, Vec<Ty>),
    /// A list.
    Array(Box<Ty>),
    /// A fixed-length list.
    Tuple(Vec<Ty>),
    /// An object with string keys and values of one type.
    Map(Box<Ty>),
    /// An object type written in place.
    Object(Object),
    /// One of several types.
    Union(Vec<Ty>),
}

impl Ty {
    /// A union of `items`, flattened, without duplicates; a single item stands alone.
    pub fn union(items: Vec<Ty>) -> Ty {
        let mut out: Vec<Ty> = Vec::new();
        for item in items {
            let parts = match item {
                Ty::Union(parts) => parts,
                other => vec![other],
            };
            for part in parts {
                if !out.contains(&part) {
                    out.push(part);
                }
            }
        }
        if out.contains(&Ty::Any) {
            return Ty::Any;
        }
        match out.len() {
            0 => Ty::Any,
            1 => out.pop().unwrap_or(Ty::Any),
            _ => Ty::Union(out),
        }
    }

    /// This type without its `null` alternative.
    pub fn without_null(&self) -> Ty {
        match self {
            Ty::Union(parts) => {
                Ty::union(parts.iter().filter(|t| **t != Ty::Null).cloned().collect())
            }
            other => other.clone(),
        }
    }

    /// True when `null` is one of the values.
    pub fn is_nullable(&self) -> bool {
        match self {
            Ty::Null | Ty::Any => true,
            Ty::Union(parts) => parts.iter().any(Ty::is_nullable),
            _ => false,
        }
    }

    /// Every name this expression refers to (definitions and type parameters).
    pub fn names(&self, out: &mut Vec<String>) {
        match self {
            Ty::Named(n) => out.push(n.clone()),
            Ty::Generic(n, args) => {
                out.push(n.clone());
                args.iter().for_each(|a| a.names(out));
            }
            Ty::Array(t) | Ty::Map(t) => t.names(out),
            Ty::Tuple(ts) | Ty::Union(ts) => ts.iter().for_each(|t| t.names(out)),
            Ty::Object(o) => o.fields.iter().for_each(|f| f.ty.names(out)),
            _ => {}
        }
    }
}

/// A field of an object type.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The JSON key.
    pub name: String,
    /// Its type.
    pub ty: Ty,
    /// False when the key may be missing.
    pub required: bool,
    /// Its documentation.
    pub doc: Option<String>,
}

/// An object type: known fields, and whether other keys may appear.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    /// The known fields, in declaration order.
    pub fields: Vec<Field>,
    /// The type of the values of other keys (`None`: no other keys expected).
    pub extra: Option<Box<Ty>>,
}

/// A named type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    /// Its name.
    pub name: String,
    /// Type parameters (`["T"]` for `ApiDocument<T>`).
    pub params: Vec<String>,
    /// Its documentation.
    pub doc: Option<String>,
    /// What it is.
    pub body: Body,
}

/// The definition of a named type.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// An object with fields (an `interface` / a `TypedDict`).
    Object(Object),
    /// Another type expression (a `type` alias).
    Alias(Ty),
}

/// An error in the input of the generator.
#[derive(Debug)]
pub struct GenError(pub String);

impl std::fmt::Display for GenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GenError {}

/// A result of the generator.
pub type GenResult<T> = Result<T, GenError>;

fn err<T>(msg: impl Into<String>) -> GenResult<T> {
    Err(GenError(msg.into()))
}

/// Rewrites rustdoc markup that means nothing outside Rust: intra-doc links
/// (`` [`Client::upload_files`] `` becomes `` `Client::upload_files` ``) and links with
/// a target (`[text](url)` keeps the text).
pub fn clean_doc(doc: &str) -> String {
    let chars: Vec<char> = doc.trim().chars().collect();
    let mut out = String::with_capacity(doc.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '['
            && let Some(close) = chars[i + 1..].iter().position(|&c| c == ']' || c == '[')
            && chars[i + 1 + close] == ']'
        {
            let inner: String = chars[i + 1..i + 1 + close].iter().collect();
            let after = i + 2 + close;
            if chars.get(after) == Some(&'(')
                && let Some(end) = chars[after..].iter().position(|&c| c == ')')
            {
                out.push_str(&inner);
                i = after + end + 1;
                continue;
            }
            if inner.len() > 2 && inner.starts_with('`') && inner.ends_with('`') {
                out.push_str(&inner);
                i = after;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn doc_of(schema: &Map<String, Value>) -> Option<String> {
    let title = schema.get("title").and_then(Value::as_str);
    let description = schema.get("description").and_then(Value::as_str);
    let text = match (title, description) {
        (Some(t), Some(d)) => format!("{t}\n\n{d}"),
        (Some(t), None) => t.to_string(),
        (None, Some(d)) => d.to_string(),
        (None, None) => return None,
    };
    let text = clean_doc(&text);
    (!text.is_empty()).then_some(text)
}

/// The name a `$ref` points to (`#/$defs/Project` -> `Project`).
fn ref_name(reference: &str) -> GenResult<String> {
    match reference.rsplit_once('/') {
        Some((prefix, name)) if prefix == "#/$defs" || prefix == "#/definitions" => {
            Ok(name.to_string())
        }
        _ => err(format!("unsupported $ref {reference:?}")),
    }
}

/// The type a JSON Schema describes.
pub fn ty_of(schema: &Value) -> GenResult<Ty> {
    let map = match schema {
        Value::Bool(true) => return Ok(Ty::Any),
        Value::Bool(false) => return err("a `false` schema (no value allowed)"),
        Value::Object(map) => map,
        other => return err(format!("not a schema: {other}")),
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        return Ok(Ty::Named(ref_name(reference)?));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(list) = map.get(key).and_then(Value::as_array) {
            let items = list.iter().map(ty_of).collect::<GenResult<Vec<_>>>()?;
            return Ok(Ty::union(items));
        }
    }
    if let Some(list) = map.get("allOf").and_then(Value::as_array) {
        return match list.as_slice() {
            [one] => ty_of(one),
            _ => err("`allOf` with several schemas is not supported"),
        };
    }
    if let Some(value) = map.get("const") {
        return literal(value);
    }
    if let Some(values) = map.get("enum").and_then(Value::as_array) {
        let items = values.iter().map(literal).collect::<GenResult<Vec<_>>>()?;
        return Ok(Ty::union(items));
    }
    match map.get("type") {
        None => Ok(Ty::Any),
        Some(Value::String(t)) => ty_of_type(t, map),
        Some(Value::Array(types)) => {
            let items = types
                .iter()
                .map(|t| match t.as_str() {
                    Some(t) => ty_of_type(t, map),
                    None => err(format!("invalid `type` {t}")),
                })
                .collect::<GenResult<Vec<_>>>()?;
            Ok(Ty::union(items))
        }
        Some(other) => err(format!("invalid `type` {other}")),
    }
}

fn literal(value: &Value) -> GenResult<Ty> {
    match value {
        Value::String(s) => Ok(Ty::Lit(s.clone())),
        Value::Null => Ok(Ty::Null),
        other => err(format!("unsupported enum value {other}")),
    }
}

fn ty_of_type(name: &str, map: &Map<String, Value>) -> GenResult<Ty> {
    Ok(match name {
        "null" => Ty::Null,
        "boolean" => Ty::Bool,
        "integer" => Ty::Int,
        "number" => Ty::Num,
        "string" => Ty::Str,
        "array" => {
            if let Some(prefix) = map.get("prefixItems").and_then(Value::as_array) {
                Ty::Tuple(prefix.iter().map(ty_of).collect::<GenResult<_>>()?)
            } else {
                let item = map.get("items").map(ty_of).transpose()?.unwrap_or(Ty::Any);
                let min = map.get("minItems").and_then(Value::as_u64);
                let max = map.get("maxItems").and_then(Value::as_u64);
                match (min, max) {
                    (Some(n), Some(m)) if n == m && (1..=4).contains(&n) => {
                        Ty::Tuple(vec![item; n as usize])
                    }
                    _ => Ty::Array(Box::new(item)),
                }
            }
        }
        "object" => {
            let has_fields = map
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| !p.is_empty());
            if has_fields {
                Ty::Object(object_of(map)?)
            } else {
                match map.get("additionalProperties") {
                    None | Some(Value::Bool(true)) => Ty::Map(Box::new(Ty::Any)),
                    Some(Value::Bool(false)) => Ty::Object(Object::default()),
                    Some(schema) => Ty::Map(Box::new(ty_of(schema)?)),
                }
            }
        }
        other => return err(format!("unsupported type {other:?}")),
    })
}

/// The fields of an object schema.
pub fn object_of(map: &Map<String, Value>) -> GenResult<Object> {
    let required: Vec<&str> = map
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields = Vec::new();
    if let Some(props) = map.get("properties").and_then(Value::as_object) {
        for (name, schema) in props {
            let doc = schema.as_object().and_then(doc_of);
            let ty = ty_of(schema)?;
            // A key whose value may be null may as well be missing (an `Option` field
            // reads both the same): optional, whatever the contract said.
            let nullable = matches!(&ty, Ty::Null)
                || matches!(&ty, Ty::Union(parts) if parts.contains(&Ty::Null));
            fields.push(Field {
                name: name.clone(),
                required: required.contains(&name.as_str()) && !nullable,
                ty,
                doc,
            });
        }
    }
    let extra = match map.get("additionalProperties") {
        None | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => Some(Box::new(Ty::Any)),
        Some(schema) => Some(Box::new(ty_of(schema)?)),
    };
    Ok(Object { fields, extra })
}

/// A named type from its JSON Schema definition.
pub fn typedef_of(name: &str, params: &[String], schema: &Value) -> GenResult<TypeDef> {
    let map = schema
        .as_object()
        .ok_or_else(|| GenError(format!("{name}: the schema is not an object")))?;
    let doc = doc_of(map);
    let is_object = map.get("type").and_then(Value::as_str) == Some("object")
        && map.get("properties").is_some()
        && !map.contains_key("anyOf")
        && !map.contains_key("oneOf");
    let body = if is_object {
        Body::Object(object_of(map).map_err(|e| GenError(format!("{name}: {e}")))?)
    } else {
        let mut bare = map.clone();
        bare.remove("description");
        bare.remove("title");
        Body::Alias(ty_of(&Value::Object(bare)).map_err(|e| GenError(format!("{name}: {e}")))?)
    };
    Ok(TypeDef {
        name: name.to_string(),
        params: params.to_vec(),
        doc,
        body,
    })
}

/// The input of the generators: named types (from JSON Schema definitions) and which
/// of them describe server replies (the Python stubs describe only those).
#[derive(Debug, Clone, Default)]
pub struct Types {
    /// Every named type, by name.
    pub defs: BTreeMap<String, TypeDef>,
    /// Names of the reply types (with what they reference).
    pub replies: Vec<String>,
    /// Names of the argument types (with what they reference).
    pub requests: Vec<String>,
}

impl Types {
    /// Reads `$defs`-style definitions. `generics` names the definitions that are
    /// generic, with their type parameters (their schemas refer to `#/$defs/<param>`).
    pub fn from_defs(
        defs: &Map<String, Value>,
        generics: &BTreeMap<String, Vec<String>>,
    ) -> GenResult<Self> {
        let mut out = BTreeMap::new();
        for (name, schema) in defs {
            if let Some(base) = name.strip_suffix(|c: char| c.is_ascii_digit())
                && !base.is_empty()
                && defs.contains_key(base.trim_end_matches(|c: char| c.is_ascii_digit()))
            {
                return err(format!(
                    "two types are both named {:?} (schemars numbered one {name:?}): rename one",
                    base.trim_end_matches(|c: char| c.is_ascii_digit())
                ));
            }
            let params = generics.get(name).cloned().unwrap_or_default();
            out.insert(name.clone(), typedef_of(name, &params, schema)?);
        }
        Ok(Types {
            defs: out,
            replies: Vec::new(),
            requests: Vec::new(),
        })
    }

    /// Every definition reachable from `roots`, sorted by name.
    pub fn reachable(&self, roots: &[String]) -> Vec<&TypeDef> {
        let mut seen = std::collections::BTreeSet::new();
        let mut stack: Vec<String> = roots.to_vec();
        while let Some(name) = stack.pop() {
            let Some(def) = self.defs.get(&name) else {
                continue;
            };
            if !seen.insert(name) {
                continue;
            }
            let mut names = Vec::new();
            match &def.body {
                Body::Object(o) => {
                    o.fields.iter().for_each(|f| f.ty.names(&mut names));
                    if let Some(extra) = &o.extra {
                        extra.names(&mut names);
                    }
                }
                Body::Alias(t) => t.names(&mut names),
            }
            stack.extend(names);
        }
        seen.iter().filter_map(|n| self.defs.get(n)).collect()
    }

    /// Names referred to by the definitions that are neither defined nor type parameters.
    pub fn undefined_names(&self) -> Vec<String> {
        let mut missing = std::collections::BTreeSet::new();
        for def in self.defs.values() {
            let mut names = Vec::new();
            match &def.body {
                Body::Object(o) => {
                    o.fields.iter().for_each(|f| f.ty.names(&mut names));
                    if let Some(extra) = &o.extra {
                        extra.names(&mut names);
                    }
                }
                Body::Alias(t) => t.names(&mut names),
            }
            for name in names {
                if !self.defs.contains_key(&name) && !def.params.contains(&name) {
                    missing.insert(format!("{name} (in {})", def.name));
                }
            }
        }
        missing.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn doc_links_lose_their_rust_markup() {
        assert_eq!(
            clean_doc("The result of [`Client::upload_files`]: see [the docs](https://x.y/z)."),
            "The result of `Client::upload_files`: see the docs."
        );
        assert_eq!(clean_doc("a [b] c [`d`"), "a [b] c [`d`");
    }

    #[test]
    fn schemas_become_types() {
        let t = ty_of(&json!({"type": ["string", "null"]})).unwrap();
        assert_eq!(t, Ty::Union(vec![Ty::Str, Ty::Null]));
        let t = ty_of(&json!({"anyOf": [{"$ref": "#/$defs/Task"}, {"type": "null"}]})).unwrap();
        assert_eq!(t, Ty::Union(vec![Ty::Named("Task".into()), Ty::Null]));
        let t = ty_of(
            &json!({"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}),
        )
        .unwrap();
        assert_eq!(t, Ty::Tuple(vec![Ty::Num, Ty::Num]));
        let t = ty_of(&json!({"type": "string", "enum": ["a", "b"]})).unwrap();
        assert_eq!(t, Ty::Union(vec![Ty::Lit("a".into()), Ty::Lit("b".into())]));
        let t =
            ty_of(&json!({"type": "object", "additionalProperties": {"type": "integer"}})).unwrap();
        assert_eq!(t, Ty::Map(Box::new(Ty::Int)));
        assert_eq!(ty_of(&json!({"description": "anything"})).unwrap(), Ty::Any);
        assert!(ty_of(&json!({"$ref": "http://elsewhere/x"})).is_err());
    }

    #[test]
    fn numbered_duplicate_names_are_refused() {
        let defs = json!({"Storage": {"type": "object", "properties": {}},
                          "Storage2": {"type": "object", "properties": {}}});
        let e = Types::from_defs(defs.as_object().unwrap(), &BTreeMap::new()).unwrap_err();
        assert!(e.0.contains("both named \"Storage\""), "{e}");
    }
}
