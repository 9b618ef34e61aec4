// Builds ../wwwroot/ui from this folder: pages/*.njk rendered with the NHS.UK frontend
// Nunjucks macros, the NHS CSS compiled from its Sass (styles/), and the NHS JS and images
// copied. The output is committed, so running the service needs no npm step.
// Usage: npm ci --ignore-scripts && npm run build
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import * as sass from 'sass';

const here = dirname(fileURLToPath(import.meta.url));
const nhsuk = join(here, 'node_modules', 'nhsuk-frontend');
const { version } = JSON.parse(readFileSync(join(nhsuk, 'package.json'), 'utf8'));
const out = join(here, '..', 'wwwroot', 'ui');
const vendor = join(out, 'vendor');

rmSync(vendor, { recursive: true, force: true });
mkdirSync(join(vendor, 'assets'), { recursive: true });

const css = sass.compile(join(here, 'styles', 'nhsuk-frontend.scss'), {
  loadPaths: [join(here, 'node_modules')],
  style: 'compressed',
  quietDeps: true,
});
if (/url\((?!["']?assets\/)/.test(css.css) || css.css.includes('@font-face')) {
  throw new Error('The compiled CSS refers to something outside vendor/assets; check styles/nhsuk-frontend.scss.');
}
writeFileSync(join(vendor, 'nhsuk-frontend.min.css'), css.css);
copyFileSync(join(nhsuk, 'dist', 'nhsuk', 'nhsuk-frontend.min.js'), join(vendor, 'nhsuk-frontend.min.js'));
cpSync(join(nhsuk, 'dist', 'nhsuk', 'assets', 'images'), join(vendor, 'assets', 'images'), { recursive: true });
writeFileSync(join(vendor, 'VERSION.txt'),
  `nhsuk-frontend ${version} (MIT licence), built by src/Cpm.Api/Ui/build.mjs. Do not edit: run npm run build there.\n`);

const env = new nunjucks.Environment(
  new nunjucks.FileSystemLoader([join(here, 'pages'), join(nhsuk, 'dist')]),
  { autoescape: true, throwOnUndefined: false, trimBlocks: true, lstripBlocks: true },
);
for (const file of readdirSync(join(here, 'pages')).filter(name => name.endsWith('.njk') && !name.startsWith('_'))) {
  const html = env.render(file, { nhsukVersion: version })
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{2,}/g, '\n');
  writeFileSync(join(out, file.replace(/\.njk$/, '.html')), html);
}

console.log(`Built ${out} with nhsuk-frontend ${version}`);
