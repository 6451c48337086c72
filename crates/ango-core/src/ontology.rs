//! The ontology (category schema) model: tools, classifications and relations.
//!
//! Each category serialises exactly as the official SDK's `toDict()`: the same keys in
//! the same order, `null` for unset optional fields, a 32-hex `schemaId` and a random
//! `#RRGGBB` colour generated at construction when none is given.

use serde_json::{Map, Value, json};

use crate::config::random_u64;
use crate::error::{Error, Result};
use crate::models::enums::wire_enum;

wire_enum!(
    /// A drawing tool.
    Tool, case_insensitive = false, {
        /// Axis-aligned box.
        BoundingBox => "bounding-box",
        /// Segmentation mask.
        Segmentation => "segmentation",
        /// Open line.
        Polyline => "polyline",
        /// Closed polygon.
        Polygon => "polygon",
        /// Rotated box.
        RotatedBoundingBox => "rotated-bounding-box",
        /// Named-entity span.
        Ner => "ner",
        /// Point.
        Point => "point",
        /// PDF region.
        Pdf => "pdf",
        /// Brush.
        Brush => "brush",
        /// Point-cloud cuboid.
        Pct => "pct",
    }
);

wire_enum!(
    /// A classification (question) type.
    Classification, case_insensitive = false, {
        /// Several options from a dropdown.
        MultiDropdown => "multi-dropdown",
        /// One option from a dropdown.
        SingleDropdown => "single-dropdown",
        /// A path in a tree of options.
        TreeDropdown => "tree-dropdown",
        /// One option.
        Radio => "radio",
        /// Several options.
        Checkbox => "checkbox",
        /// Free text.
        Text => "text",
        /// An instance reference.
        Instance => "instance",
        /// Yes or no.
        Boolean => "boolean",
        /// A ranking of options (a question type of the platform, missing from the
        /// official `Classification` enum).
        Rank => "rank",
    }
);

wire_enum!(
    /// A relation type.
    Relation, case_insensitive = false, {
        /// One object to one object.
        Single => "one-to-one",
        /// A group of objects.
        Group => "group",
        /// One object to many.
        Many => "one-to-many",
    }
);

/// A new schema id: 32 lowercase hex digits, like Python's `uuid.uuid4().hex`.
pub fn new_schema_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A random colour `#RRGGBB` drawn from `ABCDEF0123456789`, like the official `random_color`.
pub fn random_color() -> String {
    const DIGITS: &[u8] = b"ABCDEF0123456789";
    let mut bits = random_u64();
    let mut color = String::with_capacity(7);
    color.push('#');
    for _ in 0..6 {
        color.push(DIGITS[(bits % 16) as usize] as char);
        bits /= 16;
    }
    color
}

/// One option of a classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelOption {
    /// The option's text (what exports and imports use).
    pub value: String,
    /// The option's id.
    pub schema_id: String,
}

impl LabelOption {
    /// An option with a new schema id.
    pub fn new(value: impl Into<String>) -> Self {
        LabelOption {
            value: value.into(),
            schema_id: new_schema_id(),
        }
    }

    /// An option with a given schema id (a new one when empty).
    pub fn with_schema_id(value: impl Into<String>, schema_id: impl Into<String>) -> Self {
        let schema_id = schema_id.into();
        LabelOption {
            value: value.into(),
            schema_id: if schema_id.is_empty() {
                new_schema_id()
            } else {
                schema_id
            },
        }
    }

    /// `{"value", "schemaId"}`.
    pub fn to_value(&self) -> Value {
        json!({ "value": self.value, "schemaId": self.schema_id })
    }

    /// Reads `{"value", "schemaId"}` (a missing schemaId is generated).
    pub fn from_value(value: &Value) -> Result<Self> {
        let obj = as_object(value, "option")?;
        Ok(LabelOption::with_schema_id(
            str_field(obj, "value")?.unwrap_or_default(),
            str_field(obj, "schemaId")?.unwrap_or_default(),
        ))
    }
}

/// A node of a tree-dropdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeOption {
    /// The node's label.
    pub title: String,
    /// The node's id; it becomes the schema id of the flattened option.
    pub key: String,
    /// The node's value.
    pub value: String,
    /// Child nodes.
    pub children: Vec<TreeOption>,
}

impl TreeOption {
    /// A node whose key and value are one new id, as the official SDK does.
    pub fn new(title: impl Into<String>) -> Self {
        let id = new_schema_id();
        TreeOption {
            title: title.into(),
            key: id.clone(),
            value: id,
            children: Vec::new(),
        }
    }

    /// A node with a given key (and value, if given; else the key's id).
    ///
    /// The official SDK stores a given key as `schemaId`, which breaks its own
    /// flattening; we keep it as the key, which is what the flattening reads.
    pub fn with_key(title: impl Into<String>, key: Option<String>, value: Option<String>) -> Self {
        let mut node = TreeOption::new(title);
        if let Some(key) = key.filter(|k| !k.is_empty()) {
            node.key = key;
        }
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            node.value = value;
        }
        node
    }

    /// Adds children.
    pub fn children(mut self, children: Vec<TreeOption>) -> Self {
        self.children = children;
        self
    }

    /// `{"title", "children", "key", "value"}`.
    pub fn to_value(&self) -> Value {
        json!({
            "title": self.title,
            "children": self.children.iter().map(TreeOption::to_value).collect::<Vec<_>>(),
            "key": self.key,
            "value": self.value,
        })
    }

    /// Reads `{"title", "key", "value", "children"}`; the official SDK's `schemaId`
    /// (its misplaced key) is read as the key.
    pub fn from_value(value: &Value) -> Result<Self> {
        let obj = as_object(value, "tree option")?;
        let key = str_field(obj, "key")?.or(str_field(obj, "schemaId")?);
        let node = TreeOption::with_key(
            str_field(obj, "title")?.unwrap_or_default(),
            key,
            str_field(obj, "value")?,
        );
        Ok(node.children(list_field(obj, "children", TreeOption::from_value)?))
    }
}

/// Flattens trees into options, depth first: each node becomes an option whose value is
/// its path (`"A / B / C"`) and whose schema id is its key.
pub fn flatten_tree_options(trees: &[TreeOption]) -> Vec<LabelOption> {
    fn walk(node: &TreeOption, prefix: Option<&str>, out: &mut Vec<LabelOption>) {
        let value = match prefix {
            Some(p) => format!("{p} / {}", node.title),
            None => node.title.clone(),
        };
        out.push(LabelOption {
            value: value.clone(),
            schema_id: node.key.clone(),
        });
        for child in &node.children {
            walk(child, Some(&value), out);
        }
    }
    let mut out = Vec::new();
    for tree in trees {
        walk(tree, None, &mut out);
    }
    out
}

/// The fields every category shares.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryBase {
    /// Title shown to annotators.
    pub title: String,
    /// Whether an answer is required.
    pub required: bool,
    /// The category's id.
    pub schema_id: String,
    /// Shown as a column in the task table.
    pub column_field: bool,
    /// `#RRGGBB`.
    pub color: String,
    /// Keyboard shortcut.
    pub shortcut_key: String,
    /// Nested classifications.
    pub classifications: Vec<ClassificationCategory>,
    /// Options.
    pub options: Vec<LabelOption>,
}

impl CategoryBase {
    fn new(title: String) -> Self {
        CategoryBase {
            title,
            required: false,
            schema_id: new_schema_id(),
            column_field: false,
            color: random_color(),
            shortcut_key: String::new(),
            classifications: Vec::new(),
            options: Vec::new(),
        }
    }

    /// Writes the shared keys in the official order, after `tool`.
    fn write(&self, tool: &str, map: &mut Map<String, Value>) {
        map.insert("tool".into(), Value::from(tool));
        map.insert("title".into(), Value::from(self.title.as_str()));
        map.insert("required".into(), Value::Bool(self.required));
        map.insert("columnField".into(), Value::Bool(self.column_field));
        map.insert("color".into(), Value::from(self.color.as_str()));
        map.insert(
            "shortcutKey".into(),
            Value::from(self.shortcut_key.as_str()),
        );
        map.insert(
            "classifications".into(),
            Value::Array(
                self.classifications
                    .iter()
                    .map(ClassificationCategory::to_value)
                    .collect(),
            ),
        );
        map.insert(
            "options".into(),
            Value::Array(self.options.iter().map(LabelOption::to_value).collect()),
        );
        map.insert("schemaId".into(), Value::from(self.schema_id.as_str()));
    }

    fn from_object(obj: &Map<String, Value>) -> Result<Self> {
        let mut base = CategoryBase::new(str_field(obj, "title")?.unwrap_or_default());
        base.required = bool_field(obj, "required")?.unwrap_or(false);
        if let Some(id) = str_field(obj, "schemaId")?.filter(|s| !s.is_empty()) {
            base.schema_id = id;
        }
        base.column_field = bool_field(obj, "columnField")?.unwrap_or(false);
        if let Some(color) = str_field(obj, "color")?.filter(|s| !s.is_empty()) {
            base.color = color;
        }
        base.shortcut_key = str_field(obj, "shortcutKey")?.unwrap_or_default();
        base.classifications =
            list_field(obj, "classifications", ClassificationCategory::from_value)?;
        base.options = list_field(obj, "options", LabelOption::from_value)?;
        Ok(base)
    }
}

macro_rules! base_setters {
    () => {
        /// Sets whether an answer is required.
        pub fn required(mut self, required: bool) -> Self {
            self.base.required = required;
            self
        }
        /// Sets the schema id (an empty one keeps the generated id, as the official SDK).
        pub fn schema_id(mut self, schema_id: impl Into<String>) -> Self {
            let schema_id = schema_id.into();
            if !schema_id.is_empty() {
                self.base.schema_id = schema_id;
            }
            self
        }
        /// Sets the colour, `#RRGGBB` (an empty one keeps the random colour).
        pub fn color(mut self, color: impl Into<String>) -> Self {
            let color = color.into();
            if !color.is_empty() {
                self.base.color = color;
            }
            self
        }
        /// Sets the title.
        pub fn title(mut self, title: impl Into<String>) -> Self {
            self.base.title = title.into();
            self
        }
        /// Sets the keyboard shortcut.
        pub fn shortcut_key(mut self, key: impl Into<String>) -> Self {
            self.base.shortcut_key = key.into();
            self
        }
        /// Sets whether it is shown as a task-table column.
        pub fn column_field(mut self, column_field: bool) -> Self {
            self.base.column_field = column_field;
            self
        }
        /// Sets the nested classifications.
        pub fn classifications(mut self, classifications: Vec<ClassificationCategory>) -> Self {
            self.base.classifications = classifications;
            self
        }
        /// Sets the options.
        pub fn options(mut self, options: Vec<LabelOption>) -> Self {
            self.base.options = options;
            self
        }
    };
}

/// A labeling tool of the ontology.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCategory {
    /// The tool.
    pub tool: Tool,
    /// Shared fields.
    pub base: CategoryBase,
}

impl ToolCategory {
    /// A tool with a new schema id and a random colour.
    pub fn new(tool: Tool, title: impl Into<String>) -> Self {
        ToolCategory {
            tool,
            base: CategoryBase::new(title.into()),
        }
    }

    base_setters!();

    /// The category as the official `toDict()`.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        self.base.write(self.tool.as_str(), &mut map);
        Value::Object(map)
    }

    /// Reads a category from its dict form (missing schemaId/colour are generated).
    pub fn from_value(value: &Value) -> Result<Self> {
        let obj = as_object(value, "tool category")?;
        Ok(ToolCategory {
            tool: parse_kind(obj)?,
            base: CategoryBase::from_object(obj)?,
        })
    }
}

/// A relation of the ontology.
#[derive(Debug, Clone, PartialEq)]
pub struct RelationCategory {
    /// The relation type.
    pub relation: Relation,
    /// Shared fields.
    pub base: CategoryBase,
}

impl RelationCategory {
    /// A relation with a new schema id and a random colour.
    pub fn new(relation: Relation, title: impl Into<String>) -> Self {
        RelationCategory {
            relation,
            base: CategoryBase::new(title.into()),
        }
    }

    base_setters!();

    /// The category as the official `toDict()`.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        self.base.write(self.relation.as_str(), &mut map);
        Value::Object(map)
    }

    /// Reads a category from its dict form.
    pub fn from_value(value: &Value) -> Result<Self> {
        let obj = as_object(value, "relation category")?;
        Ok(RelationCategory {
            relation: parse_kind(obj)?,
            base: CategoryBase::from_object(obj)?,
        })
    }
}

/// A classification (question) of the ontology, global or nested in a tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassificationCategory {
    /// The question type.
    pub classification: Classification,
    /// Shared fields.
    pub base: CategoryBase,
    /// The option tree of a tree-dropdown (its flattening is in `base.options`).
    pub tree_options: Vec<TreeOption>,
    /// Answered per frame (video).
    pub frame_specific: bool,
    /// Shown only when this option (its schemaId) of the parent is picked.
    pub parent_option_id: Option<String>,
    /// A pattern text answers must match.
    pub regex: Option<String>,
    /// Show options as a dropdown.
    pub show_dropdown: bool,
    /// Rich-text answers.
    pub rich_text: bool,
    /// Name used in exports.
    pub export_name: Option<String>,
    /// Name shown to annotators.
    pub display_name: Option<String>,
    /// Short name.
    pub abbreviated_name: Option<String>,
    /// Attribute type.
    pub attribute_type: Option<String>,
    /// Default answer of a boolean.
    pub default_value: Option<bool>,
}

impl ClassificationCategory {
    /// A classification with a new schema id and a random colour.
    pub fn new(classification: Classification, title: impl Into<String>) -> Self {
        ClassificationCategory {
            classification,
            base: CategoryBase::new(title.into()),
            tree_options: Vec::new(),
            frame_specific: false,
            parent_option_id: None,
            regex: None,
            show_dropdown: false,
            rich_text: false,
            export_name: None,
            display_name: None,
            abbreviated_name: None,
            attribute_type: None,
            default_value: None,
        }
    }

    base_setters!();

    /// Sets the option tree; like the official SDK, a non-empty tree replaces the
    /// options with its flattening.
    pub fn tree_options(mut self, trees: Vec<TreeOption>) -> Self {
        if !trees.is_empty() {
            self.base.options = flatten_tree_options(&trees);
        }
        self.tree_options = trees;
        self
    }

    /// Shows this question only when the parent's option `option_schema_id` is picked.
    pub fn parent_option_id(mut self, option_schema_id: impl Into<String>) -> Self {
        self.parent_option_id = Some(option_schema_id.into());
        self
    }

    /// Sets whether it is answered per frame (video).
    pub fn frame_specific(mut self, frame_specific: bool) -> Self {
        self.frame_specific = frame_specific;
        self
    }

    /// Sets the pattern text answers must match.
    pub fn regex(mut self, regex: impl Into<String>) -> Self {
        self.regex = Some(regex.into());
        self
    }

    /// Sets whether options show as a dropdown.
    pub fn show_dropdown(mut self, show_dropdown: bool) -> Self {
        self.show_dropdown = show_dropdown;
        self
    }

    /// Sets whether text answers are rich text.
    pub fn rich_text(mut self, rich_text: bool) -> Self {
        self.rich_text = rich_text;
        self
    }

    /// Sets the name used in exports.
    pub fn export_name(mut self, name: impl Into<String>) -> Self {
        self.export_name = Some(name.into());
        self
    }

    /// Sets the name shown to annotators.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Sets the short name.
    pub fn abbreviated_name(mut self, name: impl Into<String>) -> Self {
        self.abbreviated_name = Some(name.into());
        self
    }

    /// Sets the attribute type.
    pub fn attribute_type(mut self, attribute_type: impl Into<String>) -> Self {
        self.attribute_type = Some(attribute_type.into());
        self
    }

    /// Sets the default answer of a boolean.
    pub fn default_value(mut self, default_value: bool) -> Self {
        self.default_value = Some(default_value);
        self
    }

    /// The category as the official `toDict()` (every optional field present, `null` when unset).
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "treeOptions".into(),
            Value::Array(self.tree_options.iter().map(TreeOption::to_value).collect()),
        );
        self.base.write(self.classification.as_str(), &mut map);
        let opt = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::from);
        map.insert("regex".into(), opt(&self.regex));
        map.insert("parentOptionId".into(), opt(&self.parent_option_id));
        map.insert("frameSpecific".into(), Value::Bool(self.frame_specific));
        map.insert("showDropdown".into(), Value::Bool(self.show_dropdown));
        map.insert("richText".into(), Value::Bool(self.rich_text));
        map.insert("exportName".into(), opt(&self.export_name));
        map.insert("displayName".into(), opt(&self.display_name));
        map.insert("abbreviatedName".into(), opt(&self.abbreviated_name));
        map.insert("attributeType".into(), opt(&self.attribute_type));
        map.insert(
            "defaultValue".into(),
            self.default_value.map_or(Value::Null, Value::Bool),
        );
        Value::Object(map)
    }

    /// Reads a classification from its dict form; `treeOptions` given without `options`
    /// are flattened into options.
    pub fn from_value(value: &Value) -> Result<Self> {
        let obj = as_object(value, "classification category")?;
        let mut c = ClassificationCategory::new(parse_kind(obj)?, "");
        c.base = CategoryBase::from_object(obj)?;
        let trees = list_field(obj, "treeOptions", TreeOption::from_value)?;
        if !trees.is_empty() && c.base.options.is_empty() {
            c.base.options = flatten_tree_options(&trees);
        }
        c.tree_options = trees;
        c.frame_specific = bool_field(obj, "frameSpecific")?.unwrap_or(false);
        c.parent_option_id = str_field(obj, "parentOptionId")?;
        c.regex = str_field(obj, "regex")?;
        c.show_dropdown = bool_field(obj, "showDropdown")?.unwrap_or(false);
        c.rich_text = bool_field(obj, "richText")?.unwrap_or(false);
        c.export_name = str_field(obj, "exportName")?;
        c.display_name = str_field(obj, "displayName")?;
        c.abbreviated_name = str_field(obj, "abbreviatedName")?;
        c.attribute_type = str_field(obj, "attributeType")?;
        c.default_value = bool_field(obj, "defaultValue")?;
        Ok(c)
    }
}

/// A whole ontology: the `categorySchema` of a project.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategorySchema {
    /// Tools.
    pub tools: Vec<ToolCategory>,
    /// Global classifications.
    pub classifications: Vec<ClassificationCategory>,
    /// Relations.
    pub relations: Vec<RelationCategory>,
}

impl CategorySchema {
    /// `{"tools", "classifications", "relations"}`.
    pub fn to_value(&self) -> Value {
        json!({
            "tools": self.tools.iter().map(ToolCategory::to_value).collect::<Vec<_>>(),
            "classifications": self.classifications.iter().map(ClassificationCategory::to_value).collect::<Vec<_>>(),
            "relations": self.relations.iter().map(RelationCategory::to_value).collect::<Vec<_>>(),
        })
    }

    /// Reads a schema from its dict form (missing lists are empty).
    pub fn from_value(value: &Value) -> Result<Self> {
        let obj = as_object(value, "category schema")?;
        Ok(CategorySchema {
            tools: list_field(obj, "tools", ToolCategory::from_value)?,
            classifications: list_field(
                obj,
                "classifications",
                ClassificationCategory::from_value,
            )?,
            relations: list_field(obj, "relations", RelationCategory::from_value)?,
        })
    }
}

/// Serde support through the dict form: serialising writes exactly `to_value()`, and
/// deserialising reads what `from_value()` reads (camelCase keys, missing ids and colours
/// generated), so bindings can pass ontology parts as JSON.
macro_rules! serde_via_value {
    ($($ty:ty),+) => {$(
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                self.to_value().serialize(serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                let value = Value::deserialize(deserializer)?;
                <$ty>::from_value(&value).map_err(serde::de::Error::custom)
            }
        }
    )+};
}

serde_via_value!(
    LabelOption,
    TreeOption,
    ToolCategory,
    ClassificationCategory,
    RelationCategory,
    CategorySchema
);

/// The JSON Schemas of the ontology parts (read through their dict form: camelCase keys
/// as the official `toDict()` writes them; missing ids and colours are generated).
#[cfg(feature = "schema")]
macro_rules! dict_schema {
    ($($ty:ident: $description:literal;)+) => {$(
        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "object",
                    "description": $description,
                    "additionalProperties": true,
                })
            }
        }
    )+};
}

#[cfg(feature = "schema")]
dict_schema! {
    LabelOption: "value, schemaId";
    TreeOption: "title, key, value, children";
    ToolCategory: "tool, title, required, schemaId, columnField, color, shortcutKey, classifications, options";
    ClassificationCategory: "tool (the classification type), title, required, schemaId, columnField, color, shortcutKey, classifications, options, treeOptions, frameSpecific, showDropdown, richText, regex, parentOptionId, exportName, displayName, abbreviatedName, attributeType, defaultValue";
    RelationCategory: "tool (the relation type), title, required, schemaId, columnField, color, shortcutKey, classifications, options";
    CategorySchema: "tools, classifications, relations";
}

fn as_object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| Error::invalid(format!("a {what} must be an object, got {value}")))
}

fn parse_kind<T: std::str::FromStr<Err = Error>>(obj: &Map<String, Value>) -> Result<T> {
    match obj.get("tool") {
        Some(Value::String(s)) => s.parse(),
        _ => Err(Error::invalid("a category needs a \"tool\" string")),
    }
}

fn str_field(obj: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Error::invalid(format!(
            "{key:?} must be a string, got {other}"
        ))),
    }
}

fn bool_field(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(Error::invalid(format!(
            "{key:?} must be a boolean, got {other}"
        ))),
    }
}

fn list_field<T>(
    obj: &Map<String, Value>,
    key: &str,
    parse: impl Fn(&Value) -> Result<T>,
) -> Result<Vec<T>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(parse).collect(),
        Some(other) => Err(Error::invalid(format!(
            "{key:?} must be a list, got {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyjson;

    #[test]
    fn generated_ids_and_colours_have_the_official_shape() {
        let id = new_schema_id();
        assert_eq!(id.len(), 32);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let color = random_color();
        assert_eq!(color.len(), 7);
        assert!(color[1..].bytes().all(|b| b"ABCDEF0123456789".contains(&b)));
        assert_ne!(
            ToolCategory::new(Tool::Point, "a").base.schema_id,
            ToolCategory::new(Tool::Point, "a").base.schema_id
        );
    }

    #[test]
    fn tool_with_nested_classification_matches_the_official_dict() {
        let tool = ToolCategory::new(Tool::BoundingBox, "Car")
            .schema_id("t")
            .color("#111111")
            .classifications(vec![
                ClassificationCategory::new(Classification::Text, "N")
                    .schema_id("n")
                    .color("#222222"),
            ]);
        assert_eq!(
            pyjson::to_string(&tool.to_value()),
            r##"{"tool": "bounding-box", "title": "Car", "required": false, "columnField": false, "color": "#111111", "shortcutKey": "", "classifications": [{"treeOptions": [], "tool": "text", "title": "N", "required": false, "columnField": false, "color": "#222222", "shortcutKey": "", "classifications": [], "options": [], "schemaId": "n", "regex": null, "parentOptionId": null, "frameSpecific": false, "showDropdown": false, "richText": false, "exportName": null, "displayName": null, "abbreviatedName": null, "attributeType": null, "defaultValue": null}], "options": [], "schemaId": "t"}"##
        );
        let rel = RelationCategory::new(Relation::Single, "r")
            .schema_id("r")
            .color("#333333");
        assert_eq!(
            pyjson::to_string(&rel.to_value()),
            r##"{"tool": "one-to-one", "title": "r", "required": false, "columnField": false, "color": "#333333", "shortcutKey": "", "classifications": [], "options": [], "schemaId": "r"}"##
        );
    }

    #[test]
    fn trees_flatten_into_path_options_and_given_keys_are_kept() {
        // As in the official SDK, a node without a value gets a fresh id as its value.
        assert_eq!(
            TreeOption::with_key("A", Some("ka".into()), None)
                .value
                .len(),
            32
        );
        let tree = TreeOption::with_key("A", Some("ka".into()), Some("va".into())).children(vec![
            TreeOption::with_key("B", Some("kb".into()), Some("vb".into())),
        ]);
        let c = ClassificationCategory::new(Classification::TreeDropdown, "Q")
            .schema_id("s")
            .color("#000000")
            .tree_options(vec![tree]);
        assert_eq!(
            pyjson::to_string(&c.to_value()),
            r##"{"treeOptions": [{"title": "A", "children": [{"title": "B", "children": [], "key": "kb", "value": "vb"}], "key": "ka", "value": "va"}], "tool": "tree-dropdown", "title": "Q", "required": false, "columnField": false, "color": "#000000", "shortcutKey": "", "classifications": [], "options": [{"value": "A", "schemaId": "ka"}, {"value": "A / B", "schemaId": "kb"}], "schemaId": "s", "regex": null, "parentOptionId": null, "frameSpecific": false, "showDropdown": false, "richText": false, "exportName": null, "displayName": null, "abbreviatedName": null, "attributeType": null, "defaultValue": null}"##
        );
    }

    #[test]
    fn dict_forms_round_trip() {
        let c = ClassificationCategory::new(Classification::Radio, "Q")
            .options(vec![LabelOption::with_schema_id("Yes", "y")])
            .parent_option_id("p");
        let back = ClassificationCategory::from_value(&c.to_value()).unwrap();
        assert_eq!(back, c);
        let schema = CategorySchema {
            tools: vec![ToolCategory::new(Tool::Polygon, "P").classifications(vec![c])],
            classifications: vec![],
            relations: vec![RelationCategory::new(Relation::Group, "G")],
        };
        assert_eq!(
            CategorySchema::from_value(&schema.to_value()).unwrap(),
            schema
        );
        assert!(ToolCategory::from_value(&json!({"tool": "laser"})).is_err());
        assert!(ToolCategory::from_value(&json!({"tool": "point", "title": 5})).is_err());
        let filled = ToolCategory::from_value(&json!({"tool": "point"})).unwrap();
        assert_eq!(filled.base.schema_id.len(), 32);
    }

    /// Expected texts are `json.dumps(x.toDict())` of the official SDK 1.4.10 for the
    /// same arguments.
    #[test]
    fn every_field_matches_the_official_dict() {
        let c = ClassificationCategory::new(Classification::SingleDropdown, "Color")
            .required(true)
            .schema_id("c1")
            .column_field(true)
            .color("#ABCDEF")
            .shortcut_key("1")
            .classifications(vec![
                ClassificationCategory::new(Classification::Text, "Note")
                    .schema_id("n1")
                    .color("#000000")
                    .regex("^a$")
                    .rich_text(true),
            ])
            .options(vec![
                LabelOption::with_schema_id("Red", "r"),
                LabelOption::with_schema_id("Blue", "b"),
            ])
            .frame_specific(true)
            .parent_option_id("p1")
            .show_dropdown(true)
            .export_name("color")
            .display_name("Colour")
            .abbreviated_name("C")
            .attribute_type("attr")
            .default_value(false);
        assert_eq!(
            pyjson::to_string(&c.to_value()),
            r##"{"treeOptions": [], "tool": "single-dropdown", "title": "Color", "required": true, "columnField": true, "color": "#ABCDEF", "shortcutKey": "1", "classifications": [{"treeOptions": [], "tool": "text", "title": "Note", "required": false, "columnField": false, "color": "#000000", "shortcutKey": "", "classifications": [], "options": [], "schemaId": "n1", "regex": "^a$", "parentOptionId": null, "frameSpecific": false, "showDropdown": false, "richText": true, "exportName": null, "displayName": null, "abbreviatedName": null, "attributeType": null, "defaultValue": null}], "options": [{"value": "Red", "schemaId": "r"}, {"value": "Blue", "schemaId": "b"}], "schemaId": "c1", "regex": null, "parentOptionId": "p1", "frameSpecific": true, "showDropdown": true, "richText": false, "exportName": "color", "displayName": "Colour", "abbreviatedName": "C", "attributeType": "attr", "defaultValue": false}"##
        );
        let t = ToolCategory::new(Tool::Polygon, "Poly")
            .required(true)
            .schema_id("t1")
            .column_field(true)
            .color("#123456")
            .shortcut_key("p")
            .options(vec![LabelOption::with_schema_id("o", "os")]);
        assert_eq!(
            pyjson::to_string(&t.to_value()),
            r##"{"tool": "polygon", "title": "Poly", "required": true, "columnField": true, "color": "#123456", "shortcutKey": "p", "classifications": [], "options": [{"value": "o", "schemaId": "os"}], "schemaId": "t1"}"##
        );
        let r = RelationCategory::new(Relation::Many, "Rel")
            .schema_id("r1")
            .color("#0A0A0A")
            .classifications(vec![
                ClassificationCategory::new(Classification::Boolean, "B")
                    .schema_id("b1")
                    .color("#111111")
                    .default_value(true),
            ]);
        assert_eq!(
            pyjson::to_string(&r.to_value()),
            r##"{"tool": "one-to-many", "title": "Rel", "required": false, "columnField": false, "color": "#0A0A0A", "shortcutKey": "", "classifications": [{"treeOptions": [], "tool": "boolean", "title": "B", "required": false, "columnField": false, "color": "#111111", "shortcutKey": "", "classifications": [], "options": [], "schemaId": "b1", "regex": null, "parentOptionId": null, "frameSpecific": false, "showDropdown": false, "richText": false, "exportName": null, "displayName": null, "abbreviatedName": null, "attributeType": null, "defaultValue": true}], "options": [], "schemaId": "r1"}"##
        );
        // Empty ids and colours are generated, as the official `if schemaId:` does.
        let blank = ToolCategory::new(Tool::Ner, "").schema_id("").color("");
        assert_eq!(blank.base.schema_id.len(), 32);
        assert_eq!(blank.base.color.len(), 7);
    }

    #[test]
    fn deep_trees_flatten_depth_first_and_replace_options() {
        let node = |key: &str, title: &str, children: Vec<TreeOption>| {
            TreeOption::with_key(title, Some(key.into()), Some(format!("v{key}")))
                .children(children)
        };
        let trees = vec![
            node(
                "k0",
                "A",
                vec![
                    node("k00", "B", vec![node("k000", "C", vec![])]),
                    node("k01", "D", vec![]),
                ],
            ),
            node("k1", "E", vec![]),
        ];
        let c = ClassificationCategory::new(Classification::TreeDropdown, "Tree")
            .schema_id("tr")
            .color("#FFFFFF")
            .options(vec![LabelOption::with_schema_id("ignored", "x")])
            .tree_options(trees);
        assert_eq!(
            pyjson::to_string(&c.to_value()),
            r##"{"treeOptions": [{"title": "A", "children": [{"title": "B", "children": [{"title": "C", "children": [], "key": "k000", "value": "vk000"}], "key": "k00", "value": "vk00"}, {"title": "D", "children": [], "key": "k01", "value": "vk01"}], "key": "k0", "value": "vk0"}, {"title": "E", "children": [], "key": "k1", "value": "vk1"}], "tool": "tree-dropdown", "title": "Tree", "required": false, "columnField": false, "color": "#FFFFFF", "shortcutKey": "", "classifications": [], "options": [{"value": "A", "schemaId": "k0"}, {"value": "A / B", "schemaId": "k00"}, {"value": "A / B / C", "schemaId": "k000"}, {"value": "A / D", "schemaId": "k01"}, {"value": "E", "schemaId": "k1"}], "schemaId": "tr", "regex": null, "parentOptionId": null, "frameSpecific": false, "showDropdown": false, "richText": false, "exportName": null, "displayName": null, "abbreviatedName": null, "attributeType": null, "defaultValue": null}"##
        );
        // A node without key shares one new id between key and value, as upstream.
        let fresh = TreeOption::new("N");
        assert_eq!(fresh.key, fresh.value);
        // The official `schemaId` spelling of a given key is read as the key.
        let read =
            TreeOption::from_value(&json!({"title": "T", "schemaId": "given", "value": "v"}))
                .unwrap();
        assert_eq!((read.key.as_str(), read.value.as_str()), ("given", "v"));
    }

    #[test]
    fn serde_uses_the_dict_form() {
        let tool: ToolCategory = serde_json::from_str(
            r##"{"tool": "point", "title": "P", "schemaId": "s", "color": "#010101", "classifications": [{"tool": "rank", "title": "R", "options": [{"value": "a", "schemaId": "x"}]}]}"##,
        )
        .unwrap();
        assert_eq!(tool.tool, Tool::Point);
        assert_eq!(
            tool.base.classifications[0].classification,
            Classification::Rank
        );
        assert_eq!(serde_json::to_value(&tool).unwrap(), tool.to_value());
        let option: LabelOption = serde_json::from_value(json!({"value": "v"})).unwrap();
        assert_eq!(option.schema_id.len(), 32);
        let schema: CategorySchema =
            serde_json::from_value(json!({"tools": [], "relations": [{"tool": "group"}]})).unwrap();
        assert_eq!(schema.relations[0].relation, Relation::Group);
        let err = serde_json::from_value::<RelationCategory>(json!({"tool": "laser"}));
        assert!(err.is_err());
        assert!(
            serde_json::from_value::<ClassificationCategory>(
                json!({"tool": "checkbox", "frameSpecific": "yes"})
            )
            .is_err()
        );
    }
}
