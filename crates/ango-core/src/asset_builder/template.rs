//! Filling a template's placeholders for one input row, on the tree of [`super::html`].

use super::html::{Dom, NodeId, parse, py_unescape};

/// Python's `str.strip()` whitespace (Unicode White_Space plus the four ASCII separators).
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

/// Python's `urllib.parse.unquote` (`%XX` escapes decoded, others kept, invalid UTF-8
/// replaced).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// What one template needs to fill a row: the data columns (with their storage, in the
/// template's order) and the classification titles of the project.
pub(crate) struct Filler<'a> {
    /// `(column, storage)` for every column of the template's `dataConfig`.
    pub columns: &'a [(String, Option<String>)],
    /// `(title, schemaId)` of the project's classifications.
    pub classifications: &'a [(String, String)],
}

const DEFAULT_STORAGE: &str = "Public";

impl Filler<'_> {
    fn column_for(&self, placeholder: &str) -> Option<usize> {
        self.columns.iter().position(|(c, _)| {
            placeholder.len() == c.len() + 4 && placeholder == format!("{{{{{c}}}}}")
        })
    }

    /// The row's HTML: the template with its placeholders filled, as the official
    /// uploader writes it. `value` gives a column's text in the row (`None` when the row
    /// does not have that column, which is an error the caller names).
    pub(crate) fn render(
        &self,
        template: &str,
        value: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, String> {
        let mut dom = parse(&py_unescape(template));
        let Some(root) = dom.root else {
            return Err("the template holds no HTML element".into());
        };
        self.fill(&mut dom, root, value)?;
        Ok(match dom.child_element(root, "body") {
            Some(body) => {
                let text = dom
                    .serialize(body, true)
                    .replace("<body>", "")
                    .replace("</body>", "");
                py_strip(&text).to_string()
            }
            None => dom.serialize(root, false),
        })
    }

    fn cell(
        &self,
        column: usize,
        value: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, String> {
        let name = &self.columns[column].0;
        value(name).ok_or_else(|| format!("the input file has no column {name:?}"))
    }

    fn fill(
        &self,
        dom: &mut Dom,
        parent: NodeId,
        value: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), String> {
        for node in dom.non_text_children(parent) {
            let Some(tag) = dom.name(node).map(str::to_lowercase) else {
                // Comments are left as they are.
                continue;
            };
            let text = py_unescape(&dom.text(node).unwrap_or_default());
            let placeholder = py_strip(&text);
            if let Some((_, schema_id)) = self
                .classifications
                .iter()
                .find(|(title, _)| placeholder == format!("{{{{{title}}}}}"))
            {
                dom.set_attr(node, "id", &format!("cla-portal-{schema_id}"));
                dom.set_text(node, "");
                continue;
            }
            match tag.as_str() {
                "script" => dom.remove(node),
                "img" | "audio" | "video" => {
                    if let Some(col) = self.column_for(&resource_name(dom.attr(node, "src"))) {
                        let mut src = self.cell(col, value)?;
                        if let Some(storage) = self.columns[col]
                            .1
                            .as_deref()
                            .filter(|s| !s.is_empty() && *s != DEFAULT_STORAGE)
                        {
                            src.push_str("?storageId=");
                            src.push_str(storage);
                        }
                        dom.set_attr(node, "src", &src);
                    }
                }
                "a" => {
                    if let Some(col) = self.column_for(&resource_name(dom.attr(node, "href"))) {
                        let href = self.cell(col, value)?;
                        dom.set_attr(node, "href", &href);
                    }
                }
                "iframe" => {
                    if let Some(col) = self.column_for(&resource_name(dom.attr(node, "src"))) {
                        let src = self.cell(col, value)?;
                        dom.set_attr(node, "src", &src);
                        dom.remove_attr(node, "sandbox");
                        dom.remove_attr(node, "srcdoc");
                    }
                }
                _ => {
                    if let Some(col) = self.column_for(&text) {
                        let cell = self.cell(col, value)?;
                        dom.set_text(node, &format!("\n\n{cell}\n\n"));
                    }
                }
            }
            self.fill(dom, node, value)?;
            // Then the element's own text, compared without surrounding whitespace.
            if let Some(text) = dom.text(node)
                && let Some(col) = self.column_for(py_strip(&text))
            {
                let cell = self.cell(col, value)?;
                dom.set_text(node, &format!("\n\n{cell}\n\n"));
            }
        }
        Ok(())
    }
}

/// The last path segment of a percent-decoded URL.
fn resource_name(url: Option<&str>) -> String {
    let decoded = percent_decode(url.unwrap_or(""));
    decoded.rsplit('/').next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_and_strip_follow_python() {
        assert_eq!(percent_decode("a%7B%7Bx%7D%7D%zz%e2%82%ac"), "a{{x}}%zz€");
        assert_eq!(resource_name(Some("http://h/p/%7B%7Bimg%7D%7D")), "{{img}}");
        assert_eq!(py_strip("\x1c x \u{3000}"), "x");
    }
}
