//! Uploading images: formats, sniffing, limits, metadata removal, renditions, file
//! serving with ranges, duplicates, deletion and the sweep, on the local store and (when
//! `NEWSDESK_TEST_S3_ENDPOINT` names an S3-protocol server) on an S3 bucket.

use std::io::Cursor;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test as atest;
use image::{DynamicImage, ImageFormat, RgbImage, Rgba, RgbaImage};
use newsdesk::auth::Role;
use serde_json::Value;

use crate::common::{self, Resp, TestApp};

/// A multipart body: `(name, file name, bytes)` per part; returns the content type.
pub(crate) fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "newsdesk-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: image/jpeg\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) async fn upload<S, B>(
    app: &TestApp<S>,
    token: Option<&str>,
    parts: &[(&str, Option<&str>, &[u8])],
) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (content_type, body) = multipart(parts);
    let mut req = atest::TestRequest::post()
        .uri("/api/v1/media")
        .insert_header(("content-type", content_type))
        .set_payload(body);
    if let Some(t) = token {
        req = req.insert_header(("authorization", format!("Bearer {t}")));
    }
    app.send(req).await
}

/// The path of a file URL on this server.
fn path_of(url: &str) -> String {
    let u = url::Url::parse(url).expect("an absolute URL");
    assert!(u.path().starts_with("/files/"), "{url}");
    u.path().to_owned()
}

/// A photo-like test image: gradients and a bright square, so resizing shows.
fn photo(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let inside = (width / 3..width / 2).contains(&x) && (height / 3..height / 2).contains(&y);
        if inside {
            image::Rgb([250, 240, 20])
        } else {
            image::Rgb([
                (x * 255 / width.max(1)) as u8,
                (y * 255 / height.max(1)) as u8,
                90,
            ])
        }
    })
}

fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), format)
        .expect("encode a test image");
    out
}

pub(crate) fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encoded(
        &DynamicImage::ImageRgb8(photo(width, height)),
        ImageFormat::Jpeg,
    )
}

/// An animated GIF of two frames, with a comment block.
fn gif(width: u16, height: u16) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
        let frames = [[200u8, 30, 30, 255], [30, 30, 200, 255]].map(|c| {
            image::Frame::new(RgbaImage::from_pixel(
                u32::from(width),
                u32::from(height),
                Rgba(c),
            ))
        });
        encoder.encode_frames(frames).expect("encode a GIF");
    }
    out
}

/// A TIFF (EXIF) block with an orientation and a GPS position.
fn exif_with_gps(orientation: u16) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"II*\0");
    t.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: two entries.
    t.extend_from_slice(&2u16.to_le_bytes());
    // Orientation, SHORT, 1.
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&u32::from(orientation).to_le_bytes());
    // GPS IFD pointer, LONG, 1, at 38.
    t.extend_from_slice(&0x8825u16.to_le_bytes());
    t.extend_from_slice(&4u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&38u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 38);
    // GPS IFD: latitude reference and latitude (three rationals at 68).
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&0x0001u16.to_le_bytes());
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&2u32.to_le_bytes());
    t.extend_from_slice(b"N\0\0\0");
    t.extend_from_slice(&0x0002u16.to_le_bytes());
    t.extend_from_slice(&5u16.to_le_bytes());
    t.extend_from_slice(&3u32.to_le_bytes());
    t.extend_from_slice(&68u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 68);
    for (n, d) in [(51u32, 1u32), (30, 1), (2644, 100)] {
        t.extend_from_slice(&n.to_le_bytes());
        t.extend_from_slice(&d.to_le_bytes());
    }
    t
}

/// A JPEG carrying EXIF (with GPS), an XMP packet and a comment.
fn jpeg_with_metadata(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let plain = jpeg(width, height);
    let mut out = vec![0xFF, 0xD8];
    let mut segment = |marker: u8, payload: &[u8]| {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        out.extend_from_slice(payload);
    };
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&exif_with_gps(orientation));
    segment(0xE1, &exif);
    segment(
        0xE1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>photographer-home</x:xmpmeta>",
    );
    segment(0xFE, b"shot from the roof of 12 Harbour Street");
    out.extend_from_slice(&plain[2..]);
    out
}

fn gps_of(bytes: &[u8]) -> Option<String> {
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .ok()?;
    exif.get_field(exif::Tag::GPSLatitudeRef, exif::In::PRIMARY)
        .map(|f| f.display_value().to_string())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Fetches every rendition and the original, decodes them and checks they are what
/// the item says.
async fn check_files<S, B>(app: &TestApp<S>, item: &Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let original = app
        .get(&path_of(item["url"].as_str().unwrap()))
        .await
        .expect(200);
    assert_eq!(
        original.header("content-type").as_deref(),
        item["mime_type"].as_str()
    );
    assert_eq!(original.body.len() as i64, item["bytes"].as_i64().unwrap());
    assert_eq!(
        newsdesk::domain::media::upload::sha256_hex(&original.body),
        item["sha256"].as_str().unwrap()
    );
    let decoded = image::load_from_memory(&original.body).expect("the original decodes");
    assert_eq!(i64::from(decoded.width()), item["width"].as_i64().unwrap());
    assert_eq!(
        i64::from(decoded.height()),
        item["height"].as_i64().unwrap()
    );
    let width = item["width"].as_u64().unwrap();
    let renditions = item["renditions"].as_array().unwrap();
    assert!(!renditions.is_empty());
    for r in renditions {
        assert!(r["width"].as_u64().unwrap() <= width, "never upscaled: {r}");
        let file = app
            .get(&path_of(r["url"].as_str().unwrap()))
            .await
            .expect(200);
        let (format, mime) = match r["format"].as_str().unwrap() {
            "webp" => (ImageFormat::WebP, "image/webp"),
            "jpeg" => (ImageFormat::Jpeg, "image/jpeg"),
            other => panic!("unexpected format {other}"),
        };
        assert_eq!(file.header("content-type").as_deref(), Some(mime));
        assert_eq!(image::guess_format(&file.body).unwrap(), format);
        let img = image::load_from_memory(&file.body).expect("a rendition decodes");
        assert_eq!(u64::from(img.width()), r["width"].as_u64().unwrap());
        assert_eq!(u64::from(img.height()), r["height"].as_u64().unwrap());
    }
    // Both formats at every width.
    let webp = renditions.iter().filter(|r| r["format"] == "webp").count();
    assert_eq!(webp * 2, renditions.len());
    let colour = item["dominant_color"].as_str().unwrap();
    assert!(colour.len() == 7 && colour.starts_with('#'), "{colour}");
    let hash = item["placeholder"].as_str().unwrap();
    assert!(blurhash::decode(hash, 8, 6, 1.0).is_ok(), "{hash}");
}

#[actix_web::test]
async fn every_accepted_format_uploads_with_its_renditions() {
    let app = common::app().await;
    let writer = app.writer().await;
    let photo = DynamicImage::ImageRgb8(photo(1200, 800));
    let with_alpha = DynamicImage::ImageRgba8(RgbaImage::from_fn(700, 500, |x, y| {
        Rgba([
            (x % 256) as u8,
            (y % 256) as u8,
            128,
            if x < 350 { 255 } else { 80 },
        ])
    }));
    let cases = [
        (
            "harbour.jpg",
            encoded(&photo, ImageFormat::Jpeg),
            "image/jpeg",
            (1200, 800),
        ),
        (
            "chart.png",
            encoded(&with_alpha, ImageFormat::Png),
            "image/png",
            (700, 500),
        ),
        (
            "street.webp",
            encoded(&photo, ImageFormat::WebP),
            "image/webp",
            (1200, 800),
        ),
        ("loop.gif", gif(400, 300), "image/gif", (400, 300)),
    ];
    for (name, bytes, mime, (w, h)) in cases {
        let resp = upload(
            &app,
            Some(&writer),
            &[
                ("file", Some(name), &bytes),
                ("caption", None, b"Boats at dawn"),
                ("credit", None, b"AP"),
                ("focal_point", None, b"0.25,0.75"),
            ],
        )
        .await
        .expect(201);
        let item = resp.json();
        assert_eq!(item["mime_type"], mime, "{name}");
        assert_eq!(
            (item["width"].as_i64(), item["height"].as_i64()),
            (Some(w), Some(h))
        );
        assert_eq!(item["kind"], "image");
        assert_eq!(item["caption"], "Boats at dawn");
        assert_eq!(
            item["focal_point"],
            serde_json::json!({"x": 0.25, "y": 0.75})
        );
        let location = resp.header("location").unwrap();
        assert_eq!(location, format!("/api/v1/media/{}", item["id"]));
        let widths: Vec<u64> = item["renditions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["format"] == "webp")
            .map(|r| r["width"].as_u64().unwrap())
            .collect();
        let expected: Vec<u64> = [320, 640, 1024, 1600, 2400]
            .into_iter()
            .filter(|x| *x <= w as u64)
            .collect();
        assert_eq!(widths, expected, "{name}");
        check_files(&app, &item).await;
        // Staff read it back the same.
        let id = item["id"].as_i64().unwrap();
        let back = app
            .get_as(&writer, &format!("/api/v1/media/{id}"))
            .await
            .expect(200)
            .json();
        assert_eq!(back, item);
    }
    // The GIF keeps its two frames.
    let gifs = app
        .get_as(&writer, "/api/v1/media?q=Boats&per_page=10")
        .await
        .expect(200)
        .json();
    let gif_item = gifs["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mime_type"] == "image/gif")
        .unwrap()
        .clone();
    let stored = app
        .get(&path_of(gif_item["url"].as_str().unwrap()))
        .await
        .expect(200);
    let decoder = image::codecs::gif::GifDecoder::new(Cursor::new(stored.body.to_vec())).unwrap();
    use image::AnimationDecoder;
    assert_eq!(decoder.into_frames().count(), 2);
}

#[actix_web::test]
async fn the_type_comes_from_the_bytes_not_the_name() {
    let app = common::app().await;
    let writer = app.writer().await;
    let png = encoded(&DynamicImage::ImageRgb8(photo(400, 300)), ImageFormat::Png);
    let item = upload(&app, Some(&writer), &[("file", Some("holiday.jpg"), &png)])
        .await
        .expect(201)
        .json();
    assert_eq!(item["mime_type"], "image/png");
    assert!(item["url"].as_str().unwrap().ends_with(".png"));

    for (name, bytes) in [
        (
            "notes.jpg",
            b"just some text, not an image at all".as_slice(),
        ),
        (
            "page.png",
            b"<svg xmlns='http://www.w3.org/2000/svg'></svg>".as_slice(),
        ),
        ("empty.jpg", b"".as_slice()),
    ] {
        let p = upload(&app, Some(&writer), &[("file", Some(name), bytes)])
            .await
            .problem(415, "unsupported_media_type");
        assert!(p["detail"].as_str().unwrap().contains("file"), "{p}");
    }
    // A JPEG header over garbage is an unreadable image, named on `file`.
    let mut broken = jpeg(64, 64);
    broken.truncate(300);
    let p = upload(&app, Some(&writer), &[("file", Some("cut.jpg"), &broken)])
        .await
        .problem(422, "validation_failed");
    assert_eq!(Resp::error_fields(&p), vec!["file"]);
}

#[actix_web::test]
async fn who_may_upload_and_what_the_form_must_hold() {
    let app = common::app().await;
    let bytes = jpeg(64, 48);
    upload(&app, None, &[("file", Some("a.jpg"), &bytes)])
        .await
        .problem(401, "unauthorized");
    let writer = app.writer().await;
    let p = upload(&app, Some(&writer), &[("caption", None, b"no file")])
        .await
        .problem(422, "validation_failed");
    assert_eq!(Resp::error_fields(&p), vec!["file"]);
    let p = upload(
        &app,
        Some(&writer),
        &[
            ("file", Some("a.jpg"), &bytes),
            ("focal_point", None, b"1.5,0.2"),
            ("url", None, b"https://example.com/x.jpg"),
            ("language", None, b"fr"),
        ],
    )
    .await
    .problem(422, "validation_failed");
    let mut fields = Resp::error_fields(&p);
    fields.sort();
    assert_eq!(fields, vec!["focal_point", "language", "url"]);
    // Nothing was stored for the refused uploads.
    let all = app
        .get_as(&writer, "/api/v1/media")
        .await
        .expect(200)
        .json();
    assert_eq!(all["data"].as_array().unwrap().len(), 0);
    // A JSON create by URL works as before; other bodies are 415.
    app.post(
        &writer,
        "/api/v1/media",
        serde_json::json!({"kind": "image", "url": "https://cdn.example.com/a.jpg"}),
    )
    .await
    .expect(201);
    let req = atest::TestRequest::post()
        .uri("/api/v1/media")
        .insert_header(("authorization", format!("Bearer {writer}")))
        .insert_header(("content-type", "image/jpeg"))
        .set_payload(bytes);
    app.send(req).await.problem(415, "unsupported_media_type");
}

#[actix_web::test]
async fn size_is_refused_before_type_and_pixels_before_decoding() {
    let app = common::app_configured(|c| {
        c.media_max_bytes = 50_000;
        c.media_max_pixels = 1_000_000;
    })
    .await;
    let writer = app.writer().await;
    let text = vec![b'x'; 60_000];
    upload(&app, Some(&writer), &[("file", Some("big.jpg"), &text)])
        .await
        .problem(413, "payload_too_large");
    // 1,200 × 1,000 is more than a megapixel, in a small file.
    let wide = encoded(
        &DynamicImage::ImageLuma8(image::GrayImage::new(1200, 1000)),
        ImageFormat::Png,
    );
    assert!(wide.len() < 50_000);
    let p = upload(&app, Some(&writer), &[("file", Some("wide.png"), &wide)])
        .await
        .problem(422, "validation_failed");
    assert_eq!(Resp::error_fields(&p), vec!["file"]);
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("pixels"),
        "{p}"
    );
}

/// A PNG that says it is 20,000 × 20,000 (400 megapixels of zeros, a few tens of KB
/// compressed).
fn png_bomb() -> Vec<u8> {
    use std::io::Write;
    let (w, h) = (20_000u32, 20_000u32);
    let chunk = |out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]| {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    };
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    // 1-bit greyscale, no interlace.
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let row = vec![0u8; 1 + (w as usize).div_ceil(8)];
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..h {
        z.write_all(&row).unwrap();
    }
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

#[actix_web::test]
async fn a_decompression_bomb_is_refused_at_its_header() {
    let app = common::app().await;
    let writer = app.writer().await;
    let bomb = png_bomb();
    assert!(bomb.len() < 200_000, "{} bytes", bomb.len());
    let started = std::time::Instant::now();
    let p = upload(&app, Some(&writer), &[("file", Some("bomb.png"), &bomb)])
        .await
        .problem(422, "validation_failed");
    assert_eq!(Resp::error_fields(&p), vec!["file"]);
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("20000 × 20000"),
        "{p}"
    );
    // Decoding 400 megapixels would take far longer than this generous bound.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[actix_web::test]
async fn gps_and_every_other_metadata_block_are_removed_and_orientation_applied() {
    let app = common::app().await;
    let writer = app.writer().await;
    // Upright already: the pixels are kept, the metadata goes.
    let tagged = jpeg_with_metadata(640, 480, 1);
    assert_eq!(
        gps_of(&tagged).as_deref(),
        Some("N"),
        "the test file has GPS"
    );
    let item = upload(&app, Some(&writer), &[("file", Some("roof.jpg"), &tagged)])
        .await
        .expect(201)
        .json();
    let stored = app
        .get(&path_of(item["url"].as_str().unwrap()))
        .await
        .expect(200);
    assert_eq!(gps_of(&stored.body), None);
    assert!(
        exif::Reader::new()
            .read_from_container(&mut Cursor::new(stored.body.to_vec()))
            .is_err(),
        "no EXIF at all"
    );
    for secret in [&b"photographer-home"[..], b"Harbour Street", b"Exif\0\0"] {
        assert!(!contains(&stored.body, secret));
    }
    for r in item["renditions"].as_array().unwrap() {
        let file = app
            .get(&path_of(r["url"].as_str().unwrap()))
            .await
            .expect(200);
        assert_eq!(gps_of(&file.body), None);
        assert!(!contains(&file.body, b"photographer-home"));
    }
    // Orientation 6 (turn 90° clockwise): a 400 × 200 sensor image is 200 × 400 upright.
    let turned = jpeg_with_metadata(400, 200, 6);
    let item = upload(
        &app,
        Some(&writer),
        &[("file", Some("turned.jpg"), &turned)],
    )
    .await
    .expect(201)
    .json();
    assert_eq!(
        (item["width"].as_i64(), item["height"].as_i64()),
        (Some(200), Some(400))
    );
    let stored = app
        .get(&path_of(item["url"].as_str().unwrap()))
        .await
        .expect(200);
    assert_eq!(gps_of(&stored.body), None);
    let upright = image::load_from_memory(&stored.body).unwrap();
    assert_eq!((upright.width(), upright.height()), (200, 400));
    let smallest = &item["renditions"][0];
    assert_eq!(
        (smallest["width"].as_i64(), smallest["height"].as_i64()),
        (Some(200), Some(400))
    );
}

#[actix_web::test]
async fn files_are_served_with_ranges_validators_and_nothing_else() {
    let app = common::app().await;
    let writer = app.writer().await;
    let bytes = jpeg(900, 600);
    let item = upload(&app, Some(&writer), &[("file", Some("a.jpg"), &bytes)])
        .await
        .expect(201)
        .json();
    let path = path_of(item["url"].as_str().unwrap());
    let whole = app.get(&path).await.expect(200);
    assert_eq!(
        whole.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        whole.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(whole.header("accept-ranges").as_deref(), Some("bytes"));
    let etag = whole.header("etag").unwrap();
    assert!(etag.starts_with('"') && etag.contains(item["sha256"].as_str().unwrap()));
    let size = whole.body.len();

    let range = |spec: &str| {
        atest::TestRequest::get()
            .uri(&path)
            .insert_header(("range", spec.to_owned()))
    };
    let part = app.send(range("bytes=10-29")).await.expect(206);
    assert_eq!(&part.body[..], &whole.body[10..30]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 10-29/{size}"))
    );
    let tail = app.send(range("bytes=-16")).await.expect(206);
    assert_eq!(&tail.body[..], &whole.body[size - 16..]);
    let p = app
        .send(range(&format!("bytes={}-", size + 10)))
        .await
        .problem(416, "range_not_satisfiable");
    assert!(p["detail"].is_string());
    let refused = app.send(range(&format!("bytes={}-", size + 10))).await;
    assert_eq!(
        refused.header("content-range"),
        Some(format!("bytes */{size}"))
    );

    let again = app
        .send(
            atest::TestRequest::get()
                .uri(&path)
                .insert_header(("if-none-match", etag.clone())),
        )
        .await
        .expect(304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag));
    // Not compressed, whatever the client accepts.
    let gz = app
        .send(
            atest::TestRequest::get()
                .uri(&path)
                .insert_header(("accept-encoding", "gzip, br")),
        )
        .await
        .expect(200);
    assert_eq!(gz.header("content-encoding"), None);
    assert_eq!(gz.body, whole.body);
    // HEAD is answered like GET (the HTTP layer leaves the body out).
    let head = app
        .send(
            atest::TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri(&path),
        )
        .await
        .expect(200);
    assert_eq!(head.header("etag"), whole.header("etag"));

    let sha = item["sha256"].as_str().unwrap();
    for bad in [
        "/files/".to_owned(),
        "/files/..%2Fnewsdesk.db".to_owned(),
        "/files/%2e%2e/newsdesk.db".to_owned(),
        format!("/files/{sha}"),
        format!("/files/{sha}/"),
        format!("/files/{sha}.exe"),
        format!("/files/{sha}/640.png"),
        format!("/files/{}.jpg", "0".repeat(64)),
        format!("/files/{sha}/../{sha}.jpg"),
    ] {
        let resp = app.get(&bad).await;
        assert_eq!(resp.status, 404, "{bad}");
    }
}

#[actix_web::test]
async fn the_same_bytes_are_one_file_and_unused_files_are_swept() {
    let app = common::app().await;
    let editor = app.editor().await;
    let bytes = jpeg(700, 400);
    let first = upload(
        &app,
        Some(&editor),
        &[("file", Some("a.jpg"), &bytes), ("caption", None, b"One")],
    )
    .await
    .expect(201)
    .json();
    let second = upload(
        &app,
        Some(&editor),
        &[("file", Some("b.jpg"), &bytes), ("caption", None, b"Two")],
    )
    .await
    .expect(201)
    .json();
    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["sha256"], second["sha256"]);
    assert_eq!(first["url"], second["url"]);
    assert_eq!(first["renditions"], second["renditions"]);
    let dir = app.dir.path().join("media");
    let originals = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_file())
        .count();
    assert_eq!(originals, 1, "one stored original for two uploads");

    let sweep = || {
        newsdesk::domain::media::upload::sweep(
            &app.state.files,
            &app.state.db,
            std::time::Duration::ZERO,
        )
    };
    let url = path_of(first["url"].as_str().unwrap());
    let rendition = path_of(first["renditions"][0]["url"].as_str().unwrap());
    app.delete(&editor, &format!("/api/v1/media/{}", first["id"]))
        .await
        .expect(204);
    assert_eq!(
        sweep().await.unwrap(),
        0,
        "the second item still uses the file"
    );
    app.get(&url).await.expect(200);
    // A young file is kept by the grace period even when nothing uses it.
    app.delete(&editor, &format!("/api/v1/media/{}", second["id"]))
        .await
        .expect(204);
    let kept = newsdesk::domain::media::upload::sweep(
        &app.state.files,
        &app.state.db,
        newsdesk::files::SWEEP_GRACE,
    )
    .await
    .unwrap();
    assert_eq!(kept, 0);
    app.get(&url).await.expect(200);
    let removed = sweep().await.unwrap();
    assert_eq!(
        removed as usize,
        1 + first["renditions"].as_array().unwrap().len()
    );
    app.get(&url).await.expect(404);
    app.get(&rendition).await.expect(404);
}

#[actix_web::test]
async fn uploads_follow_media_visibility_and_appear_in_articles_and_feeds() {
    let app = common::app().await;
    let editor = app.editor().await;
    let writer = app.user("w@example.com", Role::Writer).await;
    let writer = app.token_of(writer).await;
    let bytes = jpeg(1100, 700);
    let item = upload(
        &app,
        Some(&writer),
        &[
            ("file", Some("a.jpg"), &bytes),
            ("caption", None, b"Harbour"),
        ],
    )
    .await
    .expect(201)
    .json();
    let id = item["id"].as_i64().unwrap();
    // Nothing public uses it: readers do not see the item, though its file is served to
    // whoever holds the address.
    app.get(&format!("/api/v1/media/{id}")).await.expect(404);
    app.get(&path_of(item["url"].as_str().unwrap()))
        .await
        .expect(200);
    // An editor changes the focal point; the file's own facts are not editable.
    let changed = app
        .patch(
            &editor,
            &format!("/api/v1/media/{id}"),
            serde_json::json!({"focal_point": {"x": 0.1, "y": 0.9}}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        changed["focal_point"],
        serde_json::json!({"x": 0.1, "y": 0.9})
    );
    let p = app
        .patch(
            &editor,
            &format!("/api/v1/media/{id}"),
            serde_json::json!({"width": 5, "url": "https://x.example/a.jpg"}),
        )
        .await
        .problem(422, "validation_failed");
    let mut fields = Resp::error_fields(&p);
    fields.sort();
    assert_eq!(fields, vec!["url", "width"]);

    let article = app
        .article(
            &editor,
            serde_json::json!({"title": "Harbour at dawn", "body": "Boats.", "status": "published", "hero_media_id": id}),
        )
        .await;
    let slug = article["slug"].as_str().unwrap();
    let read = app
        .get(&format!("/api/v1/articles/{slug}"))
        .await
        .expect(200)
        .json();
    assert_eq!(read["hero_media"]["renditions"], item["renditions"]);
    assert_eq!(read["hero_media"]["placeholder"], item["placeholder"]);
    let list = app.get("/api/v1/articles").await.expect(200).json();
    assert_eq!(
        list["data"][0]["hero_media"]["renditions"],
        item["renditions"]
    );
    app.get(&format!("/api/v1/media/{id}")).await.expect(200);
    let feed = app.get("/feeds/en.xml").await.expect(200);
    let xml = String::from_utf8_lossy(&feed.body);
    assert!(xml.contains(item["url"].as_str().unwrap()), "{xml}");
    assert!(
        xml.contains("width=\"1100\"") && xml.contains("height=\"700\""),
        "{xml}"
    );
    // Deleting media in use is refused.
    app.delete(&editor, &format!("/api/v1/media/{id}"))
        .await
        .problem(409, "in_use");
}

/// The S3-protocol server the S3 test uses (`.ci/run` starts one), e.g.
/// `http://127.0.0.1:5055`.
fn s3_endpoint() -> Option<String> {
    std::env::var("NEWSDESK_TEST_S3_ENDPOINT")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// Creates a bucket with a plain `PUT /bucket` (the test server takes unsigned requests).
fn create_bucket(endpoint: &str, bucket: &str) {
    use std::io::{Read, Write};
    let url = url::Url::parse(endpoint).expect("an endpoint URL");
    let host = format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap()
    );
    let mut stream = std::net::TcpStream::connect(&host).expect("reach the S3 server");
    write!(
        stream,
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "bucket not created: {answer}"
    );
}

#[actix_web::test]
async fn uploads_work_the_same_on_an_s3_bucket() {
    let Some(endpoint) = s3_endpoint() else {
        eprintln!("S3 store not tested: set NEWSDESK_TEST_S3_ENDPOINT (CI does)");
        return;
    };
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let bucket = format!(
        "newsdesk-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    create_bucket(&endpoint, &bucket);
    let app = common::app_configured(|c| {
        c.media_store = newsdesk::files::StoreConfig::S3 {
            url: format!("s3://{bucket}/newsroom"),
            options: [
                ("aws_endpoint", endpoint.as_str()),
                ("aws_allow_http", "true"),
                ("aws_access_key_id", "newsdesk-test"),
                ("aws_secret_access_key", "newsdesk-test-secret"),
                ("aws_region", "us-east-1"),
                ("aws_virtual_hosted_style_request", "false"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .to_vec(),
        };
    })
    .await;
    let editor = app.editor().await;
    let bytes = jpeg_with_metadata(1300, 900, 1);
    let first = upload(&app, Some(&editor), &[("file", Some("a.jpg"), &bytes)])
        .await
        .expect(201)
        .json();
    assert_eq!(first["width"], 1300);
    check_files(&app, &first).await;
    let stored = app
        .get(&path_of(first["url"].as_str().unwrap()))
        .await
        .expect(200);
    assert_eq!(gps_of(&stored.body), None);
    assert_eq!(
        stored.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    // Ranges from the bucket.
    let path = path_of(first["url"].as_str().unwrap());
    let size = stored.body.len();
    let part = app
        .send(
            atest::TestRequest::get()
                .uri(&path)
                .insert_header(("range", "bytes=100-199")),
        )
        .await
        .expect(206);
    assert_eq!(&part.body[..], &stored.body[100..200]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 100-199/{size}"))
    );
    app.send(
        atest::TestRequest::get()
            .uri(&path)
            .insert_header(("range", format!("bytes={}-", size + 1))),
    )
    .await
    .problem(416, "range_not_satisfiable");
    let etag = stored.header("etag").unwrap();
    app.send(
        atest::TestRequest::get()
            .uri(&path)
            .insert_header(("if-none-match", etag)),
    )
    .await
    .expect(304);
    // The same bytes again: one stored file; deleting both and sweeping removes it.
    let second = upload(&app, Some(&editor), &[("file", Some("b.jpg"), &bytes)])
        .await
        .expect(201)
        .json();
    assert_eq!(first["url"], second["url"]);
    let listed = app.state.files.list().await.unwrap();
    assert_eq!(
        listed.len(),
        1 + first["renditions"].as_array().unwrap().len()
    );
    for item in [&first, &second] {
        app.delete(&editor, &format!("/api/v1/media/{}", item["id"]))
            .await
            .expect(204);
    }
    let removed = newsdesk::domain::media::upload::sweep(
        &app.state.files,
        &app.state.db,
        std::time::Duration::ZERO,
    )
    .await
    .unwrap();
    assert_eq!(removed as usize, listed.len());
    app.get(&path).await.expect(404);
}

#[actix_web::test]
async fn files_point_at_media_public_url_when_it_is_set() {
    let app = common::app_configured(|c| {
        c.media_public_url = "https://cdn.example.com/newsdesk".into();
    })
    .await;
    let writer = app.writer().await;
    let item = upload(
        &app,
        Some(&writer),
        &[("file", Some("a.jpg"), &jpeg(400, 300))],
    )
    .await
    .expect(201)
    .json();
    let url = item["url"].as_str().unwrap();
    let name = url
        .strip_prefix("https://cdn.example.com/newsdesk/")
        .unwrap_or_else(|| panic!("{url}"));
    for r in item["renditions"].as_array().unwrap() {
        assert!(
            r["url"]
                .as_str()
                .unwrap()
                .starts_with("https://cdn.example.com/newsdesk/")
        );
    }
    // The CDN's origin is this server's /files/.
    app.get(&format!("/files/{name}")).await.expect(200);
}

/// `newsdesk media renditions --rebuild` after `MEDIA_PUBLIC_URL` moved: the original's
/// `url` follows, as the renditions' do.
#[actix_web::test]
async fn a_rebuild_moves_every_url_to_the_current_public_address() {
    let (dir, config) = common::fresh_config();
    let app = common::app_with(dir, config.clone()).await;
    let writer = app.writer().await;
    let item = upload(
        &app,
        Some(&writer),
        &[("file", Some("a.jpg"), &jpeg(700, 400))],
    )
    .await
    .expect(201)
    .json();
    let cdn = "https://cdn.example.com/moved";
    let files = newsdesk::files::Files::open(&config.media_store, cdn).unwrap();
    let rules = newsdesk::domain::media::upload::Rules {
        max_pixels: config.media_max_pixels,
        widths: vec![320],
    };
    let done = newsdesk::domain::media::upload::rebuild(&app.state.db, &files, &rules, |_, _| {})
        .await
        .unwrap();
    assert_eq!(done, 1);
    let now = app
        .get_as(&writer, &format!("/api/v1/media/{}", item["id"]))
        .await
        .expect(200)
        .json();
    let name = item["url"].as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(now["url"], format!("{cdn}/{name}"));
    let renditions = now["renditions"].as_array().unwrap();
    assert_eq!(renditions.len(), 2, "320 wide in WebP and JPEG: {now}");
    for r in renditions {
        assert!(r["url"].as_str().unwrap().starts_with(cdn), "{r}");
    }
}
