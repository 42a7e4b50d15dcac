//! Folder discovery: real accounts show lower-case folders under their home
//! (`/users/<ACCOUNT>/hl7-dropoff/`), while profiles default to `HL7-Dropoff`, `DQA-Reports`,
//! … . [`map_folders`] matches each configured folder against the home's listing, exactly or
//! ignoring case (and a few names the legacy processor used), so `init` and `config check
//! --connect` can write what the server really calls them into the profile.

/// One folder setting and what the server's listing says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The profile key (`dqa_dir`, `receive_dir`, `accepted_dir`, `dropoff_dir`).
    pub key: &'static str,
    pub configured: String,
    pub found: Found,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The configured name is there as written.
    Exact,
    /// The server spells it differently: this name should be written into the profile.
    Other(String),
    /// Nothing in the listing matches.
    Missing,
    /// An absolute or nested path: not looked up in the home's listing.
    NotChecked,
}

/// Other names a folder goes by (the legacy OIS DQA processor's defaults among them).
fn aliases(key: &str) -> &'static [&'static str] {
    match key {
        "dqa_dir" => &["dqa-reports", "dqa_reports", "dqareports", "dqa", "reports"],
        "receive_dir" => &["receive", "received", "cnf"],
        "accepted_dir" => &["accepted"],
        "dropoff_dir" => &[
            "hl7-dropoff",
            "hl7_dropoff",
            "hl7dropoff",
            "dropoff",
            "submit",
        ],
        _ => &[],
    }
}

/// Match the four folder settings against the folder names of the account's home.
pub fn map_folders(dirs: &[String], settings: [(&'static str, &str); 4]) -> Vec<Mapping> {
    settings
        .into_iter()
        .map(|(key, configured)| {
            let found = if configured.starts_with('/') || configured.contains('/') {
                Found::NotChecked
            } else if dirs.iter().any(|d| d == configured) {
                Found::Exact
            } else if let Some(d) = dirs.iter().find(|d| d.eq_ignore_ascii_case(configured)) {
                Found::Other(d.clone())
            } else if let Some(d) = dirs
                .iter()
                .find(|d| aliases(key).iter().any(|a| d.eq_ignore_ascii_case(a)))
            {
                Found::Other(d.clone())
            } else {
                Found::Missing
            };
            Mapping {
                key,
                configured: configured.to_string(),
                found,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_case_homes_map_to_the_defaults() {
        let dirs: Vec<String> = ["hl7-dropoff", "dqa-reports", "Receive", "archive"]
            .into_iter()
            .map(String::from)
            .collect();
        let m = map_folders(
            &dirs,
            [
                ("dqa_dir", "DQA-Reports"),
                ("receive_dir", "Receive"),
                ("accepted_dir", "Accepted"),
                ("dropoff_dir", "HL7-Dropoff"),
            ],
        );
        assert_eq!(m[0].found, Found::Other("dqa-reports".into()));
        assert_eq!(m[1].found, Found::Exact);
        assert_eq!(m[2].found, Found::Missing);
        assert_eq!(m[3].found, Found::Other("hl7-dropoff".into()));
        let m = map_folders(
            &dirs,
            [
                ("dqa_dir", "/abs/x"),
                ("receive_dir", "a/b"),
                ("accepted_dir", "submit"),
                ("dropoff_dir", "x"),
            ],
        );
        assert_eq!(m[0].found, Found::NotChecked);
        assert_eq!(m[1].found, Found::NotChecked);
    }
}
