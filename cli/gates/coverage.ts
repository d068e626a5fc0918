// The codemap gate: the agent files describe the repository as it is. Every tracked file belongs to
// exactly one module and matches a route; every module path and generated glob matches files; every
// route names existing gates and the owner of the files it routes; every gate's script exists; the
// modules' import allowances respect the layer order.
import { minimatch } from 'minimatch';
import { layerIndex, modulesOf, routesOf, type AgentFiles } from './agent-files.ts';

export interface CoverageProblem {
  where: string;
  message: string;
}

/** Every way the agent files disagree with the repository's `files` and `scripts` (package.json). */
export function checkCoverage(agent: AgentFiles, files: string[], scripts: Record<string, string>): CoverageProblem[] {
  const problems: CoverageProblem[] = [];
  const { codemap, routing, gates } = agent;
  const modules = Object.keys(codemap.modules);
  const add = (where: string, message: string) => problems.push({ where, message });

  for (const file of files) {
    const owners = modulesOf(codemap, file);
    if (owners.length === 0) add(file, 'belongs to no module in agent/codemap.yml');
    if (owners.length > 1)
      add(file, `belongs to ${owners.length} modules (${owners.join(', ')}); a file has one owner`);
    const routes = routesOf(routing, file);
    if (routes.length === 0) add(file, 'matches no route in agent/routing.yml: a change there would run no gates');
    const owner = owners.length === 1 ? codemap.modules[owners[0]!]!.owner : undefined;
    for (const route of routes) {
      if (owner && route.role !== owner) {
        add(file, `routed to role ${route.role}, but its module ${owners[0]} is owned by ${owner}`);
      }
    }
  }

  const anyFile = (patterns: string[]) => files.some((f) => patterns.some((p) => minimatch(f, p, { dot: true })));
  for (const [name, spec] of Object.entries(codemap.modules)) {
    for (const path of spec.paths) {
      if (!anyFile([path])) add(`modules.${name}`, `path ${path} matches no file`);
    }
    for (const other of [...spec.may_import, ...(spec.may_import_types ?? [])]) {
      if (!modules.includes(other)) add(`modules.${name}`, `may import ${other}, which is not a module`);
    }
  }
  for (const entry of codemap.generated) {
    if (!anyFile(entry.paths)) add('generated', `${entry.paths.join(', ')} matches no file`);
  }

  const layers = layerIndex(codemap);
  const layered = codemap.layers.flatMap((l) => l.modules);
  for (const module of layered) {
    if (!modules.includes(module)) add('layers', `${module} is not a module`);
    if (layered.filter((m) => m === module).length > 1) add('layers', `${module} is in more than one layer`);
  }
  for (const [name, spec] of Object.entries(codemap.modules)) {
    const from = layers.get(name);
    if (from === undefined) continue;
    for (const other of spec.may_import) {
      const to = layers.get(other);
      if (to !== undefined && to > from) {
        add(`modules.${name}`, `may import ${other}, from a later layer ("${codemap.layers[to]!.name}")`);
      }
      if (to === from && codemap.layers[from]!.isolated) {
        add(`modules.${name}`, `may import ${other}, but layer "${codemap.layers[from]!.name}" is isolated`);
      }
    }
  }

  const roles = new Set(Object.values(codemap.modules).map((m) => m.owner));
  const gateNames = Object.keys(gates.gates);
  for (const gate of routing.always) {
    if (!gateNames.includes(gate)) add('routing.always', `names gate ${gate}, which agent/gates.yml does not define`);
  }
  routing.routes.forEach((route, i) => {
    const where = `routing.routes[${i}] (${route.paths.join(', ')})`;
    if (!roles.has(route.role)) add(where, `role ${route.role} owns no module`);
    for (const gate of route.gates) {
      if (!gateNames.includes(gate)) add(where, `names gate ${gate}, which agent/gates.yml does not define`);
    }
    if (!anyFile(route.paths)) add(where, 'matches no file');
  });
  for (const [name, gate] of Object.entries(gates.gates)) {
    if (!scripts[gate.script])
      add(`gates.${name}`, `runs npm script ${gate.script}, which package.json does not define`);
  }
  return problems;
}
