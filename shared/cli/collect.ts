/** commander collector for a repeatable `--machine <id>` (its own module: main.ts loads it eagerly). */
export function collectMachine(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
