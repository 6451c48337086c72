//! Tests of [`super::Parser`]: a builder of a small tree ([`J`]) checked against known
//! `json.loads` outcomes, against `serde_json`, and on generated documents.

use super::*;
use proptest::prelude::*;

/// A decoded document, as Python sees it (`Int` keeps all the digits; `Obj` keeps the
/// dict's order).
#[derive(Debug, Clone)]
enum J {
    Null,
    Bool(bool),
    Int(String),
    Float(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl PartialEq for J {
    fn eq(&self, other: &J) -> bool {
        match (self, other) {
            (J::Null, J::Null) => true,
            (J::Bool(a), J::Bool(b)) => a == b,
            (J::Int(a), J::Int(b)) => a == b,
            // NaN equals NaN here; 0.0 and -0.0 differ (Python's repr tells them apart).
            (J::Float(a), J::Float(b)) => (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits(),
            (J::Str(a), J::Str(b)) => a == b,
            (J::Arr(a), J::Arr(b)) => a == b,
            (J::Obj(a), J::Obj(b)) => a == b,
            _ => false,
        }
    }
}

/// Builds [`J`] trees, as the Python builder builds objects.
#[derive(Default)]
struct JBuilder {
    /// Calls to `big_int`, to check where the small-integer path ends.
    big_ints: usize,
}

impl TreeBuilder for JBuilder {
    type Value = J;
    type Key = String;
    type Object = Vec<(String, J)>;

    fn null(&mut self) -> Option<J> {
        Some(J::Null)
    }
    fn bool(&mut self, value: bool) -> Option<J> {
        Some(J::Bool(value))
    }
    fn int(&mut self, value: i64) -> Option<J> {
        Some(J::Int(value.to_string()))
    }
    fn big_int(&mut self, digits: &str) -> Option<J> {
        self.big_ints += 1;
        Some(J::Int(digits.to_string()))
    }
    fn float(&mut self, value: f64) -> Option<J> {
        Some(J::Float(value))
    }
    fn string(&mut self, bytes: &[u8]) -> Option<J> {
        Some(J::Str(String::from_utf8(bytes.to_vec()).ok()?))
    }
    fn key(&mut self, bytes: &[u8]) -> Option<String> {
        String::from_utf8(bytes.to_vec()).ok()
    }
    fn array(&mut self, items: Drain<'_, J>) -> Option<J> {
        Some(J::Arr(items.collect()))
    }
    fn object(&mut self) -> Option<Self::Object> {
        Some(Vec::new())
    }
    fn insert(&mut self, object: &mut Self::Object, key: String, value: J) -> Option<()> {
        match object.iter_mut().find(|(k, _)| *k == key) {
            Some(member) => member.1 = value,
            None => object.push((key, value)),
        }
        Some(())
    }
    fn end_object(&mut self, object: Self::Object) -> Option<J> {
        Some(J::Obj(object))
    }
}

fn loads(text: &[u8]) -> Option<J> {
    parse(text, &mut JBuilder::default())
}

fn int(digits: &str) -> J {
    J::Int(digits.into())
}

fn s(text: &str) -> J {
    J::Str(text.into())
}

fn obj(members: &[(&str, J)]) -> J {
    J::Obj(
        members
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

/// `serde_json`'s reading as a [`J`] (integers as digits, floats as floats).
fn from_serde(value: &serde_json::Value) -> J {
    use serde_json::Value;
    match value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) if n.is_f64() => J::Float(n.as_f64().unwrap_or(f64::NAN)),
        Value::Number(n) => J::Int(n.to_string()),
        Value::String(s) => J::Str(s.clone()),
        Value::Array(items) => J::Arr(items.iter().map(from_serde).collect()),
        Value::Object(map) => J::Obj(
            map.iter()
                .map(|(k, v)| (k.clone(), from_serde(v)))
                .collect(),
        ),
    }
}

/// Equal, with floats within a few units in the last place (serde_json's default float
/// reading is not always correctly rounded; ours is, as Python's is).
fn close(a: &J, b: &J) -> bool {
    match (a, b) {
        // A few units in the last place (subnormals included).
        (J::Float(x), J::Float(y)) => {
            x == y || (x.signum() == y.signum() && x.to_bits().abs_diff(y.to_bits()) <= 4)
        }
        // serde_json reads integers beyond `u64` (and `-0`) as floats.
        (J::Int(digits), J::Float(_)) => {
            digits.parse::<f64>().is_ok_and(|x| close(&J::Float(x), b))
        }
        (J::Arr(x), J::Arr(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b)),
        (J::Obj(x), J::Obj(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(a, b)| a.0 == b.0 && close(&a.1, &b.1))
        }
        _ => a == b,
    }
}

#[test]
fn known_json_loads_outcomes() {
    // Each expectation is what Python 3.11's json.loads gives for the text.
    let cases: Vec<(&[u8], J)> = vec![
        (b"null", J::Null),
        (b"true", J::Bool(true)),
        (b"false", J::Bool(false)),
        (b"0", int("0")),
        (b"-0", int("0")),
        (b"-0.0", J::Float(-0.0)),
        (b"1e5", J::Float(1e5)),
        (b"1E-5", J::Float(1e-5)),
        (b"2.50", J::Float(2.5)),
        (b"1.5e400", J::Float(f64::INFINITY)),
        (b"-1.5e400", J::Float(f64::NEG_INFINITY)),
        (b"1e-400", J::Float(0.0)),
        (
            b"2.2250738585072014e-308",
            J::Float(2.2250738585072014e-308),
        ),
        (b"1.7976931348623157e308", J::Float(f64::MAX)),
        (b"0.1", J::Float(0.1)),
        (b"9007199254740993", int("9007199254740993")),
        (b"9007199254740993.0", J::Float(9007199254740992.0)),
        (b"123456789012345678.5e-3", J::Float(123456789012345.67)),
        (b"1e22", J::Float(1e22)),
        (b"1e23", J::Float(1e23)),
        (b"0.000001e-300", J::Float(1e-306)),
        (b"4.9e-324", J::Float(5e-324)),
        (b"0e99999", J::Float(0.0)),
        (b"-0e-5", J::Float(-0.0)),
        (
            b"[NaN, Infinity, -Infinity]",
            J::Arr(vec![
                J::Float(f64::NAN),
                J::Float(f64::INFINITY),
                J::Float(f64::NEG_INFINITY),
            ]),
        ),
        (b"\"\"", s("")),
        (b"[]", J::Arr(vec![])),
        (b"{}", J::Obj(vec![])),
        (
            b"  \t\r\n{\"ws\" :  [ ] , \"o\" : { } }  \n",
            obj(&[("ws", J::Arr(vec![])), ("o", J::Obj(vec![]))]),
        ),
        (
            b"{\"a\": 1, \"b\": [1, 2.5, -3], \"c\": {\"d\": null}}",
            obj(&[
                ("a", int("1")),
                ("b", J::Arr(vec![int("1"), J::Float(2.5), int("-3")])),
                ("c", obj(&[("d", J::Null)])),
            ]),
        ),
        (
            "{\"caf\u{e9}\": \"na\u{ef}ve \u{65e5}\u{672c} \u{1f600}\"}".as_bytes(),
            obj(&[("caf\u{e9}", s("na\u{ef}ve \u{65e5}\u{672c} \u{1f600}"))]),
        ),
        (
            br#""\u00e9\u65e5\ud83d\ude00\n\t\r\b\f\/\\\"""#,
            s("\u{e9}\u{65e5}\u{1f600}\n\t\r\u{8}\u{c}/\\\""),
        ),
        (br#""\uD83D\uDE00\u00E9""#, s("\u{1f600}\u{e9}")),
        (br#""\u0000""#, s("\0")),
        (b"\"a\x7fb\"", s("a\u{7f}b")),
        ("\"\u{2028}\u{2029}\"".as_bytes(), s("\u{2028}\u{2029}")),
        (
            br#"{"\u006bey": "escaped key", "key": "plain key"}"#,
            obj(&[("key", s("plain key"))]),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(
            loads(text),
            Some(expected),
            "{}",
            String::from_utf8_lossy(text)
        );
    }
}

#[test]
fn duplicate_keys_keep_the_first_position_and_the_last_value() {
    assert_eq!(
        loads(br#"{"k": 1, "k": 2, "j": 3}"#),
        Some(obj(&[("k", int("2")), ("j", int("3"))]))
    );
    assert_eq!(
        loads(br#"{"a": 1, "b": 2, "a": {"x": [1]}, "c": 4, "b": null}"#),
        Some(obj(&[
            ("a", obj(&[("x", J::Arr(vec![int("1")]))])),
            ("b", J::Null),
            ("c", int("4")),
        ]))
    );
}

#[test]
fn integers_of_any_size_keep_all_their_digits() {
    let mut builder = JBuilder::default();
    for (text, big) in [
        ("123456789012345678", false),
        ("-12345678901234567", false),
        ("-123456789012345678", true),
        ("1234567890123456789", true),
        ("9223372036854775807", true),
        ("-9223372036854775808", true),
        ("9223372036854775808", true),
        ("123456789012345678901234567890", true),
        ("-123456789012345678901234567890", true),
    ] {
        let before = builder.big_ints;
        assert_eq!(parse(text.as_bytes(), &mut builder), Some(int(text)));
        assert_eq!(builder.big_ints - before, usize::from(big), "{text}");
    }
    let huge = format!("[{}]", "7".repeat(5000));
    assert_eq!(
        loads(huge.as_bytes()),
        Some(J::Arr(vec![int(&"7".repeat(5000))]))
    );
}

#[test]
fn what_json_loads_rejects_or_reads_differently_falls_back() {
    let cases: &[&[u8]] = &[
        // Syntax errors and trailing text.
        b"",
        b" ",
        b"{",
        b"[",
        b"[1,]",
        b"{\"a\":1,}",
        b"{\"a\" 1}",
        b"[1 2]",
        b"01",
        b"1.",
        b".5",
        b"-",
        b"1e",
        b"1e+",
        b"+1",
        b"\"abc",
        b"\"\\x\"",
        b"\"\\u12\"",
        b"\"\\u12G4\"",
        b"nul",
        b"tru",
        b"fals",
        b"NaNx",
        b"Inf",
        b"-Inf",
        b"-NaN",
        b"[1] 2",
        b"{\"a\":1}}",
        b"{'a': 1}",
        b"[-]",
        b"{1: 2}",
        b"[Infinity, -Inf]",
        b"\x00",
        b"\"a\"\x00",
        b"nulll",
        b"[1,,2]",
        b"[,1]",
        b"{,}",
        b"{\"a\"}",
        b"{\"a\":}",
        b"-01",
        b"1.e5",
        b"0x10",
        // Control characters inside strings (json.loads is strict) and odd whitespace.
        b"\"a\x01b\"",
        b"\"tab\there\"",
        b"\"new\nline\"",
        b"\x0c1",
        b"1\x0b",
        "\u{a0}1".as_bytes(),
        // Lone surrogates: json.loads keeps them in the str, which UTF-8 cannot hold.
        b"\"\\ud800\"",
        b"\"\\udc00\"",
        b"\"\\ud800\\u0041\"",
        b"\"\\ud800x\"",
        b"\"\\ud83d\\ude00\\ud800\"",
        b"\"\\ud800\\\"",
        b"{\"\\udfff\": 1}",
        // Not UTF-8 (json.loads decodes the bytes first), or a byte-order mark.
        b"\"\xff\"",
        b"\"\xed\xa0\x80\"",
        b"{\"a\": \"\xc3\"}",
        b"{\"\xc3\": 1}",
        b"\xef\xbb\xbf{\"bom\": 1}",
    ];
    for text in cases {
        assert_eq!(loads(text), None, "{}", String::from_utf8_lossy(text));
    }
}

#[test]
fn nesting_deeper_than_the_limit_falls_back() {
    for depth in [1, 100, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 5000] {
        let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        let mixed = format!(
            "{}0{}",
            "[{\"a\":".repeat(depth / 2),
            "}]".repeat(depth / 2)
        );
        let mixed_levels = depth / 2 * 2;
        for (text, levels) in [(arrays, depth), (objects, depth), (mixed, mixed_levels)] {
            if levels == 0 {
                continue;
            }
            let parsed = loads(text.as_bytes());
            assert_eq!(parsed.is_some(), levels <= MAX_DEPTH, "{levels} levels");
        }
    }
    // Depth counts open containers, not containers seen: many siblings are fine.
    let wide = format!("[{}]", vec!["[[1]]"; 2000].join(","));
    assert!(loads(wide.as_bytes()).is_some());
}

#[test]
fn a_builder_that_refuses_a_piece_makes_the_parse_fall_back() {
    /// Refuses the string "no" and integers above 100.
    struct Picky(JBuilder);
    impl TreeBuilder for Picky {
        type Value = J;
        type Key = String;
        type Object = Vec<(String, J)>;
        fn null(&mut self) -> Option<J> {
            self.0.null()
        }
        fn bool(&mut self, value: bool) -> Option<J> {
            self.0.bool(value)
        }
        fn int(&mut self, value: i64) -> Option<J> {
            (value <= 100).then(|| J::Int(value.to_string()))
        }
        fn big_int(&mut self, _: &str) -> Option<J> {
            None
        }
        fn float(&mut self, value: f64) -> Option<J> {
            self.0.float(value)
        }
        fn string(&mut self, bytes: &[u8]) -> Option<J> {
            (bytes != b"no").then(|| self.0.string(bytes)).flatten()
        }
        fn key(&mut self, bytes: &[u8]) -> Option<String> {
            self.0.key(bytes)
        }
        fn array(&mut self, items: Drain<'_, J>) -> Option<J> {
            self.0.array(items)
        }
        fn object(&mut self) -> Option<Self::Object> {
            self.0.object()
        }
        fn insert(&mut self, object: &mut Self::Object, key: String, value: J) -> Option<()> {
            self.0.insert(object, key, value)
        }
        fn end_object(&mut self, object: Self::Object) -> Option<J> {
            self.0.end_object(object)
        }
    }
    let mut picky = Picky(JBuilder::default());
    assert!(parse(br#"{"a": ["yes", 100]}"#, &mut picky).is_some());
    assert!(parse(br#"{"a": ["yes", 101]}"#, &mut picky).is_none());
    assert!(parse(br#"{"a": [1, "no"]}"#, &mut picky).is_none());
    assert!(parse(br#"[12345678901234567890]"#, &mut picky).is_none());
}

#[test]
fn one_parser_reads_many_documents() {
    let mut parser = Parser::new();
    let mut builder = JBuilder::default();
    for i in 0..50 {
        let text = format!(r#"{{"id": {i}, "name": "caf\u00e9 {i}", "tags": ["a\tb", {i}]}}"#);
        assert_eq!(
            parser.parse(text.as_bytes(), &mut builder),
            Some(obj(&[
                ("id", int(&i.to_string())),
                ("name", s(&format!("caf\u{e9} {i}"))),
                ("tags", J::Arr(vec![s("a\tb"), int(&i.to_string())])),
            ]))
        );
        // A failed document leaves nothing behind for the next one.
        assert_eq!(parser.parse(br#"["\u00e9", [1, 2, "#, &mut builder), None);
    }
}

#[test]
fn agrees_with_serde_json_on_standard_documents() {
    let documents = [
        r#"{"a": [1, -2, 3.25, 1e-3, 6.02E23, true, false, null], "b": {"c": "d\"e\\f\u0041"}}"#,
        r#"[{"id": "5f3c", "objects": [{"bbox": {"x": 1.5, "y": 2, "w": 30.25, "h": 40}}]}]"#,
        "\n[\r\n\t1 , [ ] , { } , \"\\/\" ]\n",
        r#"{"z": 1, "a": 2, "m": [{"z": 0, "y": {"x": []}}]}"#,
        r#""\ud834\udd1e and \u20ac""#,
        "-1234567890123456789",
        "[0.1, 0.2, 0.30000000000000004, 123456.789e-10, 5e-324, 1.7976931348623157e308]",
        r#"{"dup": 1, "other": [], "dup": "second"}"#,
    ];
    for text in documents {
        let serde: serde_json::Value = serde_json::from_str(text).expect(text);
        let ours = loads(text.as_bytes()).expect(text);
        assert!(
            close(&ours, &from_serde(&serde)),
            "{text}: {ours:?} vs {serde:?}"
        );
    }
}

// Generated documents: a tree, written out with random spacing and escapes, must read
// back as the tree (with the dict rules applied to duplicate keys).

/// A small deterministic random source for the writer's choices.
struct Choices(u64);

impl Choices {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
}

fn write_ws(out: &mut String, choices: &mut Choices) {
    while choices.one_in(3) {
        out.push([' ', '\t', '\n', '\r'][(choices.next() % 4) as usize]);
    }
}

fn write_str(out: &mut String, text: &str, choices: &mut Choices) {
    out.push('"');
    for ch in text.chars() {
        let escaped = choices.one_in(4);
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if escaped => out.push_str("\\n"),
            '\t' if escaped => out.push_str("\\t"),
            '/' if escaped => out.push_str("\\/"),
            c if (c as u32) < 0x20 || escaped => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    if choices.one_in(2) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    } else {
                        out.push_str(&format!("\\u{unit:04X}"));
                    }
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write(out: &mut String, value: &J, choices: &mut Choices) {
    match value {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Int(digits) => out.push_str(digits),
        J::Float(f) if f.is_nan() => out.push_str("NaN"),
        J::Float(f) if f.is_infinite() => {
            out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" })
        }
        J::Float(f) => match choices.next() % 3 {
            0 => out.push_str(&format!("{f:?}")),
            1 => out.push_str(&format!("{f:e}")),
            _ => out.push_str(&format!("{f:E}")),
        },
        J::Str(text) => write_str(out, text, choices),
        J::Arr(items) => {
            out.push('[');
            write_ws(out, choices);
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    write_ws(out, choices);
                }
                write(out, item, choices);
                write_ws(out, choices);
            }
            out.push(']');
        }
        J::Obj(members) => {
            out.push('{');
            write_ws(out, choices);
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    write_ws(out, choices);
                }
                write_str(out, key, choices);
                write_ws(out, choices);
                out.push(':');
                write_ws(out, choices);
                write(out, item, choices);
                write_ws(out, choices);
            }
            out.push('}');
        }
    }
}

/// The tree a `dict` makes of `value`: duplicate keys keep the first position and the
/// last value.
fn as_dicts(value: &J) -> J {
    match value {
        J::Arr(items) => J::Arr(items.iter().map(as_dicts).collect()),
        J::Obj(members) => {
            let mut out: Vec<(String, J)> = Vec::new();
            for (key, item) in members {
                let item = as_dicts(item);
                match out.iter_mut().find(|(k, _)| k == key) {
                    Some(member) => member.1 = item,
                    None => out.push((key.clone(), item)),
                }
            }
            J::Obj(out)
        }
        other => other.clone(),
    }
}

fn text_strategy() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '"',
        '\\',
        '/',
        '\n',
        '\t',
        '\0',
        '\u{1f}',
        '\u{7f}',
        'é',
        '日',
        '\u{1f600}',
        '\u{2028}',
        '\u{ffff}',
        '\u{10000}',
    ]);
    prop::collection::vec(prop_oneof![any::<char>(), special, Just('a')], 0..12)
        .prop_map(|chars| chars.into_iter().collect())
}

fn key_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["a", "b", "é", "k\"", "\u{1f600}", ""]).prop_map(String::from),
        text_strategy(),
    ]
}

/// Trees `serde_json` reads too (no `NaN`/infinities, integers within `i64`) when
/// `python_only` is false.
fn tree_strategy(python_only: bool) -> impl Strategy<Value = J> {
    let float = any::<f64>()
        .prop_map(move |f| J::Float(if python_only || f.is_finite() { f } else { 0.5 }));
    let int = any::<i64>().prop_map(|i| J::Int(i.to_string()));
    let big = if python_only {
        "-?[1-9][0-9]{17,60}".prop_map(J::Int).boxed()
    } else {
        int.clone().boxed()
    };
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        int,
        float,
        text_strategy().prop_map(J::Str),
        big,
    ];
    leaf.prop_recursive(5, 80, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(J::Arr),
            prop::collection::vec((key_strategy(), inner), 0..6).prop_map(J::Obj),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn generated_documents_read_back_as_written(tree in tree_strategy(true), seed in 1u64..) {
        let mut text = String::new();
        let mut choices = Choices(seed);
        write_ws(&mut text, &mut choices);
        write(&mut text, &tree, &mut choices);
        write_ws(&mut text, &mut choices);
        prop_assert_eq!(loads(text.as_bytes()), Some(as_dicts(&tree)), "{}", text);
    }

    #[test]
    fn numbers_read_as_python_reads_them(
        text in "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,24})?([eE][-+]?[0-9]{1,5})?",
    ) {
        let expected = if text.contains(['.', 'e', 'E']) {
            // Rust's parse is correctly rounded, as Python's float() is.
            J::Float(text.parse().unwrap_or(f64::NAN))
        } else {
            J::Int(text.parse::<i128>().map(|i| i.to_string()).unwrap_or(text.clone()))
        };
        prop_assert_eq!(loads(text.as_bytes()), Some(expected));
    }

    #[test]
    fn generated_and_damaged_documents_agree_with_serde_json(
        tree in tree_strategy(false),
        seed in 1u64..,
        cut in any::<prop::sample::Index>(),
        byte in prop::sample::select(b"{}[]\",:\\ 0e.-tnx\x01\xff".to_vec()),
        damage in 0u8..3,
    ) {
        let mut text = String::new();
        write(&mut text, &tree, &mut Choices(seed));
        let mut bytes = text.into_bytes();
        let at = cut.index(bytes.len() + 1);
        match damage {
            0 => {}
            1 => bytes.truncate(at),
            _ => bytes.insert(at, byte),
        }
        let ours = loads(&bytes);
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde) => {
                let ours = ours.unwrap_or(J::Null);
                prop_assert!(close(&ours, &from_serde(&serde)), "{:?}: {:?} vs {:?}",
                    String::from_utf8_lossy(&bytes), ours, serde);
            }
            // serde_json refuses numbers beyond f64 (json.loads makes them infinities).
            Err(e) if e.to_string().contains("number out of range") => {}
            // Otherwise what serde_json rejects json.loads rejects too (the tokens only
            // Python reads, NaN and the infinities, cannot come from this damage).
            Err(_) => prop_assert!(ours.is_none(), "{:?}: {:?}",
                String::from_utf8_lossy(&bytes), ours),
        }
    }
}
