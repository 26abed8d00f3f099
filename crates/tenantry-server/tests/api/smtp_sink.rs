//! A minimal SMTP server on loopback that accepts every message and keeps its raw text, so tests
//! can check what Tenantry delivers over real SMTP; or one that refuses every recipient for good
//! (550), counting the attempts.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Default)]
pub struct SmtpSink {
    pub messages: Arc<Mutex<Vec<String>>>,
    /// Recipients refused (only when refusing).
    pub refusals: Arc<Mutex<usize>>,
    pub port: u16,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::serve(false).await
    }

    /// A server that answers every `RCPT TO` with a permanent refusal.
    pub async fn start_refusing() -> Self {
        Self::serve(true).await
    }

    async fn serve(refusing: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink =
            Self { messages: Arc::default(), refusals: Arc::default(), port: listener.local_addr().unwrap().port() };
        let messages = sink.messages.clone();
        let refusals = sink.refusals.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let messages = messages.clone();
                let refusals = refusals.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 sink ESMTP\r\n").await.ok()?;
                    while let Some(line) = lines.next_line().await.ok()? {
                        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
                            "RCPT" if refusing => {
                                *refusals.lock().unwrap() += 1;
                                b"550 5.1.1 no such mailbox here\r\n"
                            }
                            "DATA" => {
                                write.write_all(b"354 go ahead\r\n").await.ok()?;
                                let mut data = String::new();
                                while let Some(line) = lines.next_line().await.ok()? {
                                    if line == "." {
                                        break;
                                    }
                                    data.push_str(&line);
                                    data.push('\n');
                                }
                                messages.lock().unwrap().push(data);
                                b"250 queued\r\n"
                            }
                            "QUIT" => {
                                write.write_all(b"221 bye\r\n").await.ok()?;
                                return Some(());
                            }
                            _ => b"250 ok\r\n",
                        };
                        write.write_all(reply).await.ok()?;
                    }
                    Some(())
                });
            }
        });
        sink
    }

    /// Waits (bounded) until `count` messages arrived.
    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        for _ in 0..200 {
            if self.messages.lock().unwrap().len() >= count {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        self.messages.lock().unwrap().clone()
    }

    /// Waits (bounded) until `count` recipients were refused.
    pub async fn wait_for_attempts(&self, count: usize) -> usize {
        for _ in 0..200 {
            if *self.refusals.lock().unwrap() >= count {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        *self.refusals.lock().unwrap()
    }
}
