//! Mongo-style filter evaluation (`$eq`, `$ne`, `$in`, `$nin`, `$regex`,
//! `$exists`, `$gt`, `$gte`, `$lt`, `$lte`, plus `$and`/`$or`/`$not`).

use serde_json::{Map, Value};
use std::cmp::Ordering;

use crate::util::parse_iso;

/// A compiled filter over documents whose fields are fetched by a closure.
#[derive(Debug, Clone)]
pub(crate) enum Filter {
    /// All sub-filters must match.
    And(Vec<Filter>),
    /// Any sub-filter must match.
    Or(Vec<Filter>),
    /// A condition on one field.
    Field(String, Cond),
}

/// A condition on a single field.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    Eq(Value),
    Ne(Value),
    In(Vec<Value>),
    Nin(Vec<Value>),
    Regex(regex::Regex),
    Exists(bool),
    Cmp(Ordering, bool, Value),
    Not(Box<Cond>),
    All(Vec<Cond>),
}

impl Filter {
    /// Compiles a JSON filter object. Errors describe the offending part.
    pub(crate) fn compile(v: &Value) -> Result<Filter, String> {
        let obj = v
            .as_object()
            .ok_or_else(|| "filter must be a JSON object".to_string())?;
        let mut parts = Vec::new();
        for (k, cond) in obj {
            match k.as_str() {
                "$and" | "$or" => {
                    let arr = cond
                        .as_array()
                        .ok_or_else(|| format!("{k} expects an array"))?;
                    let subs = arr.iter().map(Filter::compile).collect::<Result<_, _>>()?;
                    parts.push(if k == "$and" {
                        Filter::And(subs)
                    } else {
                        Filter::Or(subs)
                    });
                }
                _ if k.starts_with('$') => return Err(format!("Unsupported operator {k}")),
                _ => parts.push(Filter::Field(k.clone(), compile_cond(cond)?)),
            }
        }
        Ok(Filter::And(parts))
    }

    /// Evaluates with `get(field)` returning the document's value (None = absent).
    pub(crate) fn matches(&self, get: &dyn Fn(&str) -> Option<Value>) -> bool {
        match self {
            Filter::And(v) => v.iter().all(|f| f.matches(get)),
            Filter::Or(v) => v.iter().any(|f| f.matches(get)),
            Filter::Field(k, c) => c.eval(get(k).as_ref()),
        }
    }

    /// Whether the filter accepts every document (it has no condition at all).
    pub(crate) fn is_trivial(&self) -> bool {
        match self {
            Filter::And(v) => v.iter().all(Filter::is_trivial),
            Filter::Or(_) | Filter::Field(..) => false,
        }
    }

    /// Rewrites every literal compared against `field` with `map` (e.g. names → ids).
    pub(crate) fn map_values(&mut self, field: &str, map: &dyn Fn(&Value) -> Value) {
        match self {
            Filter::And(v) | Filter::Or(v) => v.iter_mut().for_each(|f| f.map_values(field, map)),
            Filter::Field(k, c) if k == field => c.map_values(map),
            Filter::Field(..) => {}
        }
    }
}

fn compile_cond(v: &Value) -> Result<Cond, String> {
    let Some(obj) = v
        .as_object()
        .filter(|o| o.keys().any(|k| k.starts_with('$')))
    else {
        return Ok(Cond::Eq(v.clone()));
    };
    let mut conds = Vec::new();
    let options = obj.get("$options").and_then(Value::as_str).unwrap_or("");
    for (op, arg) in obj {
        let c = match op.as_str() {
            "$eq" => Cond::Eq(arg.clone()),
            "$ne" => Cond::Ne(arg.clone()),
            "$in" | "$nin" => {
                let list = match arg {
                    Value::Array(a) => a.clone(),
                    other => vec![other.clone()],
                };
                if op == "$in" {
                    Cond::In(list)
                } else {
                    Cond::Nin(list)
                }
            }
            "$regex" => {
                let pat = arg
                    .as_str()
                    .ok_or_else(|| "$regex expects a string".to_string())?;
                let mut b = regex::RegexBuilder::new(pat);
                b.case_insensitive(options.contains('i'))
                    .multi_line(options.contains('m'))
                    .dot_matches_new_line(options.contains('s'))
                    .size_limit(1 << 20);
                Cond::Regex(b.build().map_err(|e| format!("Invalid $regex: {e}"))?)
            }
            "$options" => continue,
            "$exists" => Cond::Exists(crate::util::json_truthy(Some(arg))),
            "$gt" => Cond::Cmp(Ordering::Greater, false, arg.clone()),
            "$gte" => Cond::Cmp(Ordering::Greater, true, arg.clone()),
            "$lt" => Cond::Cmp(Ordering::Less, false, arg.clone()),
            "$lte" => Cond::Cmp(Ordering::Less, true, arg.clone()),
            "$not" => Cond::Not(Box::new(compile_cond(arg)?)),
            other => return Err(format!("Unsupported operator {other}")),
        };
        conds.push(c);
    }
    Ok(if conds.len() == 1 {
        conds.remove(0)
    } else {
        Cond::All(conds)
    })
}

impl Cond {
    fn map_values(&mut self, map: &dyn Fn(&Value) -> Value) {
        match self {
            Cond::Eq(v) | Cond::Ne(v) => *v = map(v),
            Cond::In(l) | Cond::Nin(l) => l.iter_mut().for_each(|v| *v = map(v)),
            Cond::Not(c) => c.map_values(map),
            Cond::All(cs) => cs.iter_mut().for_each(|c| c.map_values(map)),
            _ => {}
        }
    }

    /// Evaluates against a field value; arrays match element-wise like MongoDB.
    pub(crate) fn eval(&self, field: Option<&Value>) -> bool {
        let present = field.is_some_and(|v| !v.is_null());
        match self {
            Cond::Exists(want) => present == *want,
            Cond::Eq(x) => eq(field, present, x),
            Cond::Ne(x) => !eq(field, present, x),
            Cond::In(list) => list.iter().any(|x| eq(field, present, x)),
            Cond::Nin(list) => !list.iter().any(|x| eq(field, present, x)),
            Cond::Regex(re) => any_elem(field, |f| match f {
                Value::String(s) => re.is_match(s),
                _ => false,
            }),
            Cond::Cmp(ord, or_eq, x) => any_elem(field, |f| match compare(f, x) {
                Some(o) => o == *ord || (*or_eq && o == Ordering::Equal),
                None => false,
            }),
            Cond::Not(c) => !c.eval(field),
            Cond::All(cs) => cs.iter().all(|c| c.eval(field)),
        }
    }
}

/// `$eq` of a field (`present`: it exists and is not null) against a literal.
fn eq(field: Option<&Value>, present: bool, x: &Value) -> bool {
    any_elem(field, |f| loose_eq(f, x)) || (x.is_null() && !present)
}

fn any_elem(field: Option<&Value>, f: impl Fn(&Value) -> bool) -> bool {
    match field {
        None | Some(Value::Null) => false,
        // Element-wise, then the whole array.
        Some(v @ Value::Array(a)) => a.iter().any(&f) || f(v),
        Some(v) => f(v),
    }
}

/// Equality that treats numbers numerically and "true"/true alike.
pub(crate) fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Bool(x), Value::String(s)) | (Value::String(s), Value::Bool(x)) => {
            crate::util::parse_bool(s) == Some(*x)
        }
        (Value::Number(x), Value::String(s)) | (Value::String(s), Value::Number(x)) => {
            s.trim().parse::<f64>().ok() == x.as_f64()
        }
        _ => a == b,
    }
}

/// Orders two values: numbers numerically, ISO dates chronologically, strings lexically.
pub(crate) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => match (parse_iso(x), parse_iso(y)) {
            (Some(p), Some(q)) => Some(p.cmp(&q)),
            _ => Some(x.cmp(y)),
        },
        (Value::Number(x), Value::String(s)) => {
            let f = x.as_f64()?;
            let g = s
                .trim()
                .parse::<f64>()
                .ok()
                .or_else(|| parse_iso(s).map(|m| m as f64))?;
            f.partial_cmp(&g)
        }
        (Value::String(_), Value::Number(_)) => compare(b, a).map(Ordering::reverse),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Sort-order comparison for `sort=` (nulls first).
pub(crate) fn sort_cmp(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
        (None | Some(Value::Null), _) => Ordering::Less,
        (_, None | Some(Value::Null)) => Ordering::Greater,
        (Some(x), Some(y)) => compare(x, y).unwrap_or(Ordering::Equal),
    }
}

/// Builds a filter from a plain object of equality constraints (for `filters=` on assets).
#[allow(dead_code)]
pub(crate) fn from_map(m: &Map<String, Value>) -> Result<Filter, String> {
    Filter::compile(&Value::Object(m.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> impl Fn(&str) -> Option<Value> {
        move |k: &str| v.get(k).cloned()
    }

    #[test]
    fn operators() {
        let d = json!({"stage":"Label","batches":["b1","b2"],"priority":5,
            "createdAt":"2024-01-02T00:00:00.000Z","isBenchmark":false,"assignee":null,
            "externalId":"cat_001.jpg"});
        let get = doc(d);
        let t = |f: Value| {
            Filter::compile(&f)
                .map(|f| f.matches(&get))
                .unwrap_or(false)
        };
        assert!(t(json!({"stage":{"$eq":"Label"}})));
        assert!(t(json!({"stage":"Label"})));
        assert!(!t(json!({"stage":{"$ne":"Label"}})));
        assert!(t(json!({"batches":{"$in":["b2","x"]}})));
        assert!(!t(json!({"batches":{"$nin":["b2"]}})));
        assert!(t(json!({"batches":{"$eq":"b1"}})));
        assert!(t(json!({"priority":{"$gte":5,"$lt":6}})));
        assert!(!t(json!({"priority":{"$gt":5}})));
        assert!(t(
            json!({"createdAt":{"$gt":"2024-01-01T00:00:00Z","$lt":"2024-01-03T00:00:00.000Z"}})
        ));
        assert!(t(json!({"isBenchmark":{"$eq":false}})));
        assert!(t(json!({"assignee":{"$exists":false}})));
        assert!(t(json!({"externalId":{"$exists":true}})));
        assert!(t(json!({"externalId":{"$regex":"^cat_\\d+"}})));
        assert!(t(json!({"externalId":{"$regex":"CAT","$options":"i"}})));
        assert!(!t(json!({"externalId":{"$regex":"dog"}})));
        assert!(t(json!({"$or":[{"stage":"Complete"},{"priority":5}]})));
        assert!(Filter::compile(&json!({"stage":{"$bogus":1}})).is_err());
        assert!(Filter::compile(&json!([1])).is_err());
    }
}
