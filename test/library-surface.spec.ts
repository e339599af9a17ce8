import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

/**
 * What the published package needs at run time is what its entries import, file by file: every
 * package so reached must be a dependency or a peer of package.json (a devDependency is absent
 * in a host app), and `@nestjs/swagger` (an optional peer) is loaded only by
 * src/common/openapi.ts, which does without it. test/consumers.e2e-spec.ts proves the same by
 * installing the tarball; this finds the offending import in seconds.
 */

const ROOT = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  exports: Record<string, { types: string; default: string } | string>;
};
const ENTRIES = ['src/sessions/index.ts', 'packages/embedded-mongo/src/index.ts'];

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Every package imported by the files reachable from `entry`, with the files importing it. */
function importsReachableFrom(entry: string): Map<string, Set<string>> {
  return walk(entry).packages;
}

function walk(entry: string): { packages: Map<string, Set<string>>; files: string[] } {
  const packages = new Map<string, Set<string>>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of info.importedFiles) {
      if (specifier.startsWith('.')) {
        const base = resolve(dirname(file), specifier);
        const target = [`${base}.ts`, join(base, 'index.ts')].find(
          (candidate) => existsSync(candidate) && statSync(candidate).isFile(),
        );
        if (!target) throw new Error(`${relative(ROOT, file)}: cannot resolve ${specifier}`);
        visit(target);
      } else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) {
        const name = packageOf(specifier);
        if (!packages.has(name)) packages.set(name, new Set());
        packages.get(name)!.add(relative(ROOT, file));
      }
    }
  };
  visit(join(ROOT, entry));
  return { packages, files: [...seen].map((file) => relative(ROOT, file)) };
}

describe('the published library surface', () => {
  it.each(ENTRIES)('%s imports only dependencies and peers of the package', (entry) => {
    const allowed = new Set([
      ...Object.keys(pkg.dependencies),
      ...Object.keys(pkg.peerDependencies),
    ]);
    const strays = [...importsReachableFrom(entry)]
      .filter(([name]) => !allowed.has(name) && !allowed.has(`@types/${name}`))
      .map(([name, files]) => `${name} (imported by ${[...files].join(', ')})`);
    expect(strays).toEqual([]);
  });

  it.each(ENTRIES)('%s reaches only files the package ships (not the app’s config/)', (entry) => {
    const outside = walk(entry).files.filter(
      (file) => !/^(src|packages\/embedded-mongo\/src)\//.test(file) || file === 'src/main.ts',
    );
    expect(outside).toEqual([]);
  });

  it('loads the optional peers only where their absence is handled', () => {
    const optional = Object.entries(pkg.peerDependenciesMeta)
      .filter(([, meta]) => meta.optional)
      .map(([name]) => name);
    const imports = importsReachableFrom(ENTRIES[0]);
    // @types/* peers are types only: what imports `express` must do so with `import type`.
    expect([...(imports.get('@nestjs/swagger') ?? [])]).toEqual(['src/common/openapi.ts']);
    for (const file of imports.get('express') ?? []) {
      const source = readFileSync(join(ROOT, file), 'utf8');
      expect(source).not.toMatch(/^import (?!type )[^;]*from 'express'/m);
    }
    expect(optional.sort()).toEqual(['@nestjs/swagger', '@types/express']);
  });

  it('exports the module entry and the engine, built with declarations', () => {
    expect(pkg.exports['.']).toEqual({
      types: './dist/src/sessions/index.d.ts',
      default: './dist/src/sessions/index.js',
    });
    expect(pkg.exports['./embedded-mongo']).toEqual({
      types: './dist/packages/embedded-mongo/src/index.d.ts',
      default: './dist/packages/embedded-mongo/src/index.js',
    });
    const build = ts.readConfigFile(join(ROOT, 'tsconfig.build.json'), ts.sys.readFile).config as {
      compilerOptions: { declaration?: boolean };
    };
    expect(build.compilerOptions.declaration).toBe(true);
  });
});
