import { faultsUnderLoad, shutdownInFlight } from './faults';
import { brokerMatrix } from './matrix';

brokerMatrix('rabbitmq', (server) => {
  describe('faults', () => {
    shutdownInFlight('rabbitmq', server);
    faultsUnderLoad('rabbitmq', server);
  });
});
