//! What a crate's sources read from the environment, found by scanning its
//! `src/` (comments and `#[cfg(test)] mod … { }` blocks removed):
//!
//! - configuration loaders, `Type::from_env(`, `Type::from_lookup(` and
//!   `Type::…_default_env(` (e.g. `EnvFilter::try_from_default_env`), and
//!   `portal_aws::init_json_logs(` (the shared logger, reading `RUST_LOG`): the test
//!   maps each to the `VARIABLES` list of that type, and fails on a loader it
//!   does not know;
//! - direct reads, `env::var("NAME")` / `env::var_os("NAME")`, or with an
//!   upper-case constant defined in the crate as `const NAME: &str = "…"`.
//!   A read through a lower-case binding (the `|name| std::env::var(name)`
//!   of a `from_env`) is the plumbing of a loader and is not reported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The shared logger set-up (`portal_aws::init_json_logs`), which reads `RUST_LOG`.
pub const LOG_LOADER_FUNCTION: &str = "init_json_logs";

/// The sources cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct ScanError {
    /// The file or folder.
    pub path: String,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

/// Everything a crate's sources read from the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    /// Loader calls, as `Type::function` (`ApiConfig::from_env`).
    pub loaders: BTreeSet<String>,
    /// Variables read directly by name.
    pub variables: BTreeSet<String>,
    /// `env::var(CONST)` whose constant is not a string defined in the crate.
    pub unresolved: BTreeSet<String>,
}

/// Scans every `.rs` file under `src`.
pub fn scan_dir(src: &Path) -> Result<Reads, ScanError> {
    let mut files = Vec::new();
    collect_rs(src, &mut files)?;
    files.sort();
    let mut texts = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| ScanError {
            path: file.display().to_string(),
            source,
        })?;
        texts.push(strip_test_modules(&strip_comments(&text)));
    }
    Ok(scan_texts(&texts))
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), ScanError> {
    let err = |source| ScanError {
        path: dir.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let path = entry.map_err(err)?.path();
        if path.is_dir() {
            collect_rs(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Scans sources already stripped of comments and tests.
pub fn scan_texts(texts: &[String]) -> Reads {
    let mut constants = BTreeMap::new();
    for text in texts {
        constants.extend(string_constants(text));
    }
    let mut reads = Reads::default();
    for text in texts {
        let code = blank_strings(text);
        for (ty, function) in path_calls(&code) {
            let is_loader = function == "from_env"
                || function == "from_lookup"
                || function.ends_with("_default_env")
                || function == LOG_LOADER_FUNCTION;
            if is_loader && ty != "Self" {
                reads.loaders.insert(format!("{ty}::{function}"));
            }
        }
        for argument in env_var_arguments(&code, text) {
            if let Some(literal) = argument.strip_prefix('"').and_then(|a| a.strip_suffix('"')) {
                reads.variables.insert(literal.to_owned());
            } else if let Some(name) = argument
                .rsplit("::")
                .next()
                .filter(|n| n.starts_with(|c: char| c.is_ascii_uppercase()))
            {
                match constants.get(name) {
                    Some(value) => {
                        reads.variables.insert(value.clone());
                    }
                    None => {
                        reads.unresolved.insert(argument);
                    }
                }
            }
        }
    }
    reads
}

/// `Type::function(` pairs, `Type` being the last path segment before it.
fn path_calls(text: &str) -> Vec<(String, String)> {
    let mut calls = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(found) = text[at..].find("::") {
        let sep = at + found;
        at = sep + 2;
        let ty_start = text[..sep]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let ty = &text[ty_start..sep];
        let fn_end = text[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(text.len(), |i| at + i);
        let function = &text[at..fn_end];
        if !ty.is_empty() && !function.is_empty() && bytes.get(fn_end) == Some(&b'(') {
            calls.push((ty.to_owned(), function.to_owned()));
        }
    }
    calls
}

/// The trimmed first argument of every `env::var(` / `env::var_os(` call:
/// found in `code` (strings blanked), read from `text` (same byte offsets).
fn env_var_arguments(code: &str, text: &str) -> Vec<String> {
    let mut arguments = Vec::new();
    for call in ["env::var(", "env::var_os("] {
        let mut at = 0;
        while let Some(found) = code[at..].find(call) {
            let start = at + found + call.len();
            at = start;
            let end = code[start..]
                .find([')', ','])
                .map_or(code.len(), |i| start + i);
            arguments.push(text[start..end].trim().to_owned());
        }
    }
    arguments
}

/// `text` with the contents of string literals replaced by spaces, byte for
/// byte, so that offsets stay valid in `text`.
fn blank_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            if in_string {
                out.extend(std::iter::repeat_n(' ', c.len_utf8()));
            } else {
                out.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            // The char literal '"' must not open a string.
            '\'' if text[i..].starts_with("'\"'") => {
                out.push_str("' '");
                chars.next();
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// `const NAME: &str = "value";` definitions.
fn string_constants(text: &str) -> BTreeMap<String, String> {
    let mut constants = BTreeMap::new();
    let mut at = 0;
    while let Some(found) = text[at..].find("const ") {
        let start = at + found + "const ".len();
        at = start;
        let Some(colon) = text[start..].find(':') else {
            break;
        };
        let name = text[start..start + colon].trim();
        let rest = &text[start + colon + 1..];
        let Some(rest) = rest.trim_start().strip_prefix("&str") else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix('=') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        if let Some(end) = rest.find('"') {
            constants.insert(name.to_owned(), rest[..end].to_owned());
        }
    }
    constants
}

/// The source without `//` and `/* */` comments (string and char literals kept).
pub fn strip_comments(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            '"' => {
                out.push(c);
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == '\\' {
                        if let Some(&escaped) = chars.get(i + 1) {
                            out.push(escaped);
                        }
                        i += 2;
                        continue;
                    }
                    i += 1;
                    if chars[i - 1] == '"' {
                        break;
                    }
                }
            }
            '\'' => {
                // A char literal ('x', '\n', '"'); otherwise a lifetime.
                let literal_len = match (next, chars.get(i + 2), chars.get(i + 3)) {
                    (Some('\\'), _, _) => chars[i + 1..]
                        .iter()
                        .skip(2)
                        .position(|&c| c == '\'')
                        .map(|p| p + 4),
                    (Some(_), Some('\''), _) => Some(3),
                    _ => None,
                };
                let len = literal_len.unwrap_or(1);
                out.extend(&chars[i..(i + len).min(chars.len())]);
                i += len;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The source without `#[cfg(test)] mod name { … }` blocks (comments must be
/// stripped first).
pub fn strip_test_modules(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(found) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..found]);
        let after = &rest[found + "#[cfg(test)]".len()..];
        let item = after.trim_start();
        let is_block_mod = item.starts_with("mod ")
            && item
                .find(['{', ';'])
                .is_some_and(|i| item.as_bytes()[i] == b'{');
        if !is_block_mod {
            out.push_str("#[cfg(test)]");
            rest = after;
            continue;
        }
        let open = after.len() - item.len() + item.find('{').unwrap_or(0);
        match matching_brace(&after[open..]) {
            Some(close) => rest = &after[open + close + 1..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// The index of the brace closing the one `text` starts with, skipping strings.
fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(src: &str) -> Reads {
        scan_texts(&[strip_test_modules(&strip_comments(src))])
    }

    #[test]
    fn should_find_loaders_and_direct_reads_but_not_comments_or_tests() {
        let reads = scan(
            r#"
//! Reads `OtherConfig::from_env()` — only in a comment.
const HOME_VAR: &str = "HOME_DIR";
fn main() {
    let c = ApiConfig::from_env()?; /* Hidden::from_env() */
    let f = EnvFilter::try_from_default_env();
    portal_aws::init_json_logs();
    let s = Self::from_lookup(|name| std::env::var(name).ok());
    let h = std::env::var("HOSTNAME");
    let d = env::var_os(HOME_VAR);
    let u = env::var(crate::MISSING);
    let text = "not a comment: // WhmcsConfig::from_env()";
    let c = '"';
}
#[cfg(test)]
mod tests {
    fn t() { let _ = TestConfig::from_env(); let _ = std::env::var("TEST_ONLY"); }
}
fn after() { let _ = LaterConfig::from_lookup(get); }
"#,
        );
        let loaders: Vec<&str> = reads.loaders.iter().map(String::as_str).collect();
        assert_eq!(
            loaders,
            [
                "ApiConfig::from_env",
                "EnvFilter::try_from_default_env",
                "LaterConfig::from_lookup",
                "portal_aws::init_json_logs",
            ]
        );
        let variables: Vec<&str> = reads.variables.iter().map(String::as_str).collect();
        assert_eq!(variables, ["HOME_DIR", "HOSTNAME"]);
        let unresolved: Vec<&str> = reads.unresolved.iter().map(String::as_str).collect();
        assert_eq!(unresolved, ["crate::MISSING"]);
    }

    #[test]
    fn should_keep_code_after_a_cfg_test_item_that_is_not_a_module() {
        let src = "#[cfg(test)]\nuse x::y;\nfn f() { A::from_env(); }\n";
        assert!(scan(src).loaders.contains("A::from_env"));
    }
}
