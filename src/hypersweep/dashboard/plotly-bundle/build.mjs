// Build the dashboard's plotly.js bundle into ../static/vendor/plotly (see README.md).
// The esbuild settings are plotly.js's own (its esbuild-config.js), plus ES-module output
// split in two entries that share one chunk; one change: the only CSS plotly.js imports is
// maplibre's, for map traces we do not include, so it becomes an empty module (plotly's
// inline-CSS plugin would name it by a hash of its absolute path: the build would depend on
// where the checkout lives).
import { readFileSync, readdirSync, rmSync, mkdirSync, writeFileSync, copyFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import esbuild from "esbuild";
import { environmentPlugin } from "esbuild-plugin-environment";
import { glsl } from "esbuild-plugin-glsl";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static", "vendor", "plotly");
const plotly = JSON.parse(readFileSync(join(here, "node_modules", "plotly.js", "package.json")));

const noCSS = {
  name: "no-css",
  setup(build) {
    build.onResolve({ filter: /\.css$/ }, (args) => ({ path: args.path, namespace: "no-css" }));
    build.onLoad({ filter: /.*/, namespace: "no-css" }, () => ({ contents: "", loader: "js" }));
  },
};

mkdirSync(out, { recursive: true });
for (const name of readdirSync(out)) {    // the old build (README.md stays)
  if (name.endsWith(".js") || name === "manifest.json") rmSync(join(out, name));
}
const result = await esbuild.build({
  entryPoints: { base: join(here, "base.mjs"), gl: join(here, "gl.mjs") },
  outdir: out,
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  format: "esm",
  splitting: true,
  bundle: true,
  minify: true,
  metafile: true,
  legalComments: "eof",
  banner: { js: `/*! plotly.js v${plotly.version} (hypersweep partial bundle: core, scatter, bar | ` +
                  "parcoords, scatter3d) | Copyright 2012-2026, Plotly, Inc. | MIT license: LICENSE */" },
  plugins: [noCSS, glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
  alias: { regl: "@plotly/regl", stream: "stream-browserify" },
  define: { global: "window", "define.amd": "false" },
  target: "es2020",
  logLevel: "info",
});
const manifest = { "plotly.js": plotly.version, esbuild: esbuild.version };
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  if (!meta.entryPoint) continue;
  const name = basename(meta.entryPoint, ".mjs");
  manifest[name] = basename(file);
  // what the page may fetch alongside the entry (<link rel="modulepreload">)
  if (name === "base") manifest.preload = meta.imports.map((i) => basename(i.path));
}
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
copyFileSync(join(here, "node_modules", "plotly.js", "LICENSE"), join(out, "LICENSE"));
console.log(manifest, readdirSync(out));
