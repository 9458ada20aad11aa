//! Unknown keys in a profile (or a site config's `[device]` table) are errors, and the error helps: it names the
//! key, the table it sits in, and the nearest known key ("did you mean").
//!
//! Every profile table denies unknown fields (serde); [`explain`] turns
//! serde's `unknown field `x`, expected one of …` into that message, with
//! the table found from where the key is in the file.

/// The known key closest to `unknown` when it is close enough to be a typo
/// (edit distance at most a third of its length, at least 1, at most 3).
pub fn did_you_mean<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let limit = (unknown.chars().count() / 3).clamp(1, 3);
    known
        .iter()
        .map(|k| (edit_distance(unknown, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance, with a transposition of neighbours counting 1
/// (`fft_szie` is one step from `fft_size`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The table header (`[capture]`, `[[emitters]]`, …) that `offset` in the
/// TOML `text` falls under; `top level` before any header.
pub fn table_at(text: &str, offset: usize) -> String {
    text[..offset.min(text.len())]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.split('#').next().unwrap_or(l).trim().to_string())
        .unwrap_or_else(|| "the top level".into())
}

/// Serde's "unknown field" message made helpful: the key, its `table`, the
/// nearest known key and the keys allowed there. `None` for other messages.
pub fn explain(message: &str, table: &str) -> Option<String> {
    let rest = message.split("unknown field `").nth(1)?;
    let (unknown, rest) = rest.split_once('`')?;
    let known: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let hint = match did_you_mean(unknown, &known) {
        Some(k) => format!(" (did you mean `{k}`?)"),
        None => String::new(),
    };
    let allowed = if known.is_empty() {
        "it takes no keys".to_string()
    } else {
        format!("known keys there: {}", known.join(", "))
    };
    Some(format!(
        "unknown key `{}` in {table}{hint}; {allowed}",
        unknown.escape_debug()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_key() {
        let known = ["fft_size", "window", "overlap", "gain_db"];
        assert_eq!(did_you_mean("fft_szie", &known), Some("fft_size"));
        assert_eq!(did_you_mean("gain_bd", &known), Some("gain_db"));
        assert_eq!(did_you_mean("windw", &known), Some("window"));
        assert_eq!(did_you_mean("colour", &known), None);
    }

    #[test]
    fn serde_messages_are_explained_with_their_table() {
        let text = "format = 1\n[capture]\nsample_rate = 1\n[[emitters]]\nnmae = \"x\"\n";
        let at = text.find("nmae").unwrap();
        assert_eq!(table_at(text, at), "[[emitters]]");
        assert_eq!(table_at(text, 3), "the top level");
        let msg = explain(
            "unknown field `nmae`, expected one of `name`, `low_hz`, `high_hz`",
            "[[emitters]]",
        )
        .unwrap();
        assert!(
            msg.starts_with("unknown key `nmae` in [[emitters]] (did you mean `name`?)"),
            "{msg}"
        );
        assert_eq!(explain("invalid type: string", "[capture]"), None);
    }
}
