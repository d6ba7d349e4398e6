import { brokerMatrix } from './matrix';

brokerMatrix('kafka');
