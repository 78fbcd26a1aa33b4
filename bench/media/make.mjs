// Draws the benchmark's photos: COUNT 12-megapixel JPEGs (4000 × 3000, quality 90, with
// EXIF) and one 4000 × 3000 PNG (smoother, like a map or chart), photo-like (blurred noise over a gradient, so they
// compress like pictures, not like flat colour). Usage: node make.mjs DIR COUNT
import sharp from "sharp";
import { mkdirSync } from "node:fs";

const [dir, count] = [process.argv[2], Number(process.argv[3] || 4)];
mkdirSync(dir, { recursive: true });
const [width, height] = [4000, 3000];

async function picture(seed, blur = 2.5) {
  const noise = await sharp({
    create: { width, height, channels: 3, noise: { type: "gaussian", mean: 110 + seed * 7, sigma: 40 } },
  })
    .blur(blur)
    .raw()
    .toBuffer();
  // A sky-to-ground gradient under the texture.
  for (let y = 0; y < height; y++) {
    const lift = Math.round((y / height) * 60) - 30;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      noise[i] = Math.max(0, Math.min(255, noise[i] - lift));
      noise[i + 2] = Math.max(0, Math.min(255, noise[i + 2] + lift));
    }
  }
  return sharp(noise, { raw: { width, height, channels: 3 } });
}

for (let i = 0; i < count; i++) {
  const img = await picture(i);
  await img
    .jpeg({ quality: 90 })
    .withExif({ IFD0: { Copyright: "newsdesk benchmark", Software: "make.mjs" } })
    .toFile(`${dir}/photo-${i + 1}.jpg`);
}
// A graphic: smoother than a photo, as charts and maps are, so it fits an upload.
await (await picture(count, 12)).png({ compressionLevel: 6 }).toFile(`${dir}/graphic.png`);
console.log(`drew ${count} JPEGs and 1 PNG of ${width} x ${height} in ${dir}`);
