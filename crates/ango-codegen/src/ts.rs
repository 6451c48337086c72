//! `node/generated/types.d.ts`: an interface per type and the `Client` class of the
//! table's methods (contract section 5).

use std::fmt::Write;

use crate::ir::{Body, GenError, GenResult, Object, Ty, TypeDef, Types};
use crate::methods::{Method, Param, Returns, parse_ts};

/// Names every TypeScript program knows (lib.es2022 + @types/node) that a `ty` may use.
const GLOBALS: &[&str] = &["AbortSignal", "Buffer", "Date", "Promise", "Uint8Array"];

/// Words a parameter may not be called in TypeScript.
const RESERVED: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
];

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn property_name(name: &str) -> String {
    if is_identifier(name) {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// A JSDoc block at `indent`.
pub fn jsdoc(out: &mut String, indent: &str, doc: &str) {
    let doc = doc.trim().replace("*/", "*\\/");
    if doc.is_empty() {
        return;
    }
    if !doc.contains('\n') {
        let _ = writeln!(out, "{indent}/** {doc} */");
        return;
    }
    let _ = writeln!(out, "{indent}/**");
    for line in doc.lines() {
        if line.trim().is_empty() {
            let _ = writeln!(out, "{indent} *");
        } else {
            let _ = writeln!(out, "{indent} * {}", line.trim_end());
        }
    }
    let _ = writeln!(out, "{indent} */");
}

/// A type expression in TypeScript.
pub fn render(ty: &Ty) -> String {
    match ty {
        Ty::Any => "unknown".into(),
        Ty::Null => "null".into(),
        Ty::Bool => "boolean".into(),
        Ty::Int | Ty::Num => "number".into(),
        Ty::Str => "string".into(),
        Ty::Lit(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Ty::Named(n) => n.clone(),
        Ty::Generic(n, args) => format!(
            "{n}<{}>",
            args.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
        Ty::Array(t) => match **t {
            Ty::Union(_) => format!("({})[]", render(t)),
            _ => format!("{}[]", render(t)),
        },
        Ty::Tuple(ts) => format!("[{}]", ts.iter().map(render).collect::<Vec<_>>().join(", ")),
        Ty::Map(t) => format!("Record<string, {}>", render(t)),
        Ty::Object(o) => inline_object(o),
        Ty::Union(ts) => ts.iter().map(render).collect::<Vec<_>>().join(" | "),
    }
}

fn inline_object(o: &Object) -> String {
    let mut parts: Vec<String> = o
        .fields
        .iter()
        .map(|f| {
            let opt = if f.required { "" } else { "?" };
            format!("{}{opt}: {}", property_name(&f.name), render(&f.ty))
        })
        .collect();
    if let Some(extra) = &o.extra {
        parts.push(format!("[key: string]: {}", index_type(o, extra)));
    }
    if parts.is_empty() {
        "Record<string, never>".into()
    } else {
        format!("{{ {} }}", parts.join("; "))
    }
}

/// The index signature's type: `unknown` unless every field fits the extra type.
fn index_type(o: &Object, extra: &Ty) -> String {
    let fits = |t: &Ty| t == extra || *extra == Ty::Any;
    if o.fields.iter().all(|f| fits(&f.ty) && f.required) {
        render(extra)
    } else {
        "unknown".into()
    }
}

/// `snake_case` -> `snakeCase` (a leading `_` stays).
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for (i, c) in name.chars().enumerate() {
        if c == '_' && i > 0 {
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

/// An interface, or a type alias. `camel_keys`: an argument type, whose keys the core
/// also accepts in camelCase, the spelling given to Node users.
fn interface(out: &mut String, def: &TypeDef, camel_keys: bool) {
    if let Some(doc) = &def.doc {
        jsdoc(out, "", doc);
    }
    let params = if def.params.is_empty() {
        String::new()
    } else {
        format!("<{}>", def.params.join(", "))
    };
    match &def.body {
        Body::Object(o) => {
            let _ = writeln!(out, "export interface {}{params} {{", def.name);
            for f in &o.fields {
                if let Some(doc) = &f.doc {
                    jsdoc(out, "  ", doc);
                }
                let opt = if f.required { "" } else { "?" };
                let key = if camel_keys {
                    camel(&f.name)
                } else {
                    f.name.clone()
                };
                let _ = writeln!(out, "  {}{opt}: {}", property_name(&key), render(&f.ty));
            }
            if let Some(extra) = &o.extra {
                jsdoc(
                    out,
                    "  ",
                    "Fields the SDK does not model, as the server sent them.",
                );
                let _ = writeln!(out, "  [key: string]: {}", index_type(o, extra));
            }
            let _ = writeln!(out, "}}");
        }
        Body::Alias(t) => {
            // Node sends arguments through `JSON.stringify`, which writes a `Date` as its
            // ISO text: a `Date` is as good a timestamp argument as the text itself.
            let date = if def.name == "Timestamp" {
                " | Date"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "export type {}{params} = {}{date}",
                def.name,
                render(t)
            );
        }
    }
}

fn param_ident(name: &str) -> String {
    if RESERVED.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// The TypeScript type of a parameter (`| null` added when the default is `null`).
fn param_type(p: &Param, types: &Types, method: &str) -> GenResult<String> {
    let ty = parse_ts(&p.ty).map_err(|e| GenError(format!("method {method}: {e}")))?;
    check_names(
        &ty,
        types,
        &format!("method {method}, parameter {}", p.name),
    )?;
    Ok(
        if p.default.as_deref() == Some("null") && !ty.is_nullable() {
            format!("{} | null", p.ty.trim())
        } else {
            p.ty.trim().to_string()
        },
    )
}

/// Fails when `ty` names a type that is neither generated nor a TypeScript global.
pub fn check_names(ty: &Ty, types: &Types, what: &str) -> GenResult<()> {
    let mut names = Vec::new();
    ty.names(&mut names);
    for name in names {
        if !types.defs.contains_key(&name) && !GLOBALS.contains(&name.as_str()) {
            return Err(GenError(format!(
                "{what} names the type {name}, which has no schema (derive JsonSchema and list it in ango-codegen)"
            )));
        }
    }
    Ok(())
}

/// The return type of a method, inside `Promise<...>`.
pub fn return_type(m: &Method, types: &Types) -> GenResult<String> {
    let what = format!("method {}", m.name);
    Ok(match &m.returns {
        Returns::Any => "unknown".into(),
        Returns::Document(t) => {
            let ty = Ty::Generic("ApiDocument".into(), vec![Ty::Named(t.clone())]);
            check_names(&ty, types, &what)?;
            render(&ty)
        }
        Returns::Plain(t) => {
            let ty = parse_ts(t).map_err(|e| GenError(format!("{what}: {e}")))?;
            check_names(&ty, types, &what)?;
            t.trim().to_string()
        }
    })
}

fn method(out: &mut String, m: &Method, types: &Types) -> GenResult<()> {
    let required: Vec<&Param> = m.params.iter().filter(|p| p.default.is_none()).collect();
    let optional: Vec<&Param> = m.params.iter().filter(|p| p.default.is_some()).collect();
    let mut doc = m.doc.trim().to_string();
    let mut tags = Vec::new();
    for p in &required {
        if !p.doc.trim().is_empty() {
            tags.push(format!(
                "@param {} {}",
                param_ident(&p.node_name),
                p.doc.trim()
            ));
        }
    }
    tags.push(
        "@param options Optional arguments, and `signal`: an `AbortSignal` that cancels the call (the promise then rejects with an `AngoError` of code `CANCELLED`)."
            .to_string(),
    );
    if !doc.is_empty() {
        doc.push_str("\n\n");
    }
    doc.push_str(&tags.join("\n"));
    jsdoc(out, "  ", &doc);
    let mut args = Vec::new();
    for p in &required {
        args.push(format!(
            "{}: {}",
            param_ident(&p.node_name),
            param_type(p, types, &m.name)?
        ));
    }
    let mut opts = String::from("options?: {\n");
    for p in &optional {
        let mut pdoc = p.doc.trim().to_string();
        if let Some(d) = &p.default {
            if !pdoc.is_empty() {
                pdoc.push(' ');
            }
            let _ = write!(pdoc, "Default: `{d}`.");
        }
        jsdoc(&mut opts, "    ", &pdoc);
        let _ = writeln!(
            opts,
            "    {}?: {}",
            property_name(&p.node_name),
            param_type(p, types, &m.name)?
        );
    }
    opts.push_str("    /** Cancels the call: the promise rejects with an `AngoError` of code `CANCELLED`. */\n");
    opts.push_str("    signal?: AbortSignal\n  }");
    args.push(opts);
    let _ = writeln!(
        out,
        "  {}({}): Promise<{}>",
        param_ident(&m.node_name),
        args.join(", "),
        return_type(m, types)?
    );
    Ok(())
}

/// The whole `types.d.ts`.
pub fn generate(types: &Types, methods: &[Method]) -> GenResult<String> {
    let mut out = String::new();
    out.push_str(
        "/*\n * Generated by `cargo run -p ango-codegen` from the Rust types of ango-core (their JSON\n * Schemas) and its method table (`ango_core::api`). Do not edit: change the Rust source and\n * regenerate; CI runs `cargo run -p ango-codegen -- --check`.\n */\n/* eslint-disable */\n",
    );
    let missing = types.undefined_names();
    if !missing.is_empty() {
        return Err(GenError(format!(
            "types without a schema: {}",
            missing.join(", ")
        )));
    }
    // Types only arguments use (not reachable from a reply): camelCase keys.
    let replies: std::collections::BTreeSet<&str> = types
        .reachable(&types.replies)
        .into_iter()
        .map(|d| d.name.as_str())
        .collect();
    let arguments: std::collections::BTreeSet<&str> = types
        .reachable(&types.requests)
        .into_iter()
        .map(|d| d.name.as_str())
        .filter(|n| !replies.contains(n))
        .collect();
    for def in types.defs.values() {
        out.push('\n');
        interface(&mut out, def, arguments.contains(def.name.as_str()));
    }
    out.push('\n');
    jsdoc(
        &mut out,
        "",
        "The methods of the client generated from the method table: required arguments are\npositional, in order; the optional ones go in the last argument, `options`, with `signal`\n(an `AbortSignal`) to cancel the call. Every method returns a promise that rejects with\nan `AngoError`.",
    );
    out.push_str("export declare class Client {\n");
    let mut methods: Vec<&Method> = methods.iter().collect();
    methods.sort_by(|a, b| a.node_name.cmp(&b.node_name));
    for (i, m) in methods.into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        method(&mut out, m, types)?;
    }
    out.push_str("}\n");
    Ok(out)
}
