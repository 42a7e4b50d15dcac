//! Who is asking: passwords (argon2id), API tokens (random, stored as SHA-256), sessions
//! (random cookie, idle expiry, one CSRF token each), the slow-down of repeated failed logins
//! and the Host check that stops DNS rebinding.
//!
//! Sessions live in the server's memory: a restart signs everyone out, and no session secret
//! is ever written to disk.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::Digest;

use crate::domain::Role;

/// A new argon2id hash (PHC string) of a password, with a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| format!("no randomness for a salt: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing the password: {e}"))
}

/// Whether a password matches its stored hash (false for a hash that cannot be read).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the user does not exist, so an unknown name costs as long
/// as a wrong password (no user enumeration by timing).
pub fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// 32 random bytes, URL-safe base64 (a session, CSRF or API token).
pub fn random_token() -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).expect("the OS random source");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// How a token is stored: its SHA-256, hex (tokens are 256 random bits: no salt needed).
pub fn token_hash(token: &str) -> String {
    let d = sha2::Sha256::digest(token.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal without telling, by its timing, how much of a secret matched.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    /// A digest of the account's password hash at sign-in (a new password has a new salt):
    /// a session of an account removed or given a new password since is over.
    pub account: String,
    last_seen: Instant,
}

/// The sessions of this server, by the hash of their cookie.
#[derive(Debug)]
pub struct Sessions {
    idle: Duration,
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    pub fn new(idle: Duration) -> Sessions {
        Sessions {
            idle,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Start a session: (the cookie's value, the session).
    pub fn start(&self, user: &str, role: Role, account: &str) -> (String, Session) {
        let token = random_token();
        let s = Session {
            user: user.to_string(),
            role,
            account: account.to_string(),
            csrf: random_token(),
            last_seen: Instant::now(),
        };
        let mut map = self.map.lock().unwrap();
        let idle = self.idle;
        map.retain(|_, s| s.last_seen.elapsed() < idle);
        map.insert(token_hash(&token), s.clone());
        (token, s)
    }

    /// The live session of a cookie (touched: its idle time starts again); an expired one is
    /// ended.
    pub fn get(&self, token: &str) -> Option<Session> {
        let key = token_hash(token);
        let mut map = self.map.lock().unwrap();
        let s = map.get_mut(&key)?;
        if s.last_seen.elapsed() >= self.idle {
            map.remove(&key);
            return None;
        }
        s.last_seen = Instant::now();
        Some(s.clone())
    }

    pub fn end(&self, token: &str) {
        self.map.lock().unwrap().remove(&token_hash(token));
    }

    /// End every session of a user (removed, or a new password).
    pub fn end_user(&self, user: &str) {
        self.map.lock().unwrap().retain(|_, s| s.user != user);
    }
}

/// Failed logins, per user name and per address: after [`Throttle::FREE`] failures in a row
/// each further attempt must wait, twice as long each time (up to 15 minutes), whatever the
/// password; a success clears the user's count.
#[derive(Debug, Default)]
pub struct Throttle {
    map: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    pub const FREE: u32 = 5;
    const FIRST_WAIT: Duration = Duration::from_secs(30);
    const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);

    fn wait_after(failures: u32) -> Duration {
        if failures < Self::FREE {
            return Duration::ZERO;
        }
        let doublings = (failures - Self::FREE).min(10);
        (Self::FIRST_WAIT * 2u32.pow(doublings)).min(Self::LONGEST_WAIT)
    }

    /// How long these keys must still wait (None: they may try now).
    pub fn wait(&self, keys: &[String]) -> Option<Duration> {
        let map = self.map.lock().unwrap();
        keys.iter()
            .filter_map(|k| map.get(k))
            .filter_map(|(n, at)| Self::wait_after(*n).checked_sub(at.elapsed()))
            .filter(|d| !d.is_zero())
            .max()
    }

    pub fn failed(&self, keys: &[String]) {
        let mut map = self.map.lock().unwrap();
        // forget what is long past (the map does not grow without bound)
        map.retain(|_, (_, at)| at.elapsed() < Self::LONGEST_WAIT * 2);
        for k in keys {
            let e = map.entry(k.clone()).or_insert((0, Instant::now()));
            e.0 += 1;
            e.1 = Instant::now();
        }
    }

    pub fn succeeded(&self, keys: &[String]) {
        let mut map = self.map.lock().unwrap();
        for k in keys {
            map.remove(k);
        }
    }
}

/// The names a server answers to, and whether a request's Host header is one of them.
#[derive(Debug, Clone)]
pub struct Hosts {
    names: Vec<String>,
}

impl Hosts {
    /// The listening address itself, `localhost` and the loopback addresses when listening
    /// on loopback, and the configured names.
    pub fn new(listen: &std::net::SocketAddr, configured: &[String]) -> Hosts {
        let mut names: Vec<String> = configured
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        names.push(listen.ip().to_string());
        if listen.ip().is_loopback() {
            names.extend(["localhost", "127.0.0.1", "::1"].map(String::from));
        }
        Hosts { names }
    }

    /// Whether a Host header (name or address, with or without a port) is answered.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let name = if let Some(rest) = host.strip_prefix('[') {
            rest.split(']').next().unwrap_or("")
        } else {
            host.rsplit_once(':')
                .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
                .map(|(h, _)| h)
                .unwrap_or(&host)
        };
        !name.is_empty() && self.names.iter().any(|n| n == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(h, hash_password("correct horse").unwrap(), "salted");
    }

    #[test]
    fn hosts_answer_their_names_only() {
        let h = Hosts::new(
            &"127.0.0.1:8470".parse().unwrap(),
            &["dq.example.org".into()],
        );
        for ok in [
            "127.0.0.1:8470",
            "localhost:8470",
            "LOCALHOST",
            "[::1]:8470",
            "dq.example.org",
        ] {
            assert!(h.allows(ok), "{ok}");
        }
        for bad in ["evil.example.com", "evil.example.com:8470", "", "127.0.0.2"] {
            assert!(!h.allows(bad), "{bad}");
        }
    }

    #[test]
    fn failed_logins_wait_longer_and_longer() {
        let t = Throttle::default();
        let keys = vec!["u:ana".to_string()];
        for _ in 0..Throttle::FREE - 1 {
            t.failed(&keys);
        }
        assert!(t.wait(&keys).is_none());
        t.failed(&keys);
        let first = t.wait(&keys).unwrap();
        t.failed(&keys);
        assert!(t.wait(&keys).unwrap() > first);
        t.succeeded(&keys);
        assert!(t.wait(&keys).is_none());
    }

    #[test]
    fn sessions_expire_when_idle() {
        let s = Sessions::new(Duration::from_millis(50));
        let (tok, _) = s.start("ana", Role::Dqo, "2026-01-01T00:00:00Z");
        assert!(s.get(&tok).is_some());
        std::thread::sleep(Duration::from_millis(80));
        assert!(s.get(&tok).is_none());
        assert!(s.get("forged").is_none());
    }
}

/// A new user's name and password are acceptable: a name of letters, digits, `.`, `_`, `-`
/// (1–64), a password of 12 characters or more.
pub fn check_new_user(name: &str, password: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(format!(
            "'{name}' is not a user name: 1 to 64 letters, digits, '.', '_' or '-'"
        ));
    }
    if password.chars().count() < 12 {
        return Err("the password is too short: 12 characters or more".into());
    }
    Ok(())
}
