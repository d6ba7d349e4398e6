import daprSetup from '../dapr/global-setup';
import logScanSetup from './log-scan-setup';

/** Global setup of the projects that run a real daprd: the log-scan run folder, then the sidecar binary. */
export default async function globalSetupWithSidecar(): Promise<void> {
  await logScanSetup();
  await daprSetup();
}
