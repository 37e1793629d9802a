//! Reading an answer (a vendor's, a token endpoint's) within a size cap.

/// The largest vendor answer (or token answer) read, in bytes. Vendors' documented
/// answers are a few KiB; a body past this is read as no answer, so a misbehaving
/// endpoint cannot make the gateway buffer without bound.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// The answer's body, or `None` when it is longer than `MAX_RESPONSE_BYTES` (its
/// `Content-Length` says so, or its chunks add up past it): only that much is ever held.
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
) -> Result<Option<bytes::Bytes>, reqwest::Error> {
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Ok(None);
    }
    // The usual answer is one chunk: handed on as it is, without a copy.
    let Some(first) = resp.chunk().await? else {
        return Ok(Some(bytes::Bytes::new()));
    };
    let mut more = match resp.chunk().await? {
        None => return Ok((first.len() <= MAX_RESPONSE_BYTES).then_some(first)),
        Some(second) => {
            let mut b = bytes::BytesMut::with_capacity(first.len() + second.len());
            b.extend_from_slice(&first);
            b.extend_from_slice(&second);
            b
        }
    };
    loop {
        if more.len() > MAX_RESPONSE_BYTES {
            return Ok(None);
        }
        match resp.chunk().await? {
            Some(c) => more.extend_from_slice(&c),
            None => return Ok(Some(more.freeze())),
        }
    }
}
