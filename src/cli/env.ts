// The environment variables the CLI and `opsbase mcp` read (DESIGN §8). Not through src/config.ts: its zod schema
// costs ~65 ms to import, a third of the CLI's whole start-up budget, and it would also refuse to run a client
// because of a server-only variable (a bad PORT) the client never uses. These four need no schema.

export interface CliEnv {
  /** Only when set: a saved login's server wins over the default but not over an explicit OPSBASE_API_URL. */
  OPSBASE_API_URL?: string;
  OPSBASE_API_KEY?: string;
  XDG_CONFIG_HOME?: string;
  HOME?: string;
}

let cached: CliEnv | undefined;

/** Read once; an OPSBASE_API_URL that is not a URL is an error, as it would be for the server. */
export function cliEnv(): CliEnv {
  if (cached) return cached;
  const env = process.env;
  const url = env.OPSBASE_API_URL || undefined;
  if (url && !URL.canParse(url)) throw new Error(`OPSBASE_API_URL is not a URL: ${url}`);
  cached = {
    OPSBASE_API_URL: url,
    OPSBASE_API_KEY: env.OPSBASE_API_KEY || undefined,
    XDG_CONFIG_HOME: env.XDG_CONFIG_HOME || undefined,
    HOME: env.HOME || undefined,
  };
  return cached;
}
