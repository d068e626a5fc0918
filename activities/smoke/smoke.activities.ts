// Activities for the smoke workflow; `echo` also says which worker answered.
export function createSmokeActivities(deps: { workerName: string }) {
  return {
    async echo(message: string): Promise<string> {
      return `${deps.workerName} echoed ${message}`;
    },
  };
}

export type SmokeActivities = ReturnType<typeof createSmokeActivities>;
