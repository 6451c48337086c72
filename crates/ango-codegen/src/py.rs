//! `python/imerit_ango/_types.pyi` (a `TypedDict` per reply type) and
//! `python/imerit_ango/sdk.pyi` (the `SDK` class: the hand-written methods from a
//! template, and the table's methods).

use std::collections::BTreeSet;
use std::fmt::Write;

use serde_json::Value;

use crate::ir::{Body, GenError, GenResult, Ty, TypeDef, Types};
use crate::methods::{Method, Param, Returns, parse_ts};

/// Where the generated table methods go in the `sdk.pyi` template.
pub const METHODS_MARKER: &str = "    # @generated: table methods";

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

const BUILTINS: &[&str] = &[
    "bool", "bytes", "dict", "float", "int", "list", "None", "object", "str", "tuple",
];

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name)
}

/// A Python string literal (double quotes).
fn str_literal(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Renders Python annotations, collecting the `typing` names they use.
struct Renderer<'a> {
    /// Prefix of generated type names (`_types.` in `sdk.pyi`).
    prefix: &'a str,
    /// Type parameters in scope, renamed (`T` -> `_T`).
    params: &'a [String],
    typing: BTreeSet<&'static str>,
}

impl Renderer<'_> {
    fn render(&mut self, ty: &Ty) -> String {
        match ty {
            Ty::Any => {
                self.typing.insert("Any");
                "Any".into()
            }
            Ty::Null => "None".into(),
            Ty::Bool => "bool".into(),
            Ty::Int => "int".into(),
            Ty::Num => "float".into(),
            Ty::Str => "str".into(),
            Ty::Lit(s) => {
                self.typing.insert("Literal");
                format!("Literal[{}]", str_literal(s))
            }
            Ty::Named(n) if self.params.contains(n) => format!("_{n}"),
            Ty::Named(n) => format!("{}{n}", self.prefix),
            Ty::Generic(n, args) => {
                let args: Vec<String> = args.iter().map(|a| self.render(a)).collect();
                format!("{}{n}[{}]", self.prefix, args.join(", "))
            }
            // JSON arrays arrive as lists, fixed length or not.
            Ty::Array(t) => {
                self.typing.insert("List");
                format!("List[{}]", self.render(t))
            }
            Ty::Tuple(ts) => {
                self.typing.insert("List");
                let item = self.render(&Ty::union(ts.clone()));
                format!("List[{item}]")
            }
            Ty::Map(t) => {
                self.typing.insert("Dict");
                format!("Dict[str, {}]", self.render(t))
            }
            Ty::Object(_) => {
                self.typing.insert("Dict");
                self.typing.insert("Any");
                "Dict[str, Any]".into()
            }
            Ty::Union(ts) => {
                let nullable = ts.contains(&Ty::Null);
                let rest: Vec<&Ty> = ts.iter().filter(|t| **t != Ty::Null).collect();
                let lits: Vec<String> = rest
                    .iter()
                    .filter_map(|t| match t {
                        Ty::Lit(s) => Some(str_literal(s)),
                        _ => None,
                    })
                    .collect();
                let mut parts: Vec<String> = Vec::new();
                if !lits.is_empty() {
                    self.typing.insert("Literal");
                    parts.push(format!("Literal[{}]", lits.join(", ")));
                }
                for t in rest.iter().filter(|t| !matches!(t, Ty::Lit(_))) {
                    parts.push(self.render(t));
                }
                let inner = if parts.len() == 1 {
                    parts.pop().unwrap_or_default()
                } else {
                    self.typing.insert("Union");
                    format!("Union[{}]", parts.join(", "))
                };
                if nullable {
                    self.typing.insert("Optional");
                    format!("Optional[{inner}]")
                } else {
                    inner
                }
            }
        }
    }
}

fn comment(out: &mut String, indent: &str, doc: &str) {
    for line in doc.trim().lines() {
        let line = line.trim_end();
        if line.is_empty() {
            let _ = writeln!(out, "{indent}#");
        } else {
            let _ = writeln!(out, "{indent}# {line}");
        }
    }
}

/// `doc` as the text of a triple-quoted Python string: backslashes and triple quotes
/// escaped, and a quote just before the closing quotes (it would end the string early).
pub fn docstring_text(doc: &str) -> String {
    let mut doc = doc.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"");
    if doc.ends_with('"') {
        doc.insert(doc.len() - 1, '\\');
    }
    doc
}

fn docstring(out: &mut String, indent: &str, doc: &str) {
    let doc = docstring_text(doc.trim());
    if doc.is_empty() {
        return;
    }
    if !doc.contains('\n') {
        let _ = writeln!(out, "{indent}\"\"\"{doc}\"\"\"");
        return;
    }
    let mut lines = doc.lines();
    let _ = writeln!(
        out,
        "{indent}\"\"\"{}",
        lines.next().unwrap_or_default().trim_end()
    );
    for line in lines {
        let line = line.trim_end();
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{indent}{line}");
        }
    }
    let _ = writeln!(out, "{indent}\"\"\"");
}

const EXTRA_NOTE: &str = "Keys the SDK does not model are kept too, as the server sent them.";

fn typed_dict(out: &mut String, def: &TypeDef, r: &mut Renderer<'_>, uses: &mut Uses) {
    let o = match &def.body {
        Body::Object(o) => o,
        Body::Alias(t) => {
            if let Some(doc) = &def.doc {
                comment(out, "", doc);
            }
            let _ = writeln!(out, "{} = {}", def.name, r.render(t));
            return;
        }
    };
    let all_required = o.fields.iter().all(|f| f.required);
    let any_required = o.fields.iter().any(|f| f.required);
    let total = if all_required { "" } else { ", total=False" };
    let field_ty = |f: &crate::ir::Field, r: &mut Renderer<'_>, uses: &mut Uses| {
        let ty = r.render(&f.ty);
        if f.required && any_required && !all_required {
            uses.required = true;
            format!("Required[{ty}]")
        } else {
            ty
        }
    };
    let mut doc = def.doc.clone().unwrap_or_default();
    if o.extra.is_some() {
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str(EXTRA_NOTE);
    }
    let generic = if def.params.is_empty() {
        String::new()
    } else {
        uses.generic = true;
        let names: Vec<String> = def.params.iter().map(|p| format!("_{p}")).collect();
        format!(", Generic[{}]", names.join(", "))
    };
    if o.fields.iter().all(|f| is_identifier(&f.name)) {
        let _ = writeln!(out, "class {}(TypedDict{generic}{total}):", def.name);
        docstring(out, "    ", &doc);
        for f in &o.fields {
            if let Some(d) = &f.doc {
                comment(out, "    ", d);
            }
            let ty = field_ty(f, r, uses);
            let _ = writeln!(out, "    {}: {ty}", f.name);
        }
        if o.fields.is_empty() && doc.is_empty() {
            out.push_str("    ...\n");
        }
    } else {
        // A key that is not a Python name (`from`, `bounding-box`): the functional syntax.
        if !doc.is_empty() {
            comment(out, "", &doc);
        }
        let _ = writeln!(out, "{} = TypedDict(", def.name);
        let _ = writeln!(out, "    {},", str_literal(&def.name));
        out.push_str("    {\n");
        for f in &o.fields {
            if let Some(d) = &f.doc {
                comment(out, "        ", d);
            }
            let ty = field_ty(f, r, uses);
            let _ = writeln!(out, "        {}: {ty},", str_literal(&f.name));
        }
        out.push_str("    },\n");
        if !total.is_empty() {
            out.push_str("    total=False,\n");
        }
        out.push_str(")\n");
    }
}

#[derive(Default)]
struct Uses {
    required: bool,
    generic: bool,
}

/// Names of the definitions the Python stubs describe: the reply types, the types the
/// table's methods return, and what those refer to.
fn python_roots(types: &Types, methods: &[Method]) -> GenResult<Vec<String>> {
    let mut roots = types.replies.clone();
    for m in methods {
        let mut names = Vec::new();
        return_ty(m)?.names(&mut names);
        roots.extend(names);
    }
    Ok(roots)
}

/// The whole `_types.pyi`.
pub fn types_pyi(types: &Types, methods: &[Method]) -> GenResult<String> {
    let roots = python_roots(types, methods)?;
    let defs: Vec<&TypeDef> = types.reachable(&roots);
    let mut body = String::new();
    let mut typing: BTreeSet<&'static str> = BTreeSet::new();
    let mut uses = Uses::default();
    let mut type_vars = BTreeSet::new();
    for def in &defs {
        let mut r = Renderer {
            prefix: "",
            params: &def.params,
            typing: BTreeSet::new(),
        };
        body.push_str("\n\n");
        typed_dict(&mut body, def, &mut r, &mut uses);
        typing.extend(r.typing);
        type_vars.extend(def.params.iter().map(|p| format!("_{p}")));
    }
    let mut out = String::new();
    out.push_str(
        "\"\"\"The dicts the SDK returns, as `TypedDict`s (the server's JSON, described by the\n\
         Rust types of ango-core).\n\n\
         A key that may be missing is `NotRequired` (read it with `.get()`); `Optional[...]`\n\
         where the server may send null.\n\n\
         Generated by `cargo run -p ango-codegen`: do not edit. Stub-only (no run-time module):\n\
         import these names under `typing.TYPE_CHECKING`, e.g.\n\
         `from imerit_ango._types import Project`.\n\"\"\"\n",
    );
    typing.insert("TypedDict");
    if uses.generic {
        typing.insert("Generic");
        typing.insert("TypeVar");
    }
    let typing: Vec<&str> = typing.into_iter().collect();
    let _ = writeln!(out, "from typing import {}", typing.join(", "));
    if uses.required {
        out.push_str("\nfrom typing_extensions import Required\n");
    }
    if !type_vars.is_empty() {
        out.push('\n');
        for v in &type_vars {
            let _ = writeln!(out, "{v} = TypeVar({})", str_literal(v));
        }
    }
    out.push_str(&body);
    Ok(out)
}

/// The Python literal of a table default (a JSON literal), or `...` for a list or dict.
pub fn default_literal(json: &str) -> GenResult<String> {
    let value: Value = serde_json::from_str(json)
        .map_err(|_| GenError(format!("default {json:?} is not JSON")))?;
    Ok(match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => str_literal(&s),
        Value::Array(_) | Value::Object(_) => "...".into(),
    })
}

fn return_ty(m: &Method) -> GenResult<Ty> {
    Ok(match &m.returns {
        Returns::Any => Ty::Any,
        Returns::Document(t) => Ty::Generic("ApiDocument".into(), vec![Ty::Named(t.clone())]),
        Returns::Plain(t) => {
            parse_ts(t).map_err(|e| GenError(format!("method {}: {e}", m.name)))?
        }
    })
}

/// Every identifier of a Python annotation (`Optional[List[str]]` -> Optional, List, str).
fn identifiers(annotation: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    for c in annotation.chars().chain(std::iter::once(' ')) {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        if c == '"' || c == '\'' {
            quote = Some(c);
            continue;
        }
        if c.is_alphanumeric() || c == '_' || c == '.' {
            current.push(c);
        } else if !current.is_empty() {
            if !current.starts_with(|c: char| c.is_ascii_digit()) {
                out.push(std::mem::take(&mut current));
            } else {
                current.clear();
            }
        }
    }
    out
}

/// Names bound by the import lines of a Python module head.
pub fn imported_names(head: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut in_import = false;
    for line in head.lines() {
        let trimmed = line.trim();
        let part = if let Some(rest) = trimmed
            .strip_prefix("from ")
            .and_then(|r| r.split_once(" import ").map(|(_, names)| names))
        {
            in_import = rest.contains('(') && !rest.contains(')');
            rest
        } else if let Some(rest) = trimmed.strip_prefix("import ") {
            rest
        } else if in_import {
            if trimmed.contains(')') {
                in_import = false;
            }
            trimmed
        } else {
            continue;
        };
        for item in part.split(',') {
            let item = item.trim().trim_matches(|c| c == '(' || c == ')').trim();
            let bound = match item.split_once(" as ") {
                Some((_, alias)) => alias.trim(),
                None => item,
            };
            if !bound.is_empty() && !bound.starts_with('#') {
                names.insert(bound.to_string());
            }
        }
    }
    names
}

/// Bare generic names of an argument's annotation get their arguments, in the form
/// `mypy --strict` accepts: `List` -> `List[Any]`, and `Dict`/`dict` ->
/// `Mapping[str, Any]` (what the bare name allows, and a reply's `TypedDict` fits it).
fn with_type_arguments(annotation: &str) -> String {
    let mut out = String::with_capacity(annotation.len());
    let mut word = String::new();
    // The generic names the current position is inside (`Optional[List[|]]`).
    let mut enclosing: Vec<String> = Vec::new();
    let mut last = String::new();
    let mut chars = annotation.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            word.push(c);
            if chars
                .peek()
                .is_some_and(|n| n.is_alphanumeric() || *n == '_' || *n == '.')
            {
                continue;
            }
            let bare = chars.peek() != Some(&'[');
            // Directly the argument (or an alternative of it): any mapping will do, a
            // reply's TypedDict included. Inside a list it stays a dict (lists are
            // invariant: `List[Mapping]` would refuse a list of dicts).
            let top = enclosing.iter().all(|g| g == "Optional" || g == "Union");
            match word.as_str() {
                "Dict" | "dict" if bare && top => out.push_str("Mapping[str, Any]"),
                "Dict" | "dict" | "Mapping" if bare => {
                    out.push_str(&word);
                    out.push_str("[str, Any]");
                }
                "List" | "list" | "Sequence" | "Iterable" if bare => {
                    out.push_str(&word);
                    out.push_str("[Any]");
                }
                _ => out.push_str(&word),
            }
            last = std::mem::take(&mut word);
        } else {
            match c {
                '[' => enclosing.push(std::mem::take(&mut last)),
                ']' => {
                    enclosing.pop();
                }
                _ => {}
            }
            out.push(c);
        }
    }
    out
}

fn python_param(p: &Param, m: &Method, known: &BTreeSet<String>) -> GenResult<String> {
    let what = format!("method {}, parameter {}", m.name, p.name);
    for id in identifiers(&p.py_ty) {
        let root = id.split('.').next().unwrap_or(&id);
        if !known.contains(root) && !BUILTINS.contains(&root) {
            return Err(GenError(format!(
                "{what}: the annotation {:?} uses {id}, which sdk.pyi does not import (add it to the template)",
                p.py_ty
            )));
        }
    }
    match &p.default {
        None => Ok(format!("{}: {}", p.name, annotation(&p.py_ty, false))),
        Some(d) => {
            let literal = default_literal(d).map_err(|e| GenError(format!("{what}: {e}")))?;
            let annotation = annotation(&p.py_ty, literal == "None");
            Ok(format!("{}: {annotation} = {literal}", p.name))
        }
    }
}

/// An argument's annotation as `mypy --strict` accepts it: bare generics get their
/// arguments, and with a `None` default it admits `None`.
pub fn annotation(py_ty: &str, none_default: bool) -> String {
    let annotation = with_type_arguments(py_ty.trim());
    let nullable = annotation.starts_with("Optional[")
        || annotation == "Any"
        || annotation == "None"
        || identifiers(&annotation).iter().any(|i| i == "None");
    if none_default && !nullable {
        format!("Optional[{annotation}]")
    } else {
        annotation
    }
}

/// The import lines of the `sdk.pyi` template's head (typing, the models), which
/// name what the table's annotations use.
pub fn template_imports(template: &str) -> Vec<&str> {
    let head = template.split(METHODS_MARKER).next().unwrap_or_default();
    head.lines()
        .take_while(|l| !l.starts_with("__all__"))
        .filter(|l| l.starts_with("from ") || l.starts_with("import "))
        .filter(|l| !l.starts_with("from imerit_ango import"))
        .collect()
}

fn sdk_method(
    out: &mut String,
    m: &Method,
    types: &Types,
    known: &BTreeSet<String>,
) -> GenResult<()> {
    let mut parts = vec!["self".to_string()];
    let mut seen_default = false;
    let mut star = false;
    for p in &m.params {
        if p.keyword_only && !star {
            parts.push("*".into());
            star = true;
        }
        if !star {
            if p.default.is_some() {
                seen_default = true;
            } else if seen_default {
                return Err(GenError(format!(
                    "method {}: the required parameter {} follows a parameter with a default",
                    m.name, p.name
                )));
            }
        }
        parts.push(python_param(p, m, known)?);
    }
    let ret = return_ty(m)?;
    crate::ts::check_names(&ret, types, &format!("method {}", m.name))?;
    let mut r = Renderer {
        prefix: "_types.",
        params: &[],
        typing: BTreeSet::new(),
    };
    let ret = r.render(&ret);
    for name in r.typing {
        if !known.contains(name) {
            return Err(GenError(format!(
                "method {}: its return type uses {name}, which sdk.pyi does not import",
                m.name
            )));
        }
    }
    let one_line = format!("    def {}({}) -> {ret}:", m.name, parts.join(", "));
    if one_line.len() <= 110 {
        out.push_str(&one_line);
        out.push('\n');
    } else {
        let _ = writeln!(out, "    def {}(", m.name);
        for part in &parts {
            let _ = writeln!(out, "        {part},");
        }
        let _ = writeln!(out, "    ) -> {ret}:");
    }
    let mut doc = m.doc.trim().to_string();
    let documented: Vec<&Param> = m
        .params
        .iter()
        .filter(|p| !p.doc.trim().is_empty())
        .collect();
    if !documented.is_empty() && !doc.contains("Args:") {
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str("Args:");
        for p in documented {
            let _ = write!(
                doc,
                "\n    {}: {}",
                p.name,
                p.doc.trim().replace('\n', "\n        ")
            );
        }
    }
    docstring(out, "        ", &doc);
    out.push_str("        ...\n");
    Ok(())
}

/// Names of the methods a template's `SDK` class defines.
pub fn template_methods(template: &str) -> BTreeSet<String> {
    template
        .lines()
        .filter_map(|l| l.strip_prefix("    def "))
        .filter_map(|l| l.split('(').next())
        .map(str::to_string)
        .collect()
}

/// The whole `sdk.pyi`: the template with the table's methods in place of its marker
/// (a method the template defines by hand is not generated again).
pub fn sdk_pyi(types: &Types, methods: &[Method], template: &str) -> GenResult<String> {
    let (head, tail) = template.split_once(METHODS_MARKER).ok_or_else(|| {
        GenError(format!(
            "the sdk.pyi template has no line {METHODS_MARKER:?}"
        ))
    })?;
    let known = imported_names(head);
    if !known.contains("_types") {
        return Err(GenError(
            "the sdk.pyi template must `from imerit_ango import _types`".into(),
        ));
    }
    let manual = template_methods(template);
    let mut out = String::from(head);
    out.push_str("    # Generated from the method table (`ango_core::api`) by ango-codegen.\n");
    for m in methods.iter().filter(|m| !manual.contains(&m.name)) {
        out.push('\n');
        sdk_method(&mut out, m, types, &known)?;
    }
    let tail = tail.strip_prefix('\n').unwrap_or(tail);
    if !tail.trim().is_empty() {
        out.push('\n');
        out.push_str(tail);
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_become_python_literals() {
        assert_eq!(default_literal("null").unwrap(), "None");
        assert_eq!(default_literal("true").unwrap(), "True");
        assert_eq!(default_literal("10").unwrap(), "10");
        assert_eq!(default_literal("\"a\\\"b\"").unwrap(), "\"a\\\"b\"");
        assert_eq!(default_literal("[]").unwrap(), "...");
        assert!(default_literal("nope").is_err());
    }

    #[test]
    fn imports_are_read() {
        let head = "from typing import Any, Optional\nfrom x import (\n    A,\n    B as C,\n)\nimport os\nfrom imerit_ango import _types\n";
        let names = imported_names(head);
        for n in ["Any", "Optional", "A", "C", "os", "_types"] {
            assert!(names.contains(n), "{n} in {names:?}");
        }
        assert!(!names.contains("B"));
    }

    #[test]
    fn bare_generics_get_arguments() {
        assert_eq!(
            with_type_arguments("Optional[Dict]"),
            "Optional[Mapping[str, Any]]"
        );
        assert_eq!(with_type_arguments("List"), "List[Any]");
        assert_eq!(
            with_type_arguments("Dict[str, List]"),
            "Dict[str, List[Any]]"
        );
        assert_eq!(
            with_type_arguments("Optional[List[str]]"),
            "Optional[List[str]]"
        );
        assert_eq!(with_type_arguments("DictLike"), "DictLike");
        assert_eq!(with_type_arguments("List[dict]"), "List[dict[str, Any]]");
        assert_eq!(with_type_arguments("Dict"), "Mapping[str, Any]");
        assert_eq!(
            with_type_arguments("Union[str, Dict]"),
            "Union[str, Mapping[str, Any]]"
        );
    }

    #[test]
    fn annotation_identifiers() {
        assert_eq!(
            identifiers("Optional[Dict[str, 'Task']]"),
            vec!["Optional", "Dict", "str"]
        );
        assert_eq!(identifiers("_types.Project"), vec!["_types.Project"]);
    }
}
