//! The query tables of the README and `docs/WORKLOADS.md` are the catalog's, word for word:
//! the text between `<!-- catalog:queries -->` and `<!-- /catalog:queries -->` must equal
//! `weir list --format markdown`. When the catalog changes, rewrite them with
//! `WEIR_BLESS=1 cargo test -p weir-tui --test docs_tables`.

use std::path::{Path, PathBuf};

const BEGIN: &str = "<!-- catalog:queries -->\n";
const END: &str = "<!-- /catalog:queries -->";

fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// Checks (or, under `WEIR_BLESS=1`, rewrites) the generated table in `name`.
fn check(name: &str) {
    let path = repo_file(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let start = text
        .find(BEGIN)
        .unwrap_or_else(|| panic!("{name} has no '{}' marker", BEGIN.trim()))
        + BEGIN.len();
    let end = start
        + text[start..]
            .find(END)
            .unwrap_or_else(|| panic!("{name} has no '{END}' marker"));
    let table = weir_tui::cmd_list::markdown();
    if text[start..end] == table {
        return;
    }
    if std::env::var_os("WEIR_BLESS").is_some_and(|v| v == "1") {
        let updated = format!("{}{table}{}", &text[..start], &text[end..]);
        std::fs::write(&path, updated).expect("the repository is writable when blessing");
        return;
    }
    panic!(
        "the query table in {name} differs from `weir list --format markdown`; rewrite it \
         with `WEIR_BLESS=1 cargo test -p weir-tui --test docs_tables`\n--- in {name}:\n{}\n\
         --- generated:\n{table}",
        &text[start..end]
    );
}

#[test]
fn readme_query_table_is_the_catalogs() {
    check("README.md");
}

#[test]
fn workloads_doc_query_table_is_the_catalogs() {
    check("docs/WORKLOADS.md");
}
