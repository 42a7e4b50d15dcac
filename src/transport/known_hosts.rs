//! OpenSSH `known_hosts` matching, as OpenSSH does it (sshd(8), "SSH_KNOWN_HOSTS FILE
//! FORMAT"): host patterns with `*`/`?` wildcards and `!` negation, hashed names
//! (`|1|salt|hmac-sha1`), `[host]:port` entries (a name without a port matches port 22 only),
//! `@revoked` keys (never accepted, even with another line trusting the same key) and
//! `@cert-authority` lines (a CA for host certificates: never a plain host key).
//!
//! Hand-written because libssh2's matcher (used before) ignores both markers and lets a
//! portless entry match any port; no maintained crate does this matching on its own.

use std::path::Path;

use base64::Engine as _;

/// What the file says about a host's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A plain line for this host holds this key.
    Trusted,
    /// No line for this host holds a key of this type.
    Unknown,
    /// Lines for this host hold another key of the same type.
    Changed,
    /// A `@revoked` line for this host holds this key.
    Revoked,
}

#[derive(Debug, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

/// The name a host is looked up under: `host` on port 22, `[host]:port` otherwise.
pub fn lookup_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// The key type named inside an SSH public key blob (`ssh-ed25519`, …).
fn blob_type(blob: &[u8]) -> Option<&[u8]> {
    let n = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    blob.get(4..4 + n)
}

/// `*` and `?` wildcards, as OpenSSH's match_pattern (case-insensitive for host names).
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            wildcard(&pattern[1..], name) || (!name.is_empty() && wildcard(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => wildcard(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p.eq_ignore_ascii_case(n) => wildcard(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// A hashed host field `|1|base64(salt)|base64(hmac-sha1(salt, name))`.
fn hashed_match(field: &str, name: &str) -> bool {
    use hmac::{Hmac, Mac};
    let mut parts = field.trim_start_matches("|1|").splitn(2, '|');
    let (Some(salt), Some(hash)) = (parts.next(), parts.next()) else {
        return false;
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let (Ok(salt), Ok(hash)) = (b64.decode(salt), b64.decode(hash)) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<sha1::Sha1> as Mac>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

/// Whether a host field (comma-separated patterns, or one hashed name) matches `name`.
fn host_matches(field: &str, name: &str) -> bool {
    if field.starts_with("|1|") {
        return hashed_match(field, name);
    }
    let mut matched = false;
    for pat in field.split(',') {
        let (negated, pat) = match pat.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pat),
        };
        if wildcard(pat.as_bytes(), name.as_bytes()) {
            if negated {
                return false; // a negated match excludes the host from the line
            }
            matched = true;
        }
    }
    matched
}

/// Check `key` (an SSH public key blob) for `host:port` against the file's text.
pub fn check_text(text: &str, host: &str, port: u16, key: &[u8]) -> Verdict {
    let name = lookup_name(host, port);
    let key_type = blob_type(key);
    let b64 = base64::engine::general_purpose::STANDARD;
    let (mut trusted, mut other_key) = (false, false);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let mut first = fields.next().unwrap_or("");
        let marker = match first {
            "@revoked" => Marker::Revoked,
            "@cert-authority" => Marker::CertAuthority,
            m if m.starts_with('@') => continue, // an unknown marker: OpenSSH skips the line
            _ => Marker::None,
        };
        if marker != Marker::None {
            first = fields.next().unwrap_or("");
        }
        let (Some(_type), Some(blob)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !host_matches(first, &name) {
            continue;
        }
        let Ok(blob) = b64.decode(blob) else {
            continue;
        };
        match marker {
            Marker::Revoked if blob == key => return Verdict::Revoked,
            Marker::Revoked | Marker::CertAuthority => {}
            Marker::None if blob == key => trusted = true,
            Marker::None => {
                if blob_type(&blob).is_some() && blob_type(&blob) == key_type {
                    other_key = true;
                }
            }
        }
    }
    if trusted {
        Verdict::Trusted
    } else if other_key {
        Verdict::Changed
    } else {
        Verdict::Unknown
    }
}

/// Check against a file (a missing file knows no hosts).
pub fn check_file(path: &Path, host: &str, port: u16, key: &[u8]) -> std::io::Result<Verdict> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(check_text(
            &String::from_utf8_lossy(&bytes),
            host,
            port,
            key,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Verdict::Unknown),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(kind: &str, body: &[u8]) -> Vec<u8> {
        let mut b = (kind.len() as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind.as_bytes());
        b.extend_from_slice(body);
        b
    }
    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    #[test]
    fn openssh_semantics() {
        let k = blob("ssh-ed25519", b"key-one");
        let other = blob("ssh-ed25519", b"key-two");
        let rsa = blob("ssh-rsa", b"rsa-key");
        let line = |host: &str, key: &[u8]| format!("{host} ssh-ed25519 {}\n", b64(key));
        // plain host, port 22 only
        let f = line("reg.example", &k);
        assert_eq!(check_text(&f, "reg.example", 22, &k), Verdict::Trusted);
        assert_eq!(check_text(&f, "reg.example", 2222, &k), Verdict::Unknown);
        let f = line("[reg.example]:2222", &k);
        assert_eq!(check_text(&f, "reg.example", 2222, &k), Verdict::Trusted);
        assert_eq!(check_text(&f, "reg.example", 22, &k), Verdict::Unknown);
        // changed key of the same type; another type only is unknown
        let f = line("reg.example", &other);
        assert_eq!(check_text(&f, "reg.example", 22, &k), Verdict::Changed);
        let f = format!("reg.example ssh-rsa {}\n", b64(&rsa));
        assert_eq!(check_text(&f, "reg.example", 22, &k), Verdict::Unknown);
        // revoked wins over a plain line for the same key, in any order
        let revoked = format!("@revoked reg.example ssh-ed25519 {}\n", b64(&k));
        for f in [
            format!("{}{revoked}", line("reg.example", &k)),
            format!("{revoked}{}", line("reg.example", &k)),
            revoked.clone(),
        ] {
            assert_eq!(
                check_text(&f, "reg.example", 22, &k),
                Verdict::Revoked,
                "{f}"
            );
        }
        // a cert-authority line never trusts a plain key
        let f = format!("@cert-authority *.example ssh-ed25519 {}\n", b64(&k));
        assert_eq!(check_text(&f, "reg.example", 22, &k), Verdict::Unknown);
        // wildcards and negation
        let f = line("*.example,!bad.example", &k);
        assert_eq!(check_text(&f, "reg.example", 22, &k), Verdict::Trusted);
        assert_eq!(check_text(&f, "bad.example", 22, &k), Verdict::Unknown);
        let f = line("reg?.example", &k);
        assert_eq!(check_text(&f, "reg1.example", 22, &k), Verdict::Trusted);
        // comments, blank lines, garbage
        let f = format!("# c\n\nnonsense\n{}", line("reg.example", &k));
        assert_eq!(check_text(&f, "reg.example", 22, &k), Verdict::Trusted);
    }

    #[test]
    fn hashed_names() {
        use hmac::{Hmac, Mac};
        let k = blob("ssh-ed25519", b"key-one");
        let salt = b"0123456789abcdefghij";
        let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(salt).unwrap();
        mac.update(b"[127.0.0.1]:2222");
        let hash = mac.finalize().into_bytes();
        let f = format!("|1|{}|{} ssh-ed25519 {}\n", b64(salt), b64(&hash), b64(&k));
        assert_eq!(check_text(&f, "127.0.0.1", 2222, &k), Verdict::Trusted);
        assert_eq!(check_text(&f, "127.0.0.1", 22, &k), Verdict::Unknown);
    }
}
