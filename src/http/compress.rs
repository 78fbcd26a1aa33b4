//! gzip and brotli, when the client asks, for responses of 1 KiB or more.
//!
//! actix's encoder does the compressing; this layer only decides: small bodies, empty
//! bodies (304, 204), event streams, images and byte ranges are sent as they are, so no request pays for
//! compressing a few bytes and no live event waits in a compressor's buffer.

use actix_http::encoding::Encoder;
use actix_web::Error;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, AcceptEncoding, ContentEncoding, Encoding, Header};
use actix_web::middleware::Next;

/// Bodies smaller than this are not compressed.
pub const MIN_COMPRESS_BYTES: u64 = 1024;

const OFFERED: &[Encoding] = &[Encoding::brotli(), Encoding::gzip(), Encoding::identity()];

fn chosen(req: &ServiceRequest) -> ContentEncoding {
    let Ok(accept) = AcceptEncoding::parse(req) else {
        return ContentEncoding::Identity;
    };
    match accept.negotiate(OFFERED.iter()) {
        Some(Encoding::Known(encoding)) => encoding,
        _ => ContentEncoding::Identity,
    }
}

/// The middleware; see the module documentation.
pub async fn compress(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<Encoder<impl MessageBody>>, Error> {
    let encoding = chosen(&req);
    let res = next.call(req).await?;
    Ok(res.map_body(move |head, body| {
        let large = match body.size() {
            BodySize::Sized(n) => n >= MIN_COMPRESS_BYTES,
            BodySize::Stream => true,
            BodySize::None => false,
        };
        // Event streams wait in no compressor; images are compressed already, and a
        // byte range is of the file as stored.
        let kept_as_is = head.status == actix_web::http::StatusCode::PARTIAL_CONTENT
            || head.headers.get(header::CONTENT_TYPE).is_some_and(|v| {
                let v = v.as_bytes();
                v.starts_with(b"text/event-stream") || v.starts_with(b"image/")
            });
        let encoding = if large && !kept_as_is {
            encoding
        } else {
            ContentEncoding::Identity
        };
        Encoder::response(encoding, head, body)
    }))
}
