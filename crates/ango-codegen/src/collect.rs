//! Collects the JSON Schemas of Rust types (`schemars`) into the generator's input.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value};

use crate::ir::{GenError, GenResult, Types};

/// Stands for a type parameter: the schema of `ApiDocument<TypeParam>` is the one of
/// the generic `ApiDocument<T>`, its `data` a reference to `T`.
pub struct TypeParam;

impl JsonSchema for TypeParam {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "T".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "$ref": "#/$defs/T" })
    }
}

fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12()
}

/// Gathers the schemas of the public types: `reply` for what users receive, `request`
/// for what they pass, `generic_reply` for a generic type given as `Type<TypeParam>`.
pub struct Collector {
    generator: SchemaGenerator,
    replies: Vec<String>,
    generics: BTreeMap<String, Vec<String>>,
    generic_defs: Map<String, Value>,
}

impl Collector {
    pub fn new() -> Self {
        Collector {
            generator: settings().into_generator(),
            replies: Vec::new(),
            generics: BTreeMap::new(),
            generic_defs: Map::new(),
        }
    }

    /// A type users receive (described in TypeScript and in the Python stubs).
    pub fn reply<T: JsonSchema>(&mut self) -> &mut Self {
        self.generator.subschema_for::<T>();
        self.replies.push(T::schema_name().into_owned());
        self
    }

    /// A type users pass as an argument (described in TypeScript).
    pub fn request<T: JsonSchema>(&mut self) -> &mut Self {
        self.generator.subschema_for::<T>();
        self
    }

    /// A generic reply type with one parameter, given as `Type<TypeParam>`.
    pub fn generic_reply<T: JsonSchema>(&mut self) -> &mut Self {
        // A generator of its own: in a shared one, two instances of the same generic
        // type would be told apart by numbered names.
        let mut generator = settings().into_generator();
        generator.subschema_for::<T>();
        let name = T::schema_name().into_owned();
        self.generic_defs.extend(generator.take_definitions(true));
        self.generics.insert(name.clone(), vec!["T".into()]);
        self.replies.push(name);
        self
    }

    pub fn finish(mut self) -> GenResult<Types> {
        let mut defs = self.generator.take_definitions(true);
        for (name, schema) in self.generic_defs {
            match defs.get(&name) {
                Some(existing) if *existing != schema => {
                    return Err(GenError(format!(
                        "two different schemas are named {name}: rename one"
                    )));
                }
                _ => {
                    defs.insert(name, schema);
                }
            }
        }
        let mut types = Types::from_defs(&defs, &self.generics)?;
        types.replies = self.replies;
        Ok(types)
    }
}

impl Default for Collector {
    fn default() -> Self {
        Self::new()
    }
}
