// What both apps' Vite builds share: Vue, an output folder under web/dist
// that the `web` component embeds, and brotli + gzip copies of every file
// that compresses well, made here so the component only picks one.
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';

const COMPRESSIBLE = /\.(html|js|mjs|css|svg|json|webmanifest|txt)$/;

function precompress() {
  return {
    name: 'wangjie-precompress',
    apply: 'build',
    // After the files are written: earlier hooks still see placeholders
    // that Vite fills in last (its preload helper's), and a copy made from
    // them would differ from the file it stands for.
    writeBundle(options, bundle) {
      for (const fileName of Object.keys(bundle)) {
        if (!COMPRESSIBLE.test(fileName)) continue;
        const path = join(options.dir, fileName);
        const source = readFileSync(path);
        if (source.length < 512) continue;
        const br = brotliCompressSync(source, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: source.length },
        });
        writeFileSync(`${path}.br`, br);
        writeFileSync(`${path}.gz`, gzipSync(source, { level: 9 }));
      }
    },
  };
}

/** The Vite configuration of the app in web/<dir>, served under `base`. */
export function appConfig(dir, base, outDir) {
  const root = fileURLToPath(new URL(`../${dir}/`, import.meta.url));
  return {
    root,
    base,
    plugins: [vue(), precompress()],
    resolve: { alias: { '@common': fileURLToPath(new URL('./', import.meta.url)) } },
    build: {
      outDir: fileURLToPath(new URL(`../dist/${outDir}/`, import.meta.url)),
      emptyOutDir: true,
      // Nothing inlined as a data: URL beyond what CSP's img-src allows.
      assetsInlineLimit: 0,
      chunkSizeWarningLimit: 1200,
    },
  };
}
