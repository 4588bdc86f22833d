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

/// `serve` with `args` (and `env`) that must refuse to start: exit 2, a
/// message naming the flag, nothing on stdout.
fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
    assert!(out.stdout.is_empty());
    stderr
}

#[test]
fn bad_simulate_calls_values_are_refused_clearly() {
    for bad in ["-1", "601", "0.01", "nan", "inf"] {
        let stderr = refused(&["--simulate-calls", bad], &[]);
        assert!(
            stderr.contains("--simulate-calls must be 0 (off) or between 0.1 and 600"),
            "{bad}: {stderr}"
        );
    }
    let stderr = refused(&["--simulate-calls", "lots"], &[]);
    assert!(stderr.contains("--simulate-calls"), "{stderr}");
    let stderr = refused(&[], &[("CALLKIT_EMULATOR_SIMULATE_CALLS", "-5")]);
    assert!(stderr.contains("not -5"), "{stderr}");
}

/// One raw HTTP/1.0 GET; the whole answer, headers included.
fn get(addr: &str, path: &str) -> String {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

#[test]
fn simulate_calls_flag_starts_calls() {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--simulate-calls",
            "600",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("line");
    let addr = line
        .trim_end()
        .strip_prefix("callkit-emulator listening on http://")
        .expect("listening line")
        .to_owned();
    // A start every 50–150 ms, and the default calls last seconds.
    let mut answer = String::new();
    for _ in 0..50 {
        answer = get(&addr, "/_emulator/calls");
        if answer.contains("\"callId\"") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.contains("\"callId\""), "{answer}");
}
