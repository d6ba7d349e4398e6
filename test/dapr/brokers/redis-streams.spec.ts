import { faultsUnderLoad, shutdownInFlight } from './faults';
import { brokerMatrix } from './matrix';

brokerMatrix('redis-streams', (server) => {
  describe('faults', () => {
    shutdownInFlight('redis-streams', server);
    faultsUnderLoad('redis-streams', server);
  });
});
