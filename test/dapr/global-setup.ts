/** Placeholder: replaced by the sidecar build step. */
export default async function globalSetup(): Promise<void> {}
