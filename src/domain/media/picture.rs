//! What happens to an uploaded image: its type read from the bytes, its size read from
//! the header before anything is decoded, its metadata removed, its orientation
//! applied, and its renditions, placeholder and dominant colour made.
//!
//! The stored original keeps the photographer's pixels when it can: a JPEG, PNG or WebP
//! that needs no rotation loses only its metadata blocks (EXIF, GPS, XMP, IPTC,
//! comments, and anything after the end of a JPEG, where phones put second images with
//! their own EXIF); one whose EXIF orientation asks for a rotation is decoded, turned
//! and encoded again (JPEG at quality 92, WebP at 90). A GIF is rewritten frame by frame
//! without its extension blocks (comments, XMP), its pixels unchanged.
//!
//! Renditions are made from the decoded, upright image: each configured width no wider
//! than the original (the original's own width when it is narrower than all of them),
//! the largest from the original and each smaller one from the one above it (Lanczos3,
//! SIMD, `fast_image_resize`), encoded as WebP (libwebp, quality 80) and JPEG
//! (`jpeg-encoder`, quality 80) on every core. An animated GIF's renditions show its
//! first frame.

use std::io::Cursor;

use fast_image_resize as fr;
use image::{DynamicImage, ImageDecoder, ImageFormat};

/// The formats newsdesk accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl Format {
    /// Reads the type from the first bytes of a file (whatever its name says).
    pub fn sniff(head: &[u8]) -> Option<Self> {
        match head {
            [0xFF, 0xD8, 0xFF, ..] => Some(Format::Jpeg),
            [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(Format::Png),
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                ..,
            ] => Some(Format::Webp),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(Format::Gif),
            _ => None,
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Gif => "gif",
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
            Format::Webp => ImageFormat::WebP,
            Format::Gif => ImageFormat::Gif,
        }
    }
}

/// Why an image was refused.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    #[error("the image is {width} × {height} pixels; at most {max} pixels are accepted")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("the file is not a readable image: {0}")]
    Unreadable(String),
}

impl From<image::ImageError> for PictureError {
    fn from(e: image::ImageError) -> Self {
        PictureError::Unreadable(e.to_string())
    }
}

/// One rendition, encoded.
#[derive(Debug, Clone)]
pub struct Rendition {
    pub width: u32,
    pub height: u32,
    /// `"webp"` or `"jpg"` (the file extension; the API says `jpeg`).
    pub ext: &'static str,
    pub bytes: Vec<u8>,
}

/// An image ready to store.
#[derive(Debug)]
pub struct Processed {
    pub format: Format,
    /// The original without its metadata, upright.
    pub stored: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// `#rrggbb`.
    pub dominant_color: String,
    /// A BlurHash string.
    pub placeholder: String,
    pub renditions: Vec<Rendition>,
}

/// The size in the image's header, without decoding it; refuses more than `max_pixels`.
pub fn check_size(
    bytes: &[u8],
    format: Format,
    max_pixels: u64,
) -> Result<(u32, u32), PictureError> {
    let decoder = decoder(bytes, format, max_pixels)?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, max_pixels)?;
    Ok((width, height))
}

fn check_pixels(width: u32, height: u32, max: u64) -> Result<(), PictureError> {
    if u64::from(width) * u64::from(height) > max {
        return Err(PictureError::TooManyPixels { width, height, max });
    }
    if width == 0 || height == 0 {
        return Err(PictureError::Unreadable("the image has no pixels".into()));
    }
    Ok(())
}

fn decoder(
    bytes: &[u8],
    format: Format,
    max_pixels: u64,
) -> Result<impl ImageDecoder + '_, PictureError> {
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut limits = image::Limits::default();
    // Room for the decoded image in its widest pixel type (16-bit RGBA), and no more.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).max(64 << 20));
    reader.limits(limits);
    Ok(reader.into_decoder()?)
}

/// Decodes an image upright, refusing more than `max_pixels` before decoding.
fn decode_upright(
    bytes: &[u8],
    format: Format,
    max_pixels: u64,
) -> Result<(DynamicImage, bool), PictureError> {
    let mut decoder = decoder(bytes, format, max_pixels)?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, max_pixels)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder)?;
    let turned = orientation != image::metadata::Orientation::NoTransforms;
    if turned {
        image.apply_orientation(orientation);
    }
    Ok((image, turned))
}

/// An image decoded upright, and its original as it will be stored.
pub struct Prepared {
    format: Format,
    image: DynamicImage,
    /// The original without its metadata, upright.
    pub stored: Vec<u8>,
}

/// Decodes an upload and takes its metadata off (the cheap half of the work: enough to
/// know the stored file's hash, so a duplicate can be skipped before renditions).
pub fn prepare(bytes: &[u8], format: Format, max_pixels: u64) -> Result<Prepared, PictureError> {
    let (image, turned) = decode_upright(bytes, format, max_pixels)?;
    let stored = if turned {
        encode_original(&image, format)?
    } else {
        strip(bytes, format)?
    };
    Ok(Prepared {
        format,
        image,
        stored,
    })
}

/// Makes the renditions, placeholder and colour of a prepared image.
pub fn finish(prepared: Prepared, widths: &[u32]) -> Processed {
    let (width, height) = (prepared.image.width(), prepared.image.height());
    let made = renditions(prepared.image, widths);
    Processed {
        format: prepared.format,
        width,
        height,
        stored: prepared.stored,
        dominant_color: made.dominant_color,
        placeholder: made.placeholder,
        renditions: made.renditions,
    }
}

/// Processes an upload: see the module documentation.
pub fn process(
    bytes: &[u8],
    format: Format,
    widths: &[u32],
    max_pixels: u64,
) -> Result<Processed, PictureError> {
    Ok(finish(prepare(bytes, format, max_pixels)?, widths))
}

/// Renditions, placeholder and colour of a stored original (for a rebuild after the
/// configured widths change).
pub fn remake(stored: &[u8], widths: &[u32], max_pixels: u64) -> Result<Processed, PictureError> {
    let format = Format::sniff(stored)
        .ok_or_else(|| PictureError::Unreadable("not an image newsdesk stores".into()))?;
    let (image, _) = decode_upright(stored, format, max_pixels)?;
    let (width, height) = (image.width(), image.height());
    let made = renditions(image, widths);
    Ok(Processed {
        format,
        stored: Vec::new(),
        width,
        height,
        dominant_color: made.dominant_color,
        placeholder: made.placeholder,
        renditions: made.renditions,
    })
}

/// An upright image encoded again in its own format (rotation made the original's bytes
/// unusable as they were).
fn encode_original(image: &DynamicImage, format: Format) -> Result<Vec<u8>, PictureError> {
    let mut out = Vec::new();
    match format {
        Format::Jpeg => {
            let rgb = image.to_rgb8();
            encode_jpeg(&mut out, rgb.as_raw(), rgb.width(), rgb.height(), 92)?;
        }
        Format::Webp => {
            let rgba = image.to_rgba8();
            out = webp::Encoder::from_rgba(rgba.as_raw(), rgba.width(), rgba.height())
                .encode(90.0)
                .to_vec();
        }
        // PNG and GIF carry no orientation that the decoders apply; PNG's eXIf can.
        Format::Png | Format::Gif => {
            image
                .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
                .map_err(PictureError::from)?;
        }
    }
    Ok(out)
}

fn encode_jpeg(
    out: &mut Vec<u8>,
    rgb: &[u8],
    width: u32,
    height: u32,
    quality: u8,
) -> Result<(), PictureError> {
    let too_wide = || PictureError::Unreadable("the image is wider than JPEG allows".into());
    let w = u16::try_from(width).map_err(|_| too_wide())?;
    let h = u16::try_from(height).map_err(|_| too_wide())?;
    jpeg_encoder::Encoder::new(out, quality)
        .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| PictureError::Unreadable(format!("cannot encode JPEG: {e}")))
}

/// The original's bytes without metadata.
pub fn strip(bytes: &[u8], format: Format) -> Result<Vec<u8>, PictureError> {
    match format {
        Format::Jpeg => strip_jpeg(bytes),
        Format::Png => strip_png(bytes),
        Format::Webp => strip_webp(bytes),
        Format::Gif => strip_gif(bytes),
    }
}

/// PNG chunks that describe pixels; every other chunk (text, EXIF, time, unknown
/// private chunks) is left out.
const PNG_KEPT: &[&[u8; 4]] = &[
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT", b"cICP",
];

fn strip_png(bytes: &[u8]) -> Result<Vec<u8>, PictureError> {
    let mut png = img_parts::png::Png::from_bytes(bytes::Bytes::copy_from_slice(bytes))
        .map_err(|e| PictureError::Unreadable(format!("PNG: {e}")))?;
    png.chunks_mut()
        .retain(|c| PNG_KEPT.iter().any(|k| **k == c.kind()));
    Ok(png.encoder().bytes().to_vec())
}

fn strip_webp(bytes: &[u8]) -> Result<Vec<u8>, PictureError> {
    use img_parts::ImageEXIF;
    let mut webp = img_parts::webp::WebP::from_bytes(bytes::Bytes::copy_from_slice(bytes))
        .map_err(|e| PictureError::Unreadable(format!("WebP: {e}")))?;
    webp.remove_chunks_by_id(*b"XMP ");
    // Removes the EXIF chunk and sets the header's flags to what is left.
    webp.set_exif(None);
    Ok(webp.encoder().bytes().to_vec())
}

fn strip_gif(bytes: &[u8]) -> Result<Vec<u8>, PictureError> {
    let unreadable = |e: &dyn std::fmt::Display| PictureError::Unreadable(format!("GIF: {e}"));
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let mut decoder = options.read_info(bytes).map_err(|e| unreadable(&e))?;
    let mut out = Vec::new();
    {
        let palette = decoder.global_palette().unwrap_or(&[]).to_vec();
        let mut encoder = gif::Encoder::new(&mut out, decoder.width(), decoder.height(), &palette)
            .map_err(|e| unreadable(&e))?;
        encoder
            .set_repeat(decoder.repeat())
            .map_err(|e| unreadable(&e))?;
        while let Some(frame) = decoder.read_next_frame().map_err(|e| unreadable(&e))? {
            encoder.write_frame(frame).map_err(|e| unreadable(&e))?;
        }
    }
    Ok(out)
}

/// A JPEG's segments, keeping what describes the pixels (tables, frame, scans, JFIF,
/// the ICC colour profile, Adobe's colour transform) and dropping every other APPn
/// segment (EXIF, XMP, IPTC, MPF, maker data), comments, and everything after the end
/// of the image.
fn strip_jpeg(bytes: &[u8]) -> Result<Vec<u8>, PictureError> {
    let bad = || PictureError::Unreadable("JPEG: truncated or malformed segment".into());
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut at = 2;
    let mut in_scan = false;
    while at < bytes.len() {
        if in_scan {
            // Entropy-coded data: copy up to the next marker that is not stuffing or a
            // restart marker.
            let start = at;
            while at + 1 < bytes.len()
                && (bytes[at] != 0xFF || matches!(bytes[at + 1], 0x00 | 0xD0..=0xD7 | 0xFF))
            {
                at += 1;
            }
            if at + 1 >= bytes.len() {
                return Err(bad());
            }
            out.extend_from_slice(&bytes[start..at]);
            in_scan = false;
            continue;
        }
        if bytes[at] != 0xFF {
            return Err(bad());
        }
        let marker = bytes[at + 1..]
            .iter()
            .copied()
            .find(|b| *b != 0xFF)
            .ok_or_else(bad)?;
        while bytes[at + 1] == 0xFF {
            at += 1;
        }
        at += 2;
        match marker {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(out);
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            _ => {}
        }
        let len = bytes
            .get(at..at + 2)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
            .filter(|l| *l >= 2)
            .ok_or_else(bad)?;
        let segment = bytes.get(at..at + len).ok_or_else(bad)?;
        let payload = &segment[2..];
        let kept = match marker {
            0xE0 => payload.starts_with(b"JFIF\0"),
            0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
            0xEE => payload.starts_with(b"Adobe"),
            0xE1 | 0xE3..=0xED | 0xEF | 0xFE => false,
            _ => true,
        };
        if kept {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(segment);
        }
        at += len;
        in_scan = marker == 0xDA;
    }
    Err(bad())
}

struct Made {
    renditions: Vec<Rendition>,
    dominant_color: String,
    placeholder: String,
}

/// The rendition widths for an image `width` wide: the configured ones it reaches, or
/// its own width when it is narrower than all of them.
pub fn widths_for(width: u32, configured: &[u32]) -> Vec<u32> {
    let mut widths: Vec<u32> = configured.iter().copied().filter(|w| *w <= width).collect();
    widths.sort_unstable();
    widths.dedup();
    if widths.is_empty() {
        widths.push(width);
    }
    widths
}

fn height_at(width: u32, image: (u32, u32)) -> u32 {
    let h = (u64::from(width) * u64::from(image.1) + u64::from(image.0) / 2) / u64::from(image.0);
    u32::try_from(h).unwrap_or(u32::MAX).max(1)
}

/// Takes the decoded image by value: it is freed once the largest rendition is made
/// from it, before any encoding starts (the peak is then the decoded image, the
/// resizer's intermediate rows and the largest rendition, not all of them plus the
/// encoders' buffers).
fn renditions(image: DynamicImage, configured: &[u32]) -> Made {
    let size = (image.width(), image.height());
    // Most photos decode to 8-bit RGB: taken as they are (a 12 MP copy is 36 MB).
    let rgb = match image {
        DynamicImage::ImageRgb8(rgb) => rgb,
        other => other.to_rgb8(),
    };
    let mut rgb = Some(rgb);
    let widths = widths_for(size.0, configured);
    // Largest first, each from the one above it.
    let mut sized: Vec<(u32, u32, Vec<u8>)> = Vec::with_capacity(widths.len());
    let mut resizer = fr::Resizer::new();
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    for &w in widths.iter().rev() {
        let h = height_at(w, size);
        let pixels = match (sized.last(), rgb.take()) {
            (_, Some(original)) if (w, h) == size => original.into_raw(),
            (_, Some(original)) => resize(
                &mut resizer,
                &options,
                (size.0, size.1, original.as_raw()),
                (w, h),
            ),
            (Some((pw, ph, buf)), None) => resize(&mut resizer, &options, (*pw, *ph, buf), (w, h)),
            (None, None) => break,
        };
        sized.push((w, h, pixels));
    }
    let smallest = sized.last().map(|(w, h, b)| (*w, *h, b.as_slice()));
    let (dominant_color, placeholder) = match smallest {
        Some(s) => summary(&mut resizer, &options, s),
        None => ("#000000".into(), String::new()),
    };
    let jobs: Vec<(usize, &'static str)> = (0..sized.len())
        .flat_map(|i| [(i, "webp"), (i, "jpg")])
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let mut done: Vec<Rendition> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let j = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(i, ext)) = jobs.get(j) else {
                            break mine;
                        };
                        let (w, h, buf) = &sized[i];
                        let bytes = if ext == "webp" {
                            webp::Encoder::from_rgb(buf, *w, *h).encode(80.0).to_vec()
                        } else {
                            let mut out = Vec::new();
                            // The width fits (it is at most the original's, decoded).
                            if encode_jpeg(&mut out, buf, *w, *h, 80).is_err() {
                                continue;
                            }
                            out
                        };
                        mine.push(Rendition {
                            width: *w,
                            height: *h,
                            ext,
                            bytes,
                        });
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    done.sort_by_key(|r| (r.width, r.ext != "webp"));
    drop(sized);
    // What this image's buffers freed below the big-block size is given back now,
    // rather than kept for reuse at the top of the heap (see `crate::memory`).
    crate::memory::give_back();
    Made {
        renditions: done,
        dominant_color,
        placeholder,
    }
}

fn resize(
    resizer: &mut fr::Resizer,
    options: &fr::ResizeOptions,
    (sw, sh, src): (u32, u32, &[u8]),
    (w, h): (u32, u32),
) -> Vec<u8> {
    let Ok(src) = fr::images::ImageRef::new(sw, sh, src, fr::PixelType::U8x3) else {
        return vec![0; (w * h * 3) as usize];
    };
    let mut dst = fr::images::Image::new(w, h, fr::PixelType::U8x3);
    // Same pixel type on both sides: resizing cannot fail.
    let _ = resizer.resize(&src, &mut dst, options);
    dst.into_vec()
}

/// The dominant colour (`#rrggbb`: the most common colour, in coarse bins, averaged
/// over its bin) and a 4×3 BlurHash, from a thumbnail of the smallest rendition.
fn summary(
    resizer: &mut fr::Resizer,
    options: &fr::ResizeOptions,
    (w, h, pixels): (u32, u32, &[u8]),
) -> (String, String) {
    let tw = w.min(32);
    let th = height_at(tw, (w, h)).min(64);
    let thumb = resize(resizer, options, (w, h, pixels), (tw, th));
    let mut bins = vec![(0u32, [0u64; 3]); 4096];
    for px in thumb.chunks_exact(3) {
        let bin = (usize::from(px[0] >> 4) << 8)
            | (usize::from(px[1] >> 4) << 4)
            | usize::from(px[2] >> 4);
        bins[bin].0 += 1;
        for (sum, value) in bins[bin].1.iter_mut().zip(px) {
            *sum += u64::from(*value);
        }
    }
    let (count, sums) = bins
        .iter()
        .max_by_key(|(n, _)| *n)
        .copied()
        .unwrap_or_default();
    let count = u64::from(count.max(1));
    let colour = format!(
        "#{:02x}{:02x}{:02x}",
        sums[0] / count,
        sums[1] / count,
        sums[2] / count
    );
    let rgba: Vec<u8> = thumb
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    let hash = blurhash::encode(4, 3, tw, th, &rgba).unwrap_or_default();
    (colour, hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_reads_the_bytes() {
        assert_eq!(Format::sniff(b"\xFF\xD8\xFF\xE0rest"), Some(Format::Jpeg));
        assert_eq!(Format::sniff(b"\x89PNG\r\n\x1a\nrest"), Some(Format::Png));
        assert_eq!(Format::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::Webp));
        assert_eq!(Format::sniff(b"GIF89a"), Some(Format::Gif));
        assert_eq!(Format::sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(Format::sniff(b"<svg xmlns="), None);
        assert_eq!(Format::sniff(b""), None);
    }

    #[test]
    fn widths_never_exceed_the_original() {
        let configured = [320, 640, 1024, 1600, 2400];
        assert_eq!(widths_for(4000, &configured), configured.to_vec());
        assert_eq!(widths_for(1024, &configured), vec![320, 640, 1024]);
        assert_eq!(widths_for(200, &configured), vec![200]);
        assert_eq!(height_at(320, (4000, 3000)), 240);
        assert_eq!(height_at(320, (10_000, 1)), 1);
    }

    #[test]
    fn jpeg_metadata_and_trailing_images_are_dropped() {
        let mut pixels = image::RgbImage::new(16, 8);
        pixels.put_pixel(3, 3, image::Rgb([200, 10, 10]));
        let mut plain = Vec::new();
        encode_jpeg(&mut plain, pixels.as_raw(), 16, 8, 90).unwrap();
        // An EXIF segment after SOI, a comment, and a second image after EOI.
        let mut tagged = vec![0xFF, 0xD8];
        let exif = b"Exif\0\0GPS-secret";
        tagged.extend_from_slice(&[0xFF, 0xE1]);
        tagged.extend_from_slice(&u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
        tagged.extend_from_slice(exif);
        tagged.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x08]);
        tagged.extend_from_slice(b"secret");
        tagged.extend_from_slice(&plain[2..]);
        tagged.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x0A]);
        tagged.extend_from_slice(b"GPS-more");
        let stripped = strip_jpeg(&tagged).unwrap();
        let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        assert!(!contains(&stripped, b"secret") && !contains(&stripped, b"GPS"));
        assert!(stripped.ends_with(&[0xFF, 0xD9]));
        let back = image::load_from_memory(&stripped).unwrap();
        assert_eq!((back.width(), back.height()), (16, 8));
        assert!(strip_jpeg(&tagged[..tagged.len() / 2]).is_err());
    }
}
