//! The small part of Go's regexp syntax that container names can meet, for `name=` filters.
//!
//! dockerd matches `name` filter values as unanchored regular expressions. Container names
//! only hold `[a-zA-Z0-9_.-]`, so users write literal text, sometimes with `^`, `$`, `.`,
//! `*`, `+` or `?`. This module supports exactly those (plus `\` escapes) and runs in
//! O(len(pattern) × len(name)), so no pattern can make a list slow. A pattern using any other
//! syntax (`[`, `(`, `|`, `{`) is matched as a plain substring.

/// One pattern element.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Atom {
    /// `.`: any character.
    Any,
    /// A literal character.
    Char(char),
}

/// How often an element may occur.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Repeat {
    /// Exactly once.
    One,
    /// `*`: zero or more times.
    Star,
    /// `?`: zero or one time.
    Opt,
}

/// A compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    elems: Vec<(Atom, Repeat)>,
    anchored_start: bool,
    anchored_end: bool,
}

impl Pattern {
    /// Compiles `text`, or returns `None` when it uses syntax outside the supported subset.
    pub fn compile(text: &str) -> Option<Pattern> {
        let mut chars: Vec<char> = text.chars().collect();
        let anchored_start = chars.first() == Some(&'^');
        if anchored_start {
            chars.remove(0);
        }
        let anchored_end = chars.last() == Some(&'$') && !ends_with_escape(&chars);
        if anchored_end {
            chars.pop();
        }
        let mut elems: Vec<(Atom, Repeat)> = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let atom = match chars[i] {
                '\\' => {
                    i += 1;
                    let c = *chars.get(i)?;
                    if c.is_ascii_alphanumeric() {
                        return None; // \d, \w, … are classes, not supported
                    }
                    Atom::Char(c)
                }
                '.' => Atom::Any,
                '[' | ']' | '(' | ')' | '|' | '{' | '}' | '^' | '$' | '*' | '+' | '?' => {
                    return None
                }
                c => Atom::Char(c),
            };
            i += 1;
            match chars.get(i) {
                Some('*') => {
                    elems.push((atom, Repeat::Star));
                    i += 1;
                }
                Some('+') => {
                    elems.push((atom, Repeat::One));
                    elems.push((atom, Repeat::Star));
                    i += 1;
                }
                Some('?') => {
                    elems.push((atom, Repeat::Opt));
                    i += 1;
                }
                _ => elems.push((atom, Repeat::One)),
            }
            if matches!(chars.get(i), Some('*' | '+' | '?')) {
                return None; // lazy or possessive forms
            }
        }
        Some(Pattern {
            elems,
            anchored_start,
            anchored_end,
        })
    }

    /// Whether the pattern matches somewhere in `text` (or as anchored).
    pub fn is_match(&self, text: &str) -> bool {
        let k = self.elems.len();
        let mut states = vec![false; k + 1];
        states[0] = true;
        self.close(&mut states);
        let mut next = vec![false; k + 1];
        for c in text.chars() {
            if states[k] && !self.anchored_end {
                return true;
            }
            next.iter_mut().for_each(|s| *s = false);
            for (i, (atom, repeat)) in self.elems.iter().enumerate() {
                if states[i] && atom_matches(*atom, c) {
                    match repeat {
                        Repeat::Star => next[i] = true,
                        Repeat::One | Repeat::Opt => next[i + 1] = true,
                    }
                }
            }
            if !self.anchored_start {
                next[0] = true;
            }
            self.close(&mut next);
            core::mem::swap(&mut states, &mut next);
        }
        states[k]
    }

    /// Adds the states reachable by skipping optional elements.
    fn close(&self, states: &mut [bool]) {
        for (i, (_, repeat)) in self.elems.iter().enumerate() {
            if states[i] && matches!(repeat, Repeat::Star | Repeat::Opt) {
                states[i + 1] = true;
            }
        }
    }
}

fn ends_with_escape(chars: &[char]) -> bool {
    // `\$` at the end is a literal dollar: count the backslashes before it.
    let n = chars.len();
    let backslashes = chars[..n.saturating_sub(1)]
        .iter()
        .rev()
        .take_while(|c| **c == '\\')
        .count();
    backslashes % 2 == 1
}

fn atom_matches(atom: Atom, c: char) -> bool {
    match atom {
        Atom::Any => c != '\n',
        Atom::Char(x) => x == c,
    }
}

/// Whether `pattern` matches `text` as dockerd's `name` filter would (see the module docs).
pub fn name_matches(pattern: &str, text: &str) -> bool {
    match Pattern::compile(pattern) {
        Some(p) => p.is_match(text),
        None => text.contains(pattern),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_text_is_a_substring_search() {
        assert!(name_matches("web", "/myweb1"));
        assert!(name_matches("", "/x"));
        assert!(!name_matches("db", "/web"));
        assert!(name_matches("my.app", "/my.app"));
        assert!(
            name_matches("my.app", "/myXapp"),
            "`.` is any character, as in Go"
        );
        assert!(!name_matches("my\\.app", "/myXapp"));
    }

    #[test]
    fn anchors_and_repeats() {
        assert!(name_matches("^web$", "web"));
        assert!(!name_matches("^web$", "/web"));
        assert!(!name_matches("^web$", "web2"));
        assert!(name_matches("^/web", "/web2"));
        assert!(name_matches("web$", "/myweb"));
        assert!(name_matches("^w.*b$", "web_tab"));
        assert!(name_matches("^we+b$", "weeeb"));
        assert!(!name_matches("^we+b$", "wb"));
        assert!(name_matches("^we?b$", "wb"));
        assert!(!name_matches("^a*a*a*a*a*a*a*a*b$", &"a".repeat(200)));
        assert!(name_matches("ab\\$", "xab$"));
    }

    #[test]
    fn unsupported_syntax_falls_back_to_a_substring() {
        assert!(Pattern::compile("[ab]").is_none());
        assert!(name_matches("(x)", "/a(x)b"));
        assert!(!name_matches("web|db", "/web"));
    }
}
