// Jest transform for the ESM-only packages in node_modules (the whole @nestjs/* 12 line and
// file-type, which @nestjs/common loads). The app runs as CommonJS and Node >= 20.19 loads those
// packages through require(esm), but Jest's module runtime supports require(esm) only on Node
// >= 24.9: on Node 20 and 22 it throws "Must use import to load ES Module". So under Jest alone
// these files are compiled to CommonJS. `import.meta` has no CommonJS form, so its four uses in
// those packages (and the `require` some of them build from it) are given their CommonJS equivalents first.
const { createHash } = require('node:crypto');
const ts = require('typescript');

const IMPORT_META = [
  // `const require = createRequire(import.meta.url)`: CommonJS has its own `require`.
  [/^const require = createRequire\(import\.meta\.url\);$/gm, ''],
  [/import\.meta\.url/g, "require('node:url').pathToFileURL(__filename).href"],
  [/import\.meta\.dirname/g, '__dirname'],
  [/import\.meta\.filename/g, '__filename'],
  [
    /import\.meta\.resolve/g,
    "((specifier) => require('node:url').pathToFileURL(require.resolve(specifier)).href)",
  ],
];

const VERSION = '2';

module.exports = {
  getCacheKey(source, filename) {
    return createHash('sha1')
      .update(VERSION)
      .update(ts.version)
      .update(filename)
      .update(source)
      .digest('hex');
  },
  process(source, filename) {
    let code = source;
    for (const [pattern, replacement] of IMPORT_META) code = code.replace(pattern, replacement);
    const out = ts.transpileModule(code, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        allowJs: true,
        esModuleInterop: true,
      },
    });
    return { code: out.outputText };
  },
};
