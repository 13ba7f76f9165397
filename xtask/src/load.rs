//! A closed-loop HTTP/1.1 load generator on one thread: `concurrency` keep-alive connections
//! driven by epoll (mio), each sending its next request as soon as its answer is complete.
//!
//! The benchmarks run it on the cores the server uses, so what it costs is taken from the
//! server. A blocking thread per connection costs a wake-up and two context switches per
//! answer; here one wake-up collects every answer that arrived meanwhile, and no request or
//! answer is copied into a fresh allocation.

use anyhow::{Context, bail};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

/// How long the generator waits for any progress before giving up.
const STALL: Duration = Duration::from_secs(60);

/// What a run produced: the latency of every answered request, and the wall time.
pub struct Outcome {
    pub latencies: Vec<Duration>,
    pub seconds: f64,
}

/// Sends requests on `concurrency` keep-alive connections to 127.0.0.1:`port` until `next`
/// has no more (it writes one whole request into the buffer it is given and returns true) or
/// `until` has passed; requests under way then are finished and counted. Every answer must
/// carry a `Content-Length` and pass `accept(status, body)`; the first that does not stops the
/// run with its error.
pub fn closed_loop(
    port: u16,
    concurrency: usize,
    until: Instant,
    next: &mut dyn FnMut(&mut Vec<u8>) -> bool,
    accept: &dyn Fn(u16, &[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<Outcome> {
    let mut poll = Poll::new().context("cannot create an epoll instance")?;
    let mut conns = Vec::with_capacity(concurrency);
    for i in 0..concurrency {
        let std = std::net::TcpStream::connect(("127.0.0.1", port))
            .with_context(|| format!("cannot connect to 127.0.0.1:{port}"))?;
        std.set_nodelay(true)?;
        std.set_nonblocking(true)?;
        let mut stream = TcpStream::from_std(std);
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        conns.push(Conn {
            stream,
            out: Vec::with_capacity(2048),
            written: 0,
            input: Vec::with_capacity(16 * 1024),
            started: None,
        });
    }

    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut in_flight = 0;
    for conn in &mut conns {
        if conn.start(next)? {
            in_flight += 1;
        }
    }
    let mut events = Events::with_capacity(concurrency.max(1));
    let mut last_progress = Instant::now();
    while in_flight > 0 {
        poll.poll(&mut events, Some(Duration::from_secs(1)))
            .context("epoll_wait failed")?;
        if events.is_empty() && last_progress.elapsed() > STALL {
            bail!("no answer from the server for {} s", STALL.as_secs());
        }
        for event in &events {
            let Some(conn) = conns.get_mut(event.token().0) else {
                continue;
            };
            if conn.started.is_none() {
                continue;
            }
            if event.is_writable() {
                conn.flush()?;
            }
            if !event.is_readable() && !event.is_read_closed() {
                continue;
            }
            while let Some(latency) = conn.receive(accept)? {
                latencies.push(latency);
                last_progress = Instant::now();
                let more = Instant::now() < until && conn.start(next)?;
                if !more {
                    in_flight -= 1;
                    break;
                }
            }
        }
    }
    Ok(Outcome {
        latencies,
        seconds: started.elapsed().as_secs_f64(),
    })
}

struct Conn {
    stream: TcpStream,
    /// The request being sent, and how much of it the socket took.
    out: Vec<u8>,
    written: usize,
    /// What arrived of the answer.
    input: Vec<u8>,
    /// When the request under way was started; `None` when the connection is idle.
    started: Option<Instant>,
}

impl Conn {
    /// Takes the next request and sends what the socket accepts; false when there is none.
    fn start(&mut self, next: &mut dyn FnMut(&mut Vec<u8>) -> bool) -> anyhow::Result<bool> {
        self.out.clear();
        self.written = 0;
        self.input.clear();
        if !next(&mut self.out) {
            self.started = None;
            return Ok(false);
        }
        self.started = Some(Instant::now());
        self.flush()?;
        Ok(true)
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        while self.written < self.out.len() {
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => bail!("the server closed the connection during a request"),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e).context("cannot send a request"),
            }
        }
        Ok(())
    }

    /// Reads what the socket holds; the request's latency once its whole answer is in (and
    /// accepted), `None` while more is expected.
    fn receive(
        &mut self,
        accept: &dyn Fn(u16, &[u8]) -> anyhow::Result<()>,
    ) -> anyhow::Result<Option<Duration>> {
        let Some(started) = self.started else {
            return Ok(None);
        };
        let mut closed = false;
        loop {
            if self.input.capacity() - self.input.len() < 4096 {
                self.input.reserve(16 * 1024);
            }
            let len = self.input.len();
            self.input.resize(self.input.capacity(), 0);
            match self.stream.read(&mut self.input[len..]) {
                Ok(0) => {
                    self.input.truncate(len);
                    closed = true;
                    break;
                }
                Ok(n) => {
                    self.input.truncate(len + n);
                    // A whole answer ends the read: the server sends nothing more until the
                    // next request, so no edge of readiness is lost by not draining to EAGAIN.
                    if parse(&self.input)?.is_some() {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.input.truncate(len);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => self.input.truncate(len),
                Err(e) => return Err(e).context("cannot read an answer"),
            }
        }
        match parse(&self.input)? {
            Some((status, body, total)) => {
                if total != self.input.len() {
                    bail!("the server sent more than one answer to one request");
                }
                accept(status, body)?;
                self.started = None;
                Ok(Some(started.elapsed()))
            }
            None if closed => bail!("the server closed the connection before a whole answer"),
            None => Ok(None),
        }
    }
}

/// `(status, body, length of head and body)` once `input` holds a whole answer.
fn parse(input: &[u8]) -> anyhow::Result<Option<(u16, &[u8], usize)>> {
    let Some(head_end) = find(input, b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&input[..head_end]).context("the answer's head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line in {head:?}"))?;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .context("bad Content-Length")?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            bail!("the load generator needs a Content-Length, got Transfer-Encoding: {value}");
        }
    }
    let length = length.with_context(|| format!("an answer without Content-Length: {head:?}"))?;
    let total = head_end + 4 + length;
    Ok((input.len() >= total).then(|| (status, &input[head_end + 4..total], total)))
}

/// Where `needle` first occurs in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(i) = hay.get(from..)?.iter().position(|&b| b == first) {
        let at = from + i;
        if hay.get(at + 1..at + needle.len()) == Some(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn finds_needles() {
        assert_eq!(find(b"abcabd", b"abd"), Some(3));
        assert_eq!(find(b"abc", b"abcd"), None);
        assert_eq!(find(b"abc", b""), None);
        assert_eq!(find(b"xx\r\n\r\n", b"\r\n\r\n"), Some(2));
    }

    #[test]
    fn parses_whole_answers_only() {
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
        assert_eq!(
            parse(answer).ok().flatten(),
            Some((200, &b"hello"[..], answer.len()))
        );
        assert!(matches!(parse(&answer[..answer.len() - 1]), Ok(None)));
        assert!(matches!(parse(b"HTTP/1.1 200 OK\r\n"), Ok(None)));
        assert!(parse(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
    }

    /// A server that answers every request after a pause, in two writes, until the client
    /// closes (the connections share the requests, in no set proportion).
    fn slow_server() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(2) {
                let Ok(mut stream) = stream else { return };
                std::thread::spawn(move || {
                    let mut buf = [0_u8; 1024];
                    loop {
                        let mut got = Vec::new();
                        while find(&got, b"\r\n\r\n").is_none() {
                            match stream.read(&mut buf) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => got.extend_from_slice(&buf[..n]),
                            }
                        }
                        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nok");
                        std::thread::sleep(Duration::from_millis(5));
                        let _ = stream.write_all(b"!!");
                    }
                });
            }
        });
        port
    }

    #[test]
    fn every_request_is_answered_and_timed() {
        let port = slow_server();
        let mut left = 10;
        let mut next = |out: &mut Vec<u8>| {
            if left == 0 {
                return false;
            }
            left -= 1;
            out.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            true
        };
        let accept = |status: u16, body: &[u8]| {
            if status == 200 && body == b"ok!!" {
                Ok(())
            } else {
                bail!("unexpected answer {status} {body:?}")
            }
        };
        let until = Instant::now() + Duration::from_secs(30);
        let outcome = closed_loop(port, 2, until, &mut next, &accept).expect("run");
        assert_eq!(outcome.latencies.len(), 10);
        assert!(
            outcome
                .latencies
                .iter()
                .all(|l| *l >= Duration::from_millis(5))
        );
    }

    #[test]
    fn a_refused_answer_stops_the_run() {
        let port = slow_server();
        let mut next = |out: &mut Vec<u8>| {
            out.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            true
        };
        let accept = |_: u16, _: &[u8]| bail!("refused");
        let until = Instant::now() + Duration::from_secs(30);
        let err = closed_loop(port, 1, until, &mut next, &accept).err();
        assert_eq!(err.map(|e| e.to_string()).as_deref(), Some("refused"));
    }
}
