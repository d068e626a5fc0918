// The boundary gate: every import of production code, read with the TypeScript compiler's own
// parser, must be allowed by agent/codemap.yml — the importing module's `may_import` (values) or
// `may_import_types` (types only), its package rule, and the layer order. Value imports between
// modules must not form a cycle. Test files (*.test.ts) are exempt: tests may reach anywhere.
import { builtinModules } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { minimatch } from 'minimatch';
import ts from 'typescript';
import { layerIndex, modulesOf, type Codemap } from './agent-files.ts';

export interface ImportEdge {
  file: string;
  line: number;
  specifier: string;
  typeOnly: boolean;
  /** The repository file a relative specifier resolves to. */
  target?: string;
  /** The package (or `node:<builtin>`) a bare specifier names. */
  packageName?: string;
}

export interface Violation {
  file: string;
  line: number;
  message: string;
}

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const TEST = /\.test\.ts$/;
const BUILTINS = new Set(builtinModules);

/** Whether the boundary rules apply to `file` (production source, not a test). */
export function isProductionSource(file: string): boolean {
  return SOURCE.test(file) && !TEST.test(file) && !file.endsWith('.d.ts');
}

function packageOf(specifier: string): string {
  if (specifier.startsWith('node:')) return specifier;
  const [first = '', second = ''] = specifier.split('/');
  if (BUILTINS.has(first)) return `node:${first}`;
  return first.startsWith('@') ? `${first}/${second}` : first;
}

/** Every import, re-export, dynamic import and require of one file, with whether it is type-only. */
export function importsOf(file: string, text: string, exists: (file: string) => boolean): ImportEdge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edges: ImportEdge[] = [];
  const add = (node: ts.Node, specifier: string, typeOnly: boolean) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    const edge: ImportEdge = { file, line, specifier, typeOnly };
    if (specifier.startsWith('.')) {
      const base = normalize(join(dirname(file), specifier));
      edge.target = [base, `${base}.ts`, join(base, 'index.ts')].find(exists) ?? base;
    } else {
      edge.packageName = packageOf(specifier);
    }
    edges.push(edge);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allTypes =
        !!clause &&
        (clause.isTypeOnly ||
          (!clause.name &&
            !!named &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((e) => e.isTypeOnly)));
      add(node, node.moduleSpecifier.text, allTypes);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause;
      const allTypes =
        node.isTypeOnly ||
        (!!clause &&
          ts.isNamedExports(clause) &&
          clause.elements.length > 0 &&
          clause.elements.every((e) => e.isTypeOnly));
      add(node, node.moduleSpecifier.text, allTypes);
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument) && ts.isStringLiteral(argument.literal))
        add(node, argument.literal.text, true);
    } else if (
      ts.isCallExpression(node) &&
      node.arguments.length === 1 &&
      ts.isStringLiteral(node.arguments[0]!) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
    ) {
      add(node, node.arguments[0].text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

const packageAllowed = (rule: NonNullable<Codemap['modules'][string]['packages']>, pkg: string) => {
  const hit = (patterns: string[]) => patterns.some((p) => minimatch(pkg, p));
  return 'only' in rule ? hit(rule.only) : !hit(rule.not);
};

/** Every boundary violation in `files` (repository-relative paths), reading each with `read`. */
export function checkBoundaries(
  codemap: Codemap,
  files: string[],
  read: (file: string) => string,
  exists: (file: string) => boolean,
): Violation[] {
  const violations: Violation[] = [];
  const layers = layerIndex(codemap);
  const isolatedLayers = new Set(codemap.layers.flatMap((layer, i) => (layer.isolated ? [i] : [])));
  const valueEdges = new Map<string, Map<string, ImportEdge>>();

  for (const file of files.filter(isProductionSource)) {
    const [owner] = modulesOf(codemap, file);
    if (!owner) continue; // the codemap gate reports files outside every module
    const spec = codemap.modules[owner]!;
    for (const edge of importsOf(file, read(file), exists)) {
      const at = { file, line: edge.line };
      if (edge.packageName) {
        if (spec.packages && !packageAllowed(spec.packages, edge.packageName)) {
          const rule =
            'only' in spec.packages ? `only ${spec.packages.only.join(', ')}` : `not ${spec.packages.not.join(', ')}`;
          violations.push({ ...at, message: `module ${owner} may not use ${edge.packageName} (packages: ${rule})` });
        }
        continue;
      }
      const [target] = modulesOf(codemap, edge.target!);
      if (!target) {
        violations.push({ ...at, message: `imports ${edge.specifier}, which is outside every module` });
        continue;
      }
      if (target === owner) continue;
      const how = edge.typeOnly ? 'types from' : 'values from';
      const allowed = spec.may_import.includes(target) || (edge.typeOnly && !!spec.may_import_types?.includes(target));
      if (!allowed) {
        const hint =
          !edge.typeOnly && spec.may_import_types?.includes(target)
            ? ` (it may import only types from ${target}: use \`import type\`)`
            : ` (module ${owner} may import: ${spec.may_import.join(', ') || 'nothing'})`;
        violations.push({ ...at, message: `module ${owner} imports ${how} ${target} (${edge.specifier})${hint}` });
        continue;
      }
      if (edge.typeOnly) continue;
      const from = layers.get(owner);
      const to = layers.get(target);
      if (from !== undefined && to !== undefined) {
        if (to > from) {
          violations.push({
            ...at,
            message: `module ${owner} imports ${target} from a later layer (${edge.specifier})`,
          });
        } else if (to === from && isolatedLayers.has(from)) {
          violations.push({
            ...at,
            message: `module ${owner} imports ${target}; modules of layer "${codemap.layers[from]!.name}" never import each other`,
          });
        }
      }
      const out = valueEdges.get(owner) ?? new Map<string, ImportEdge>();
      if (!out.has(target)) out.set(target, edge);
      valueEdges.set(owner, out);
    }
  }

  for (const cycle of moduleCycles(valueEdges)) {
    const witness = cycle.map((m, i) => valueEdges.get(m)!.get(cycle[(i + 1) % cycle.length]!)!);
    violations.push({
      file: witness[0]!.file,
      line: witness[0]!.line,
      message: `import cycle between modules ${[...cycle, cycle[0]].join(' → ')} (${witness.map((e) => `${e.file}:${e.line}`).join(', ')})`,
    });
  }
  return violations;
}

/** Strongly connected components of more than one module (Tarjan), each as a cycle path. */
function moduleCycles(edges: Map<string, Map<string, ImportEdge>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(orderAsCycle(component, edges));
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) connect(v);
  return cycles;
}

/** A path through a strongly connected component that returns to its start. */
function orderAsCycle(component: string[], edges: Map<string, Map<string, ImportEdge>>): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0]!;
  const path = [start];
  const seen = new Set(path);
  const walk = (v: string): boolean => {
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!members.has(w)) continue;
      if (w === start && path.length > 1) return true;
      if (seen.has(w)) continue;
      path.push(w);
      seen.add(w);
      if (walk(w)) return true;
      path.pop();
      seen.delete(w);
    }
    return false;
  };
  walk(start);
  return path;
}
