//! The binary: the "listening" line scripts wait for, `mint`, and flag errors.

use callkit_core::usersig::{decode, verify, Expected};
use callkit_emulator::config::{DEMO_KEY, DEMO_SDKAPPID};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_callkit-emulator");

#[test]
fn serve_prints_one_listening_line_and_answers() {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            "--seed-demo",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("line");
    let url = line
        .trim_end()
        .strip_prefix("callkit-emulator listening on http://")
        .expect("listening line")
        .to_owned();
    let port: u16 = url
        .strip_prefix("127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .expect("port");
    assert_ne!(port, 0);
    // A raw HTTP/1.0 request: no client library needed.
    let mut stream = std::net::TcpStream::connect(&url).expect("connect");
    use std::io::Write;
    stream
        .write_all(b"GET /_emulator/calls HTTP/1.0\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
    // --seed-demo started three live calls.
    assert_eq!(answer.matches("\"callId\"").count(), 3, "{answer}");
}

#[test]
fn mint_prints_a_verifiable_usersig() {
    let out = Command::new(BIN)
        .args([
            "mint",
            "--identifier",
            "xiaojun",
            "--time",
            "1700000000",
            "--expire",
            "15552000",
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    let sig = String::from_utf8(out.stdout).expect("utf8");
    let sig = sig.trim();
    let decoded = decode(sig).expect("decodes");
    // Independently computed vector D of docs/tencent-callkit-v4.md §7.4.
    assert_eq!(decoded.sig, "LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4=");
    let expected = Expected {
        sdkappid: DEMO_SDKAPPID,
        identifier: Some("xiaojun"),
        userbuf: None,
    };
    assert!(verify(sig, DEMO_KEY, &expected, 1_700_000_001).is_ok());
}

#[test]
fn bad_app_flag_fails_without_echoing_the_key() {
    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--app",
            "notanumber:supersecretkey:admin",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--app"), "{stderr}");
    assert!(!stderr.contains("supersecretkey"), "{stderr}");
    assert!(out.stdout.is_empty());
}
