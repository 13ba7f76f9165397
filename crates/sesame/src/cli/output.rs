//! CLI output: a terminal table by default, JSON with `--output json`.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Output {
    #[default]
    Table,
    Json,
}

/// A column: header and the JSON field (dotted path) it shows.
pub type Column = (&'static str, &'static str);

pub fn print_list(output: Output, items: &[Value], columns: &[Column]) {
    match output {
        Output::Json => println!("{}", pretty(&Value::Array(items.to_vec()))),
        Output::Table => {
            let mut table = new_table();
            table.set_header(columns.iter().map(|(h, _)| *h));
            for item in items {
                table.add_row(columns.iter().map(|(_, f)| cell(item, f)));
            }
            println!("{table}");
            println!("{} item(s)", items.len());
        }
    }
}

pub fn print_one(output: Output, item: &Value, columns: &[Column]) {
    match output {
        Output::Json => println!("{}", pretty(item)),
        Output::Table => {
            let mut table = new_table();
            for (h, f) in columns {
                table.add_row(vec![h.to_string(), cell(item, f)]);
            }
            println!("{table}");
        }
    }
}

pub fn print_done(output: Output, message: &str) {
    match output {
        Output::Json => println!("{}", serde_json::json!({ "ok": true, "message": message })),
        Output::Table => println!("{message}"),
    }
}

fn new_table() -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

fn cell(item: &Value, path: &str) -> String {
    let mut cur = item;
    for part in path.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}
