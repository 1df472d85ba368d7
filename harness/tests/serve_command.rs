//! `faasbench serve` end to end: the binary reads a runtime configuration, serves its functions
//! over HTTP and stops cleanly on Ctrl-C.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
listen = "127.0.0.1:0"
capacity_mb = 1024

[keep_alive]
policy = "fixed"
ttl = "1m"

[[functions]]
name = "echo"
guest = "echo"
memory_mb = 64

[[functions]]
name = "boot"
guest = "init-heavy(init_ms=1, state_mib=1)"
prewarm = 1
"#;

/// One HTTP/1.1 exchange on a fresh connection; returns the whole answer as text.
fn exchange(addr: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// Reads the server's first line on stderr and the address it says it serves on; returns the
/// address, the line and the rest of stderr.
fn listening_address(
    child: &mut std::process::Child,
) -> (String, String, BufReader<std::process::ChildStderr>) {
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in: {line}"))
        .to_owned();
    (addr, line, stderr)
}

#[test]
fn serve_runs_the_configured_functions_until_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("runtime.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_faasbench"))
        .args(["serve", "--config"])
        .arg(&config)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (addr, line, mut stderr) = listening_address(&mut child);
    assert!(line.contains("serving 2 functions"), "{line}");

    let answer = exchange(
        &addr,
        "POST /invoke/echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello"), "{answer}");
    assert!(answer.contains("x-faas-memory-mb: 64"), "{answer}");

    // The provisioned instance of `boot` serves the first invocation warm.
    let give_up = Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let metrics = exchange(
            &addr,
            "GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        );
        if metrics.contains("faas_instances{function=\"boot\",state=\"idle\"} 1")
            || Instant::now() > give_up
        {
            break metrics;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        metrics.contains("faas_instances{function=\"boot\",state=\"idle\"} 1"),
        "{metrics}"
    );
    let boot = exchange(
        &addr,
        "POST /invoke/boot HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    );
    assert!(boot.contains("x-faas-start: warm"), "{boot}");

    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let give_up = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < give_up, "serve did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopping"), "{rest}");
}

#[test]
fn a_broken_configuration_is_refused_naming_file_table_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("runtime.toml");
    std::fs::write(
        &config,
        CONFIG.replace("ttl = \"1m\"", "ttl = \"1m\"\nttl_max = \"2m\""),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_faasbench"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("runtime.toml"), "{stderr}");
    // The policy's table is named with its line, and the unknown key with the expected one.
    assert!(
        stderr.contains("at `keep_alive`") && stderr.contains("line 5"),
        "{stderr}"
    );
    assert!(
        stderr.contains("unknown field `ttl_max`, expected `ttl`"),
        "{stderr}"
    );
}

#[test]
fn serve_under_a_low_file_descriptor_limit_still_answers_with_many_idle_connections() {
    const IDLE_CONNECTIONS: usize = 300;
    let hard = Command::new("sh")
        .args(["-c", "ulimit -Hn"])
        .output()
        .unwrap();
    let hard = String::from_utf8_lossy(&hard.stdout).trim().to_owned();
    if hard != "unlimited"
        && hard
            .parse::<usize>()
            .is_ok_and(|n| n < IDLE_CONNECTIONS + 64)
    {
        eprintln!(
            "skipped: the hard file-descriptor limit ({hard}) leaves no room for {IDLE_CONNECTIONS} connections"
        );
        return;
    }
    // The soft limit alone is low, as a login shell's often is; the hard one is not.
    let mut child = Command::new("sh")
        .args([
            "-c",
            "ulimit -Sn 256 && exec \"$0\" serve --listen 127.0.0.1:0",
            env!("CARGO_BIN_EXE_faasbench"),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (addr, _, mut stderr) = listening_address(&mut child);
    // Drained on the side, so that a chatty server never blocks on a full pipe.
    let log = std::thread::spawn(move || {
        let mut log = String::new();
        let _ = stderr.read_to_string(&mut log);
        log
    });

    let idle: Vec<TcpStream> = (0..IDLE_CONNECTIONS)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let read = stream.read_to_string(&mut answer);
    child.kill().unwrap();
    child.wait().unwrap();
    drop(idle);
    let log = log.join().unwrap();
    read.unwrap_or_else(|err| {
        panic!("no answer to /healthz beside {IDLE_CONNECTIONS} idle connections: {err}\n{log}")
    });
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok\n"), "{answer}");
}
