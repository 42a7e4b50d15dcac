//! The test suite's SFTP server: the library's in-process server with the test keys.

use std::path::{Path, PathBuf};

pub use immdqa::demo::sftp_server::{ServerOptions, SftpServer as TestServer};
use russh::keys::PrivateKey;

pub const HOST_KEY_A: &str = include_str!("data/keys/host_a");
pub const HOST_KEY_B: &str = include_str!("data/keys/host_b");
pub const CLIENT_KEY_PUB: &str = include_str!("data/keys/client.pub");

/// The test client key, copied owner-only (git keeps it 0644, which immdqa refuses as
/// OpenSSH does).
pub fn client_key_path() -> PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let p = dir.path().join("client");
    if !p.exists() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = dir
            .path()
            .join(format!("client.{:?}", std::thread::current().id()));
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keys/client"),
            &tmp,
        )
        .unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::rename(&tmp, &p).unwrap();
    }
    p
}

pub fn key(openssh: &str) -> PrivateKey {
    PrivateKey::from_openssh(openssh).expect("test host key")
}

/// Options serving `root` with host key A and the test client key authorized.
pub fn options(root: &Path) -> ServerOptions {
    let mut o = ServerOptions::new(root, key(HOST_KEY_A));
    o.authorized_key = Some(CLIENT_KEY_PUB.to_string());
    o
}

pub fn start(opts: ServerOptions) -> TestServer {
    immdqa::demo::sftp_server::start(opts).expect("start the test SFTP server")
}

/// Serve `ws`'s mailbox (host key A, options adjusted by `opts`) and write a config for it
/// with known_hosts trusting key A, password login, and `extra` profile keys.
pub fn serve(
    ws: &crate::util::Workspace,
    opts: impl FnOnce(&mut ServerOptions),
    extra: &str,
) -> TestServer {
    let mut o = options(&ws.mailbox());
    opts(&mut o);
    let server = start(o);
    let kh = ws.path().join("known_hosts");
    std::fs::write(
        &kh,
        crate::util::known_hosts_line(server.port(), include_str!("data/keys/host_a.pub")),
    )
    .unwrap();
    ws.sftp_config(
        server.port(),
        "password_env = \"IMMDQA_TEST_PASSWORD\"",
        &kh,
        extra,
    );
    server
}
