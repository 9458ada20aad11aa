//! A recording's stem: what evidence files and score tables name a recording by.

/// A recording's stem: its file name without directories and SigMF/raw extensions.
pub fn recording_stem(name: &str) -> String {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    for ext in [".sigmf-meta", ".sigmf-data", ".sigmf"] {
        if let Some(s) = file.strip_suffix(ext) {
            return s.to_string();
        }
    }
    match file.rsplit_once('.') {
        Some((s, _)) if !s.is_empty() => s.to_string(),
        _ => file.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_ignore_directories_and_extensions() {
        assert_eq!(recording_stem("recordings/demo.sigmf-meta"), "demo");
        assert_eq!(recording_stem("/tmp/x/demo.sigmf-data"), "demo");
        assert_eq!(recording_stem("g001_433.92M_250k.cu8"), "g001_433.92M_250k");
    }
}
