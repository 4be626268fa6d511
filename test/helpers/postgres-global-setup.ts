import { dropRunSchemas } from './postgres.js';

/** Vitest global setup of the postgres project: leaves no schema of this run behind. */
export default function setup(): () => Promise<void> {
  return () => dropRunSchemas();
}
