// The contract between the entry point (src/cli.ts) and each command module.
import type { Config } from '../config.js';
import type { ExitCode } from '../errors.js';

export interface Io {
  /** Data only: a --json document, or the human answer. */
  stdout: (text: string) => void;
  /** Messages, progress, warnings. */
  stderr: (text: string) => void;
  /** True when stdin and stdout are a terminal (confirmation prompts are allowed). */
  interactive: boolean;
}

export interface Context {
  json: boolean;
  color: boolean;
  config: Config;
  /** The process environment, as given to main(); read only through config, except for
   * passing it on to child processes. */
  env: Readonly<Record<string, string | undefined>>;
  io: Io;
  /** Path of bin/pink.js, for commands that start the engine as a child process. */
  bin: string;
}

export interface CommandResult {
  exit: ExitCode;
  /** The --json document (printed as one JSON document on stdout). */
  data: unknown;
  /** The human rendering of the same facts (printed on stdout without --json). */
  text: string;
}

/** Every command module exports `run` with this shape. */
export type CommandRun = (
  ctx: Context,
  args: string[],
  opts: Record<string, unknown>,
) => Promise<CommandResult>;
