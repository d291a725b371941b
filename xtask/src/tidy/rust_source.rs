//! Just enough of Rust's lexical structure for the tidy checks: where comments, string and
//! character literals are, and which module paths (`crate::a::{b, c}`) the code names. A
//! real parser would be a new dependency; the checks only need paths and literals, and a
//! hand-written scanner keeps them honest about what they look at.

/// A source file with every comment and the inside of every string and character literal
/// replaced by spaces (newlines kept, so byte offsets and line numbers are those of the
/// original), plus the string literals themselves.
pub struct Scanned {
    pub code: String,
    pub strings: Vec<StringLiteral>,
}

/// One string literal (plain, byte, C or raw) as written between its quotes.
#[derive(Debug, PartialEq)]
pub struct StringLiteral {
    /// Byte offset in the source of the first character inside the quotes.
    pub start: usize,
    /// The text between the quotes, escapes not resolved.
    pub text: String,
}

/// One path named by the code, with groups expanded: `use crate::{a, b::c}` gives
/// `crate::a` and `crate::b::c`.
#[derive(Debug, PartialEq)]
pub struct NamedPath {
    /// The segments; `x::{self}` is reported as `x`.
    pub segments: Vec<String>,
    /// Byte offset of the last segment, which is where a report should point.
    pub offset: usize,
}

impl NamedPath {
    pub fn joined(&self) -> String {
        self.segments.join("::")
    }
}

pub fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

pub fn scan(source: &str) -> Scanned {
    let bytes = source.as_bytes();
    let mut code = bytes.to_vec();
    let mut strings = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            let end = find_byte(bytes, i, b'\n');
            blank(&mut code, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let end = block_comment_end(bytes, i);
            blank(&mut code, i, end);
            i = end;
        } else if let Some((hashes, quote)) = raw_string_start(bytes, i) {
            let start = quote + 1;
            let end = raw_string_end(bytes, start, hashes);
            strings.push(literal(source, start, end));
            blank(&mut code, start, end);
            i = (end + 1 + hashes).min(bytes.len());
        } else if bytes[i] == b'"' {
            let start = i + 1;
            let mut j = start;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            let end = j.min(bytes.len());
            strings.push(literal(source, start, end));
            blank(&mut code, start, end);
            i = end + 1;
        } else if bytes[i] == b'\'' {
            match char_literal_end(source, i) {
                Some(end) => {
                    blank(&mut code, i + 1, end);
                    i = end + 1;
                }
                // A lifetime or a label: ordinary code.
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    // Only whole characters were blanked (every delimiter is ASCII), so this stays UTF-8.
    let code = String::from_utf8(code)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Scanned { code, strings }
}

fn literal(source: &str, start: usize, end: usize) -> StringLiteral {
    StringLiteral {
        start,
        text: source.get(start..end).unwrap_or_default().to_string(),
    }
}

fn find_byte(bytes: &[u8], from: usize, wanted: u8) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == wanted)
        .map_or(bytes.len(), |p| from + p)
}

fn blank(code: &mut [u8], start: usize, end: usize) {
    let end = end.min(code.len());
    for b in &mut code[start.min(end)..end] {
        if *b != b'\n' {
            *b = b' ';
        }
    }
}

/// The end (exclusive) of the block comment opening at `start`; block comments nest.
fn block_comment_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0;
    let mut i = start;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if bytes[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// At an `r` that opens a raw string (`r"`, `r#"`, `br#"`, `cr"`): the number of `#` and
/// the offset of the opening quote. Raw identifiers (`r#type`) are not strings.
fn raw_string_start(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    if bytes[i] != b'r' {
        return None;
    }
    let starts_token = |at: usize| at == 0 || !is_ident_byte(bytes[at - 1]);
    let prefixed = i >= 1 && matches!(bytes[i - 1], b'b' | b'c') && starts_token(i - 1);
    if !(starts_token(i) || prefixed) {
        return None;
    }
    let hashes = bytes[i + 1..].iter().take_while(|&&b| b == b'#').count();
    let quote = i + 1 + hashes;
    (bytes.get(quote) == Some(&b'"')).then_some((hashes, quote))
}

fn raw_string_end(bytes: &[u8], start: usize, hashes: usize) -> usize {
    let mut j = start;
    while j < bytes.len() {
        if bytes[j] == b'"' && bytes[j + 1..].iter().take_while(|&&b| b == b'#').count() >= hashes {
            return j;
        }
        j += 1;
    }
    bytes.len()
}

/// At a `'`: the offset of the closing quote if this is a character literal (`'x'`, `'\''`,
/// `'\u{e9}'`, `'é'`), or `None` for a lifetime or label.
fn char_literal_end(source: &str, i: usize) -> Option<usize> {
    let bytes = source.as_bytes();
    if bytes.get(i + 1) == Some(&b'\\') {
        // Skip the backslash and the escaped character, then find the closing quote.
        let from = (i + 3).min(bytes.len());
        let end = find_byte(bytes, from, b'\'');
        return (end < bytes.len()).then_some(end);
    }
    let width = source.get(i + 1..)?.chars().next()?.len_utf8();
    (bytes.get(i + 1 + width) == Some(&b'\'')).then_some(i + 1 + width)
}

/// Every path in `code` (already scanned) whose first segment is the word `first`, with
/// `use` groups expanded. A word directly after `::` continues another path and is skipped,
/// so `super::super::x` is found once.
pub fn paths_starting_with(code: &str, first: &str) -> Vec<NamedPath> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = code[from..].find(first) {
        let at = from + found;
        from = at + first.len();
        let before_ok = at == 0 || !is_ident_byte(bytes[at - 1]);
        let after_ok = code[from..].trim_start().starts_with("::");
        let continues_path = code[..at].trim_end().ends_with("::");
        if before_ok && after_ok && !continues_path {
            let mut pos = at;
            parse_tree(bytes, &mut pos, &[], &mut out);
        }
    }
    out
}

/// Expands the use tree or path at `pos` (e.g. `a::{b, c::{self, d as e}, f::*}`) into
/// `out`, each leaf prefixed with `prefix`.
fn parse_tree(bytes: &[u8], pos: &mut usize, prefix: &[String], out: &mut Vec<NamedPath>) {
    let mut segments = prefix.to_vec();
    let mut offset = *pos;
    loop {
        skip_whitespace(bytes, pos);
        match bytes.get(*pos) {
            Some(b'{') => {
                *pos += 1;
                parse_group(bytes, pos, &segments, out);
                return;
            }
            Some(b'*') => {
                offset = *pos;
                *pos += 1;
                segments.push("*".to_string());
                break;
            }
            _ => {}
        }
        let start = *pos;
        while *pos < bytes.len() && (is_ident_byte(bytes[*pos]) || bytes[*pos] == b'#') {
            *pos += 1;
        }
        if start == *pos {
            // A turbofish or something else that ends the path, like `f::<T>`.
            break;
        }
        let word = String::from_utf8_lossy(&bytes[start..*pos]);
        segments.push(word.trim_start_matches("r#").to_string());
        offset = start;
        let mut ahead = *pos;
        skip_whitespace(bytes, &mut ahead);
        if bytes[ahead..].starts_with(b"::") {
            *pos = ahead + 2;
        } else {
            break;
        }
    }
    // `a::{self}` names `a` itself, which is then exactly the prefix.
    let named = segments.len() > prefix.len();
    if segments.len() > 1 && segments.last().is_some_and(|s| s == "self") {
        segments.pop();
    }
    if named {
        out.push(NamedPath { segments, offset });
    }
}

/// The items of a `{ ... }` group whose opening brace is just behind `pos`.
fn parse_group(bytes: &[u8], pos: &mut usize, prefix: &[String], out: &mut Vec<NamedPath>) {
    loop {
        skip_whitespace(bytes, pos);
        match bytes.get(*pos) {
            None => return,
            Some(b'}') => {
                *pos += 1;
                return;
            }
            Some(_) => {}
        }
        parse_tree(bytes, pos, prefix, out);
        skip_whitespace(bytes, pos);
        // A rename (`a as b`) names nothing new.
        if bytes[*pos..].starts_with(b"as")
            && !bytes.get(*pos + 2).is_some_and(|&b| is_ident_byte(b))
        {
            *pos += 2;
            skip_whitespace(bytes, pos);
            while *pos < bytes.len() && is_ident_byte(bytes[*pos]) {
                *pos += 1;
            }
            skip_whitespace(bytes, pos);
        }
        match bytes.get(*pos) {
            Some(b',') => *pos += 1,
            Some(b'}') => {
                *pos += 1;
                return;
            }
            // Not a use group after all, or malformed: stop rather than loop forever.
            _ => return,
        }
    }
}

fn skip_whitespace(bytes: &[u8], pos: &mut usize) {
    while *pos < bytes.len() && bytes[*pos].is_ascii_whitespace() {
        *pos += 1;
    }
}

/// Inline modules (`mod tests { ... }`) in scanned code: each name with the byte range of
/// its body, so a path can be resolved against the module it is really written in.
pub fn inline_modules(code: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = code[from..].find("mod") {
        let at = from + found;
        from = at + 3;
        if at > 0 && is_ident_byte(bytes[at - 1]) {
            continue;
        }
        let mut pos = from;
        if !bytes.get(pos).is_some_and(u8::is_ascii_whitespace) {
            continue;
        }
        skip_whitespace(bytes, &mut pos);
        let name_start = pos;
        while pos < bytes.len() && is_ident_byte(bytes[pos]) {
            pos += 1;
        }
        let name = &code[name_start..pos];
        skip_whitespace(bytes, &mut pos);
        if name.is_empty() || bytes.get(pos) != Some(&b'{') {
            continue;
        }
        let mut depth = 0usize;
        let mut end = bytes.len();
        for (i, &b) in bytes.iter().enumerate().skip(pos) {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push((name.trim_start_matches("r#").to_string(), pos..end));
    }
    out
}
