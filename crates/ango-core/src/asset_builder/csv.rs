//! The CSV reader of the asset builder: records as Python's `csv` module reads them.

/// CSV records as Python's `csv.reader` (excel dialect, not strict) reads them from
/// text whose line ends are `\n`. An empty line is an empty record.
pub(super) fn parse_csv(text: &str, delimiter: char) -> Vec<Vec<String>> {
    #[derive(PartialEq)]
    enum State {
        StartRecord,
        StartField,
        InField,
        InQuoted,
        QuoteInQuoted,
        EatNewline,
    }
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut state = State::StartRecord;
    let mut lines = text.split_inclusive('\n').peekable();
    while lines.peek().is_some() {
        // One record, which may take several lines while inside quotes.
        loop {
            let Some(line) = lines.next() else {
                // The input ended inside a quoted field: keep what was read.
                if !field.is_empty() || state == State::InQuoted {
                    fields.push(std::mem::take(&mut field));
                }
                break;
            };
            for c in line.chars() {
                if state == State::StartRecord {
                    if c == '\n' {
                        state = State::EatNewline;
                        continue;
                    }
                    state = State::StartField;
                }
                match state {
                    State::StartField => {
                        if c == '\n' {
                            fields.push(std::mem::take(&mut field));
                            state = State::EatNewline;
                        } else if c == '"' {
                            state = State::InQuoted;
                        } else if c == delimiter {
                            fields.push(std::mem::take(&mut field));
                        } else {
                            field.push(c);
                            state = State::InField;
                        }
                    }
                    State::InField => {
                        if c == '\n' {
                            fields.push(std::mem::take(&mut field));
                            state = State::EatNewline;
                        } else if c == delimiter {
                            fields.push(std::mem::take(&mut field));
                            state = State::StartField;
                        } else {
                            field.push(c);
                        }
                    }
                    State::InQuoted => {
                        if c == '"' {
                            state = State::QuoteInQuoted;
                        } else {
                            field.push(c);
                        }
                    }
                    State::QuoteInQuoted => {
                        if c == '"' {
                            field.push(c);
                            state = State::InQuoted;
                        } else if c == delimiter {
                            fields.push(std::mem::take(&mut field));
                            state = State::StartField;
                        } else if c == '\n' {
                            fields.push(std::mem::take(&mut field));
                            state = State::EatNewline;
                        } else {
                            field.push(c);
                            state = State::InField;
                        }
                    }
                    // Only line ends follow a line end within one line.
                    State::EatNewline | State::StartRecord => {}
                }
            }
            // End of line.
            match state {
                State::StartField | State::InField | State::QuoteInQuoted => {
                    fields.push(std::mem::take(&mut field));
                    state = State::StartRecord;
                }
                State::EatNewline => state = State::StartRecord,
                State::StartRecord | State::InQuoted => {}
            }
            if state == State::StartRecord {
                break;
            }
        }
        records.push(std::mem::take(&mut fields));
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Vec<Vec<String>> {
        parse_csv(text, ',')
    }

    #[test]
    fn csv_follows_python() {
        assert_eq!(csv("a,b\n1,2\n"), vec![vec!["a", "b"], vec!["1", "2"]]);
        assert_eq!(
            csv("a,b\n\n1,2"),
            vec![vec!["a", "b"], vec![], vec!["1", "2"]]
        );
        assert_eq!(csv("\"x,\"\"y\"\"\nz\",w\n"), vec![vec!["x,\"y\"\nz", "w"]]);
        assert_eq!(csv("\"ab\"c,d\n"), vec![vec!["abc", "d"]]);
        assert_eq!(csv("a,\n"), vec![vec!["a", ""]]);
        assert_eq!(
            csv("\"open\nnever closed"),
            vec![vec!["open\nnever closed"]]
        );
        assert_eq!(csv(" a , b"), vec![vec![" a ", " b"]]);
        assert_eq!(parse_csv("a;b\n", ';'), vec![vec!["a", "b"]]);
    }
}
