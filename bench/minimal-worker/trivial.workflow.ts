// The floor of a Temporal worker's footprint: one workflow that returns its input.
export async function trivial(input: string): Promise<string> {
  return input;
}
