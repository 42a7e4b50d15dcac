//! The integration test crate (one binary; `autotests = false` in Cargo.toml).
//!
//! - util: temp workspaces, config files, running the built `immdqa` binary
//! - sftp_server: in-process SFTP server with fault injection (russh + russh-sftp)
//! - cmd_*: one file per command, through the binary
//! - sftp_fetch: fetch over SFTP against the in-process server
//! - openssh: interop with the real OpenSSH sshd on 127.0.0.1
//! - vsftpd, ftps: a real vsftpd (implicit and explicit FTPS) on 127.0.0.1
//! - crash: SIGKILL at chosen and random points, then rerun
//! - serve, web: `immdqa serve` over HTTP/HTTPS and in headless Chromium (ChromeDriver)
//! - trust: verdicts, profile scoping, ACK shapes and lint agreement (issue 11)

mod sftp_server;
mod sshd;
mod util;
mod vsftpd;
mod web;
mod xlsx;

mod at_rest;
mod boundaries;
mod cmd_config;
mod cmd_demo;
mod cmd_fetch;
mod cmd_import;
mod cmd_init;
mod cmd_inspect;
mod cmd_report;
mod cmd_upload;
mod codes;
mod crash;
mod exactly_once;
mod ftps;
mod golden;
mod hardening;
mod ledger;
mod openssh;
mod parsers;
mod score;
mod serve;
mod sftp_fetch;
mod streaming;
mod sync;
mod trust;
mod vaccines;
mod verdicts;
