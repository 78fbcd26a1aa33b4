// sharp making what newsdesk makes of each photo: upright, metadata removed, WebP and
// JPEG (quality 80) at every configured width no wider than the original. Each file is
// read once and its outputs made together (clone()), sharp's fastest use.
// Usage: node sharp.mjs WIDTHS FILE...   Prints JSON: seconds per file and peak RSS.
import sharp from "sharp";

const widths = process.argv[2].split(",").map(Number);
const files = process.argv.slice(3);
const seconds = [];
for (const file of files) {
  const started = process.hrtime.bigint();
  const input = sharp(file).rotate();
  const { width } = await input.metadata();
  const jobs = widths
    .filter((w) => w <= width)
    .flatMap((w) => [
      input.clone().resize(w).webp({ quality: 80 }).toBuffer(),
      input.clone().resize(w).jpeg({ quality: 80 }).toBuffer(),
    ]);
  await Promise.all(jobs);
  seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
}
console.log(JSON.stringify({ seconds, max_rss_kb: process.resourceUsage().maxRSS }));
