// The saga benchmark's baseline activity: returns at once.
export const noopActivities = {
  async noop(step: number): Promise<number> {
    return step;
  },
};
export type NoopActivities = typeof noopActivities;
