//! A static upstream for `scripts/loadtest`: answers every request with one fixed status
//! and JSON body (a vendor's recorded create-order answer), after reading the request
//! whole. Issue 21 measured the gateway "in front of a static upstream posing as Axim":
//! with a vendor simulator on the same cores, the full pipeline also pays the
//! simulator's own work (auth, validation, its ledger), which preview does not, so the
//! full/preview ratio measured the simulator as much as the gateway. This server does
//! almost nothing per request, so the ratio against preview is the gateway's own.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

#[derive(Parser)]
struct Args {
    /// Address to listen on (loopback in the load run).
    #[arg(long)]
    listen: SocketAddr,
    /// Status of every answer.
    #[arg(long, default_value = "200")]
    status: u16,
    /// A file holding the answer's JSON body, or a recorded `{"status", "body"}` pair
    /// (the connectors' `tests/golden/<example>.response.json`), whose `body` is used.
    #[arg(long)]
    body: std::path::PathBuf,
}

fn answer_body(text: &str) -> Result<Bytes, String> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("body: {e}"))?;
    let body = match doc.get("body") {
        Some(inner) if doc.get("status").is_some() => inner.clone(),
        _ => doc,
    };
    serde_json::to_vec(&body)
        .map(Bytes::from)
        .map_err(|e| e.to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.body).map_err(|e| format!("{:?}: {e}", args.body))?;
    let body = answer_body(&text)?;
    let status = StatusCode::from_u16(args.status).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("{}: {e}", args.listen))?;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let body = body.clone();
                async move {
                    // Read the request whole, as a vendor would, before answering.
                    let _ = req.into_body().collect().await;
                    let mut resp = Response::new(Full::new(body));
                    *resp.status_mut() = status;
                    resp.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(resp)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
