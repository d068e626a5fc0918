// The committed replay fixtures: test/replay/histories/<workflowType>.<scenario>.<label>.sdk-<version>.json
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils.js';

export const HISTORIES_DIR = join(import.meta.dirname, 'histories');

export interface Fixture {
  file: string;
  workflowType: string;
  scenario: string;
  label: string;
  sdkVersion: string;
  history: History;
}

const NAME =
  /^(?<workflowType>[A-Za-z]+)\.(?<scenario>[a-z0-9.-]+)\.(?<label>[a-z0-9-]+)\.sdk-(?<sdkVersion>\d+\.\d+\.\d+)\.json$/;

export function loadFixtures(): Fixture[] {
  return readdirSync(HISTORIES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const match = NAME.exec(file);
      if (!match?.groups)
        throw new Error(`${file}: fixture names are <workflowType>.<scenario>.<label>.sdk-<version>.json`);
      const { workflowType, scenario, label, sdkVersion } = match.groups as Record<
        'workflowType' | 'scenario' | 'label' | 'sdkVersion',
        string
      >;
      return {
        file,
        workflowType,
        scenario,
        label,
        sdkVersion,
        history: historyFromJSON(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8'))),
      };
    });
}
