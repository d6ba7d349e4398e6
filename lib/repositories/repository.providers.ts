/** The repository classes registered by `KugelCommsModule` (filled in with the repositories). */
export const REPOSITORY_PROVIDERS: Array<new (...args: never[]) => unknown> = [];
