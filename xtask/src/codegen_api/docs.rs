//! Rustdoc from spec descriptions: the first paragraph, made safe (links, brackets, HTML) and wrapped so that no line
//! starts a markdown block; deprecation notes.

use std::fmt::Write as _;

use super::DOC_WIDTH;

/// The first paragraph of a description, on one line.
pub(crate) fn first_paragraph(s: &str) -> String {
    let mut out = Vec::new();
    for line in s.trim().lines() {
        let line = line.trim();
        if line.is_empty() {
            break;
        }
        out.push(line);
    }
    out.join(" ")
}

/// A description's first paragraph made safe for rustdoc, or `fallback`.
pub(crate) fn doc_or(desc: Option<&str>, fallback: &str) -> String {
    match desc.map(first_paragraph).filter(|s| !s.is_empty()) {
        Some(d) => sentence(&sanitize(&d)),
        None => fallback.to_owned(),
    }
}

/// Text with its first letter upper-case.
pub(crate) fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// Text ending like a sentence.
pub(crate) fn sentence(s: &str) -> String {
    if s.ends_with(['.', '!', '?', ':']) { s.to_owned() } else { format!("{s}.") }
}

/// A generic field doc.
pub(crate) fn generic_field_doc(json: &str) -> String {
    format!("The `{json}` field.")
}

/// Markdown made safe for rustdoc: code spans kept, markdown links kept (site-relative ones made absolute), bare
/// URLs wrapped in `<>`, other brackets escaped, `<`/`>` as entities.
pub(crate) fn sanitize(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '`' => {
                let run = chars[i..].iter().take_while(|&&c| c == '`').count();
                let mut j = i + run;
                let mut close = None;
                while j < chars.len() {
                    if chars[j] == '`' {
                        let r = chars[j..].iter().take_while(|&&c| c == '`').count();
                        if r == run {
                            close = Some(j + r);
                            break;
                        }
                        j += r;
                    } else {
                        j += 1;
                    }
                }
                match close {
                    Some(end) => {
                        out.extend(&chars[i..end]);
                        i = end;
                    }
                    None => {
                        for _ in 0..run {
                            out.push_str("\\`");
                        }
                        i += run;
                    }
                }
                continue;
            }
            '[' => {
                if let Some((text, url, end)) = markdown_link(&chars, i) {
                    let url = if url.starts_with('/') { format!("https://clerk.com{url}") } else { url };
                    let _ = write!(out, "[{}]({url})", sanitize(&text));
                    i = end;
                    continue;
                }
                out.push_str("\\[");
            }
            ']' => out.push_str("\\]"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' => out.push_str("\\\\"),
            'h' if starts_url(&chars, i) && (i == 0 || chars[i - 1].is_whitespace() || chars[i - 1] == '(') => {
                let mut end = i;
                while end < chars.len() && !chars[end].is_whitespace() {
                    end += 1;
                }
                while end > i && matches!(chars[end - 1], '.' | ',' | ';' | ':' | '!' | '?' | ')' | '\'' | '"') {
                    end -= 1;
                }
                let url: String = chars[i..end].iter().collect();
                let _ = write!(out, "<{url}>");
                i = end;
                continue;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out.trim().to_owned()
}

/// Whether `http://` or `https://` starts at `i`.
fn starts_url(chars: &[char], i: usize) -> bool {
    let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
    rest.starts_with("http://") || rest.starts_with("https://")
}

/// A markdown link `[text](url)` at `i`: its text, URL and end.
fn markdown_link(chars: &[char], i: usize) -> Option<(String, String, usize)> {
    let close = chars[i + 1..].iter().position(|&c| c == ']' || c == '[')? + i + 1;
    if chars[close] != ']' || chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let end = chars[close + 2..].iter().position(|&c| c == ')' || c.is_whitespace())? + close + 2;
    if chars[end] != ')' {
        return None;
    }
    let text: String = chars[i + 1..close].iter().collect();
    let url: String = chars[close + 2..end].iter().collect();
    Some((text, url, end + 1))
}

/// Whether a word would start a markdown block (list, heading, quote, rule) at the start of a line.
fn block_marker(word: &str) -> bool {
    word.starts_with(['-', '+', '*', '#', '>', '=', '|', '~'])
        || word.starts_with("```")
        || (word.ends_with(['.', ')']) && word.len() > 1 && word[..word.len() - 1].chars().all(|c| c.is_ascii_digit()))
}

/// Doc text wrapped into lines that never start a markdown block.
pub(crate) fn wrap(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for (i, word) in text.split_whitespace().enumerate() {
        if !line.is_empty() && line.len() + 1 + word.len() > DOC_WIDTH && !block_marker(word) {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        if i == 0 && block_marker(word) {
            line.push('\\');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Writes `///` lines; paragraphs are separated by `\n\n` in `text`.
pub(crate) fn doc(out: &mut String, indent: &str, text: &str) {
    for (i, para) in text.split("\n\n").enumerate() {
        if i > 0 {
            let _ = writeln!(out, "{indent}///");
        }
        for line in wrap(para) {
            let _ = writeln!(out, "{indent}/// {line}");
        }
    }
}

/// A deprecation note from a description: the `Deprecated:` sentence, else one naming a replacement (`use … instead`,
/// `in favor of …`), else a generic note (for an operation or for a field).
pub(crate) fn deprecation_note(desc: &str, operation: bool) -> String {
    let text = desc.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(pos) = text.find("Deprecated:") {
        let rest = text[pos + "Deprecated:".len()..].trim();
        let sentence = rest.split_inclusive(". ").next().unwrap_or(rest).trim();
        if !sentence.is_empty() {
            return sentence.to_owned();
        }
    }
    for sentence in text.split_inclusive(". ") {
        let lower = sentence.to_ascii_lowercase();
        if (lower.contains("use ") && lower.contains(" instead")) || lower.contains("in favor of") {
            return sentence.trim().to_owned();
        }
    }
    if operation {
        "deprecated by Clerk; it may be removed from a future API version".to_owned()
    } else {
        "deprecated by Clerk".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_are_rustdoc_safe() {
        assert_eq!(sanitize("see https://x.io/a."), "see <https://x.io/a>.");
        assert_eq!(sanitize("a [b](/docs/c) [d] `[e]` <f>"), "a [b](https://clerk.com/docs/c) \\[d\\] `[e]` &lt;f&gt;");
        assert_eq!(wrap("- a"), vec!["\\- a"]);
        assert_eq!(
            deprecation_note("Does x.\nDeprecated: Use the Y API instead. Gone soon.", true),
            "Use the Y API instead."
        );
    }
}
